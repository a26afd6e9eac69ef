using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// Attention computed the way FlashAttention computes it, in fp64 and one step per line: the keys arrive in blocks,
/// and each query row keeps a running maximum m, a running sum l = sum_j e^(s_j - m) and a running output
/// o = sum_j e^(s_j - m) v_j over the keys seen so far (the online normaliser of Milakov and Gimelshein, 2018, carried
/// along with the output as in Rabe and Staats, 2021, and FlashAttention). No [queries x keys] matrix is ever built,
/// only one [queries x block] at a time.
/// </summary>
/// <remarks>
/// <para>For key block j (keys K_j, values V_j), with every row of the query block at once (FlashAttention-2, Dao, 2024,
/// Algorithm 1, lines 8 to 10 and 12, with one query block holding every query, T_r = 1; the 1/sqrt(d_k) scale and the
/// mask are added here, the algorithm leaves them out):</para>
/// <code>
/// S_j   = Q K_j^T / sqrt(d_k), minus infinity where masked     [queries x block]
/// m_new = max(m, rowmax(S_j))
/// P_j   = e^(S_j - m_new)                                     (0 where masked)
/// c     = e^(m - m_new)                                       the rescale factor, 1 when the block raises no maximum
/// l     = c l + rowsum(P_j)
/// O     = diag(c) O + P_j V_j
/// m     = m_new
/// </code>
/// <para>and after the last block O / l, row by row: O stays unnormalised and is divided by l once. FlashAttention-1
/// (Dao et al., 2022, Algorithm 1, lines 10 to 12) instead takes each block against its own maximum and keeps O
/// normalised after every block, O = diag(l_new)^-1 (diag(l) e^(m - m_new) O + e^(m_block - m_new) P V); it reaches the
/// same result with one more division per block. Every old term e^(s - m) becomes e^(s - m_new) by one
/// multiplication with c, so the result is exactly <see cref="ScaledDotProductAttention.Compute"/>'s softmax(S) V up to
/// rounding (<see cref="RoundingBound"/>), whatever the block size.</para>
/// <para>Masks follow the reference path's convention: a masked key gets weight 0, and a query whose keys are all
/// masked has l = 0 at the end and gets a zero output row (never NaN). Until a row has seen an allowed key its m is
/// minus infinity; its terms are then taken against 0 instead (they are all e^(-infinity) = 0) and c is 1, so
/// e^(-infinity - (-infinity)) never happens.</para>
/// </remarks>
public static class TiledAttention
{
    /// <summary>Runs tiled attention over key blocks of <paramref name="blockSize"/> keys (the last block may be shorter).</summary>
    /// <param name="queries">Q, shape [queries x d_k].</param>
    /// <param name="keys">K, shape [keys x d_k].</param>
    /// <param name="values">V, shape [keys x d_v].</param>
    /// <param name="blockSize">Keys per block, at least 1; 1 takes one key at a time, keys or more takes all in one block.</param>
    /// <param name="mask">Which keys each query may see, [queries x keys]; null shows every key.</param>
    /// <param name="scaled">Divide scores by sqrt(d_k) (the default).</param>
    /// <returns>The output O = softmax(S) V, shape [queries x d_v]; zero rows for fully masked queries.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit, the mask has the wrong size, an input is not finite, or scores overflow fp64.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The block size is below 1.</exception>
    public static Matrix<double> Compute(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, int blockSize, Mask? mask = null, bool scaled = true)
    {
        CheckInputs(queries, keys, values, blockSize, mask);
        return Run(queries, keys, values, blockSize, mask, scaled, observe: null);
    }

    /// <summary>
    /// The online softmax of one query row, block by block: for each key block its scores, its largest score, the
    /// running maximum before and after it, the rescale factor e^(m_old - m_new) and the running sum l after it.
    /// </summary>
    /// <param name="queries">Q, shape [queries x d_k].</param>
    /// <param name="keys">K, shape [keys x d_k].</param>
    /// <param name="values">V, shape [keys x d_v].</param>
    /// <param name="query">The query row to follow, 0 to queries - 1.</param>
    /// <param name="blockSize">Keys per block, at least 1.</param>
    /// <param name="mask">Which keys each query may see, [queries x keys]; null shows every key.</param>
    /// <param name="scaled">Divide scores by sqrt(d_k) (the default).</param>
    /// <returns>The steps and the row's output, which equals row <paramref name="query"/> of <see cref="Compute"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The query is not a row of Q, or the block size is below 1.</exception>
    public static OnlineSoftmaxTrace Trace(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, int query, int blockSize, Mask? mask = null, bool scaled = true)
    {
        CheckInputs(queries, keys, values, blockSize, mask);
        if ((uint)query >= (uint)queries.RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query, $"Q has {queries.RowCount} rows, so the query to follow is 0 to {queries.RowCount - 1}.");
        }

        // Rows do not interact: the one-row problem (that query, its row of the mask) runs exactly the same steps.
        var row = queries.SubMatrix(query, 1, 0, queries.ColumnCount);
        var rowMask = mask is null ? null : Mask.FromFunction(1, keys.RowCount, (_, key) => mask[query, key]);
        var blocks = new List<OnlineSoftmaxBlock>();
        var output = Run(row, keys, values, blockSize, rowMask, scaled, (first, scores, oldMax, newMax, rescale, sum) =>
            blocks.Add(new OnlineSoftmaxBlock(blocks.Count, first, [.. scores.Row(0)], oldMax[0], newMax[0], rescale[0], sum[0])));
        return new OnlineSoftmaxTrace(query, blockSize, blocks, output.Row(0));
    }

    /// <summary>
    /// The rescale factor c = e^(m_old - m_new) that re-expresses terms kept against the running maximum m_old against
    /// a new maximum m_new &gt;= m_old: e^(s - m_new) = e^(s - m_old) c. It is 1 when the maximum did not change, 0 for
    /// the first allowed block (m_old = minus infinity, nothing kept yet), and 1 while no allowed key was seen at all.
    /// </summary>
    /// <param name="oldMax">m_old, minus infinity before any allowed key.</param>
    /// <param name="newMax">m_new, the maximum after the block.</param>
    /// <returns>c in [0, 1].</returns>
    public static double Rescale(double oldMax, double newMax) =>
        double.IsNegativeInfinity(newMax) ? 1.0 : Math.Exp(oldMax - newMax);

    /// <summary>fp64 unit roundoff, 2^-53.</summary>
    private const double UnitRoundoff = 1.0 / (1L << 53);

    /// <summary>
    /// A bound on max |tiled - reference| in fp64 between <see cref="Compute"/> and
    /// <see cref="ScaledDotProductAttention.Compute"/> on the same inputs, derived from the operations both run:
    /// 2 max|v| (2 delta e^(2 delta) + gamma(2 n_k + 2 blocks + 6)), gamma(n) = n u / (1 - n u), u = 2^-53.
    /// </summary>
    /// <remarks>
    /// Each path computes every score with a dot product of d_k terms, off by at most
    /// delta = gamma(d_k + 2) s max_ij sum_t |q_it| |k_jt| (s the scale, <see cref="ScoreRoundingError"/>); scores off by
    /// delta change each weight by a factor within e^(±2 delta), so each path's output is off by at most
    /// e^(2 delta) - 1 &lt;= 2 delta e^(2 delta) times max |v| from exact attention for its scores. The exponentials (one
    /// rounding each), the rescale products (one per block), the sums of n_k terms for l and O and the final division add
    /// at most gamma(2 n_k + 2 blocks + 6) max |v|. Two paths, each within that of exact: twice the sum. It grows with
    /// n_k: about 9e-13 max|v| at 2,074 keys, so a fixed 1e-12 is too tight for long inputs with |v| above 1. A wrong
    /// block edge, a missed rescale or a masked key let through moves the output by about a weight times |v|, far above.
    /// </remarks>
    /// <param name="queries">Q, shape [queries x d_k].</param>
    /// <param name="keys">K, shape [keys x d_k].</param>
    /// <param name="values">V, shape [keys x d_v].</param>
    /// <param name="blockSize">Keys per block, at least 1.</param>
    /// <param name="scaled">Whether scores were divided by sqrt(d_k).</param>
    /// <returns>The bound, in the units of V.</returns>
    public static double RoundingBound(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, int blockSize, bool scaled = true)
    {
        CheckInputs(queries, keys, values, blockSize, null);
        var scoreError = ScoreRoundingError(queries, keys, scaled);
        var blocks = (keys.RowCount + blockSize - 1) / blockSize;
        var largestValue = values.Enumerate().Max(Math.Abs);   // V is finite (checked), so Max sees every entry
        return 2 * largestValue * ((2 * scoreError * Math.Exp(2 * scoreError)) + Gamma((2 * keys.RowCount) + (2 * blocks) + 6));
    }

    /// <summary>delta = gamma(d_k + 2) s max_ij sum_t |q_it| |k_jt|: how far one path's fp64 score can be from the exact one.</summary>
    internal static double ScoreRoundingError(Matrix<double> queries, Matrix<double> keys, bool scaled)
    {
        var scale = scaled ? 1 / Math.Sqrt(queries.ColumnCount) : 1.0;
        var largestProduct = (queries.PointwiseAbs() * keys.PointwiseAbs().Transpose()).Enumerate().Max();
        return Gamma(queries.ColumnCount + 2) * scale * largestProduct;
    }

    private static double Gamma(int n) => n * UnitRoundoff / (1 - (n * UnitRoundoff));

    private delegate void BlockObserver(int firstKey, Matrix<double> scores, Vector<double> oldMax, Vector<double> newMax, Vector<double> rescale, Vector<double> sum);

    private static Matrix<double> Run(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, int blockSize, Mask? mask, bool scaled, BlockObserver? observe)
    {
        var scale = scaled ? Scores.ScaleFactor(queries.ColumnCount) : 1.0;
        var m = Vector<double>.Build.Dense(queries.RowCount, double.NegativeInfinity); // running maximum, one per query
        var l = Vector<double>.Build.Dense(queries.RowCount);                          // running sum of e^(s - m)
        var o = Matrix<double>.Build.Dense(queries.RowCount, values.ColumnCount);      // running sum of e^(s - m) v, [queries x d_v]
        for (var first = 0; first < keys.RowCount; first += blockSize)
        {
            var size = Math.Min(blockSize, keys.RowCount - first);
            var keyBlock = keys.SubMatrix(first, size, 0, keys.ColumnCount);           // K_j [block x d_k]
            var valueBlock = values.SubMatrix(first, size, 0, values.ColumnCount);     // V_j [block x d_v]

            var s = BlockScores(queries, keyBlock, scale, mask, first);                // S_j [queries x block], -inf where masked
            var mNew = Vector<double>.Build.Dense(m.Count, i => Math.Max(m[i], s.Row(i).Maximum()));
            var p = s.MapIndexed((i, j, score) => Math.Exp(score - Shift(mNew[i])));   // P_j = e^(S_j - m_new), 0 where masked
            var c = Vector<double>.Build.Dense(m.Count, i => Rescale(m[i], mNew[i]));  // e^(m - m_new)
            l = c.PointwiseMultiply(l) + p.RowSums();                                  // l = c l + rowsum(P_j)
            o = (Matrix<double>.Build.DiagonalOfDiagonalVector(c) * o) + (p * valueBlock); // O = diag(c) O + P_j V_j
            observe?.Invoke(first, s, m, mNew, c, l);
            m = mNew;
        }

        // O / l row by row; l = 0 only for a query that saw no allowed key, which attends to nothing (zero row).
        var output = Matrix<double>.Build.Dense(o.RowCount, o.ColumnCount, (i, j) => l[i] > 0 ? o[i, j] / l[i] : 0.0);
        Check.NoOverflow(output, "the tiled output O / l", "V is too large (the weights are at most 1); scale V down", nameof(values));
        return output;
    }

    /// <summary>S_j = Q K_j^T * scale with minus infinity where the mask hides key first + j; refuses scores beyond fp64.</summary>
    private static Matrix<double> BlockScores(Matrix<double> queries, Matrix<double> keyBlock, double scale, Mask? mask, int first)
    {
        var scores = queries.TransposeAndMultiply(keyBlock) * scale;
        AttentionChecks.ScoresInRange(scores);
        return mask is null ? scores : scores.MapIndexed((i, j, score) => mask[i, first + j] ? score : double.NegativeInfinity);
    }

    /// <summary>The maximum the block's terms are taken against: m_new, or 0 while the row has seen no allowed key.</summary>
    private static double Shift(double runningMax) => double.IsNegativeInfinity(runningMax) ? 0.0 : runningMax;

    private static void CheckInputs(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, int blockSize, Mask? mask)
    {
        AttentionChecks.QueriesMeetKeys(queries, keys);
        AttentionChecks.ValuePerKey(keys, values);
        Check.Finite(values, "values V", nameof(values));
        Check.AtLeast(blockSize, 1, "block size (keys per block)", nameof(blockSize));
        if (mask is not null)
        {
            AttentionChecks.MaskFits(mask, queries.RowCount, keys.RowCount, nameof(mask));
        }
    }
}

/// <summary>One key block of the online softmax of one query row (<see cref="TiledAttention.Trace"/>).</summary>
/// <param name="Index">Block number, from 0.</param>
/// <param name="FirstKey">Position of the block's first key.</param>
/// <param name="Scores">The row's scores for the block's keys, minus infinity where masked.</param>
/// <param name="PreviousMax">Running maximum m before the block (minus infinity before any allowed key).</param>
/// <param name="RunningMax">Running maximum m after the block: max(previous, largest score of the block).</param>
/// <param name="Rescale">e^(m_old - m_new), the factor that rescaled the running sum and output (<see cref="TiledAttention.Rescale"/>).</param>
/// <param name="RunningSum">Running sum l = sum e^(s - m) over the keys so far, after the block.</param>
public sealed record OnlineSoftmaxBlock(int Index, int FirstKey, IReadOnlyList<double> Scores, double PreviousMax, double RunningMax, double Rescale, double RunningSum)
{
    /// <summary>The largest score of the block, minus infinity when all its keys are masked.</summary>
    public double BlockMax => Scores.Max();
}

/// <summary>The online softmax of one query row, block by block, and the row's output.</summary>
/// <param name="Query">The query row followed.</param>
/// <param name="BlockSize">Keys per block.</param>
/// <param name="Blocks">One entry per key block, in order.</param>
/// <param name="Output">The row's output o / l, length d_v (zeros when every key is masked).</param>
public sealed record OnlineSoftmaxTrace(int Query, int BlockSize, IReadOnlyList<OnlineSoftmaxBlock> Blocks, Vector<double> Output)
{
    /// <summary>The final running maximum: the row's largest allowed score (minus infinity when all are masked).</summary>
    public double Max => Blocks[^1].RunningMax;

    /// <summary>The final running sum l = sum_j e^(s_j - m) over every allowed key.</summary>
    public double Sum => Blocks[^1].RunningSum;

    /// <summary>The row's attention weights recovered from the final m and l: e^(s_j - m) / l (zeros when every key is masked).</summary>
    public Vector<double> Weights()
    {
        var scores = Blocks.SelectMany(block => block.Scores).ToArray();
        return Vector<double>.Build.Dense(scores.Length, j => Sum > 0 ? Math.Exp(scores[j] - Max) / Sum : 0.0);
    }
}
