using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using NotebookAttention.Batches;

namespace NotebookAttention.Attention;

/// <summary>
/// Multi-head attention: several heads attend in parallel, each in its own subspace, and their outputs are
/// concatenated and projected again, MultiHead(X) = Concat(head_1, ..., head_h) W_O.
/// </summary>
/// <remarks>
/// As in Vaswani et al. (2017) and in BERT and PyTorch, one projection W_Q [d_model x d_model] (likewise W_K,
/// W_V) produces the queries of all heads at once, and the columns are split into h blocks of d_model / h:
/// block i of the columns is head i. That is the same as h separate [d_model x d_model/h] projections.
/// A query row that is fully masked has zero output, bias of W_O included: it attended to nothing.
/// </remarks>
public sealed class MultiHeadAttention
{
    /// <summary>Multi-head attention with seeded weights, drawn in the order W_Q, W_K, W_V, W_O (Xavier uniform).</summary>
    /// <param name="dModel">Token vector length; must be divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Number of heads h.</param>
    /// <param name="seed">Seed; the same seed gives the same weights.</param>
    /// <param name="bias">Whether the four projections have biases.</param>
    /// <exception cref="ArgumentException"><paramref name="heads"/> does not divide <paramref name="dModel"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The four [d_model x d_model] weight matrices would not fit in memory.</exception>
    public MultiHeadAttention(int dModel, int heads, int seed = 0, bool bias = false)
    {
        Check.AtLeast(dModel, 1, "d_model", nameof(dModel));
        CheckHeads(dModel, heads, "d_model");
        Check.Fits(dModel, dModel, 4, "a layer with W_Q, W_K, W_V and W_O", "choose a smaller d_model (BERT-base uses 768)", nameof(dModel));
        var random = new Xoshiro256StarStar(seed, threadSafe: false);
        Projections = new QkvProjections(
            LinearProjection.Create(dModel, dModel, random, bias),
            LinearProjection.Create(dModel, dModel, random, bias),
            LinearProjection.Create(dModel, dModel, random, bias));
        OutputProjection = LinearProjection.Create(dModel, dModel, random, bias);
        Heads = heads;
    }

    /// <summary>Multi-head attention with given weights (for hand-made examples and pretrained models).</summary>
    /// <param name="projections">W_Q, W_K [d_model x d_k] and W_V [d_model x d_v], each holding all heads side by side.</param>
    /// <param name="outputProjection">W_O, [d_v x d_out].</param>
    /// <param name="heads">Number of heads h; must divide d_k and d_v.</param>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public MultiHeadAttention(QkvProjections projections, LinearProjection outputProjection, int heads)
    {
        ArgumentNullException.ThrowIfNull(projections);
        ArgumentNullException.ThrowIfNull(outputProjection);
        CheckHeads(projections.DK, heads, "d_k (columns of W_Q)");
        CheckHeads(projections.DV, heads, "d_v (columns of W_V)");
        if (outputProjection.InputSize != projections.DV)
        {
            throw new ArgumentException(
                $"W_O is {Check.Shape(outputProjection.Weight)} but the concatenated heads have {projections.DV} columns: W_O needs {projections.DV} rows.",
                nameof(outputProjection));
        }

        Projections = projections;
        OutputProjection = outputProjection;
        Heads = heads;
    }

    /// <summary>W_Q, W_K, W_V for all heads side by side.</summary>
    public QkvProjections Projections { get; }

    /// <summary>W_O, which mixes the concatenated heads back into d_model.</summary>
    public LinearProjection OutputProjection { get; }

    /// <summary>Number of heads h.</summary>
    public int Heads { get; }

    /// <summary>Token vector length d_model.</summary>
    public int DModel => Projections.DModel;

    /// <summary>Query and key length of one head, d_k / h.</summary>
    public int HeadDK => Projections.DK / Heads;

    /// <summary>Value length of one head, d_v / h.</summary>
    public int HeadDV => Projections.DV / Heads;

    /// <summary>
    /// Number of trainable numbers in the layer, counted from its four matrices and their biases:
    /// W_Q and W_K [d_model x h·d_k], W_V [d_model x h·d_v], W_O [h·d_v x d_out]. With d_k = d_v = d_model / h
    /// and no biases that is 4·d_model², whatever h is.
    /// </summary>
    public long ParameterCount =>
        new[] { Projections.Query, Projections.Key, Projections.Value, OutputProjection }
            .Sum(p => ((long)p.Weight.RowCount * p.Weight.ColumnCount) + (p.Bias?.Count ?? 0));

    /// <summary>Splits [tokens x d] into h matrices [tokens x d/h]: head i gets columns i*d/h to (i+1)*d/h - 1.</summary>
    /// <param name="matrix">Q, K or V for all heads, shape [tokens x d].</param>
    /// <param name="heads">Number of heads; must divide d.</param>
    /// <returns>One matrix per head.</returns>
    public static IReadOnlyList<Matrix<double>> SplitHeads(Matrix<double> matrix, int heads)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        CheckHeads(matrix.ColumnCount, heads, $"the column count of a {Check.Shape(matrix)} matrix");
        var width = matrix.ColumnCount / heads;
        return [.. Enumerable.Range(0, heads).Select(head => matrix.SubMatrix(0, matrix.RowCount, head * width, width))];
    }

    /// <summary>Concatenates head outputs side by side: h x [tokens x d_v/h] becomes [tokens x d_v].</summary>
    /// <param name="heads">Head outputs, all with the same shape.</param>
    /// <returns>The concatenation.</returns>
    public static Matrix<double> ConcatenateHeads(IReadOnlyList<Matrix<double>> heads)
    {
        ArgumentNullException.ThrowIfNull(heads);
        if (heads.Count == 0)
        {
            throw new ArgumentException("there are 0 heads to concatenate: pass at least one head output.", nameof(heads));
        }

        if (heads.Any(h => h.RowCount != heads[0].RowCount || h.ColumnCount != heads[0].ColumnCount))
        {
            throw new ArgumentException(
                $"head outputs have different shapes ({string.Join(", ", heads.Select(Check.Shape))}): every head must see the same tokens and have the same width.",
                nameof(heads));
        }

        var sideBySide = new Matrix<double>[1, heads.Count];
        for (var head = 0; head < heads.Count; head++)
        {
            sideBySide[0, head] = heads[head];
        }

        return Matrix<double>.Build.DenseOfMatrixArray(sideBySide);
    }

    /// <summary>Runs multi-head self-attention on token vectors.</summary>
    /// <param name="tokenVectors">X, shape [tokens x d_model].</param>
    /// <param name="mask">Which keys each token may see, [tokens x tokens]; null shows every key.</param>
    /// <param name="scaled">Divide scores by sqrt(d_k / h) (the default).</param>
    /// <param name="tokens">Token labels, one per row of X, or null for position numbers.</param>
    /// <returns>Every head's steps, the concatenation and the output [tokens x d_out].</returns>
    /// <exception cref="ArgumentOutOfRangeException">The heads' [tokens x tokens] matrices would not fit in memory (use the fast path).</exception>
    public MultiHeadAttentionResult Forward(Matrix<double> tokenVectors, Mask? mask = null, bool scaled = true, IReadOnlyList<string>? tokens = null)
    {
        ArgumentNullException.ThrowIfNull(tokenVectors);
        // Every head keeps its scores, masked scores and weights: 3 h [tokens x tokens] matrices, checked before projecting.
        Check.ReferenceFits(tokenVectors.RowCount, tokenVectors.RowCount, 3 * Heads, $"multi-head attention with {Heads} heads");
        var (queries, keys, values) = Projections.Project(tokenVectors);   // each [tokens x d]
        var queryHeads = SplitHeads(queries, Heads);                        // h x [tokens x d/h]
        var keyHeads = SplitHeads(keys, Heads);
        var valueHeads = SplitHeads(values, Heads);

        var heads = Enumerable.Range(0, Heads)
            .Select(head => ScaledDotProductAttention.Compute(queryHeads[head], keyHeads[head], valueHeads[head], mask, scaled, tokens))
            .ToList();

        var concatenated = ConcatenateHeads([.. heads.Select(h => h.Output)]);   // [tokens x d_v]
        var output = OutputProjection.Apply(concatenated);                       // [tokens x d_out]
        if (mask is not null)
        {
            for (var query = 0; query < mask.Queries; query++)
            {
                if (mask.IsFullyMasked(query))
                {
                    output.ClearRow(query);
                }
            }
        }

        return new MultiHeadAttentionResult(heads[0].QueryTokens, tokenVectors, queries, keys, values, heads, concatenated, output, mask);
    }

    /// <summary>
    /// Runs multi-head self-attention on every sentence of a padded batch, each with its padding mask
    /// (and the causal mask when <paramref name="causal"/> is set).
    /// </summary>
    /// <param name="batch">Sentences padded to one length.</param>
    /// <param name="causal">Also hide later tokens from each token.</param>
    /// <param name="scaled">Divide scores by sqrt(d_k / h) (the default).</param>
    /// <returns>One result per sentence, rows and columns covering the padded length.</returns>
    public IReadOnlyList<MultiHeadAttentionResult> Forward(PaddedBatch batch, bool causal = false, bool scaled = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return [.. Enumerable.Range(0, batch.Count).Select(sentence =>
        {
            var mask = batch.PaddingMask(sentence);
            if (causal)
            {
                mask &= Mask.Causal(batch.PaddedLength);
            }

            return Forward(batch.Inputs[sentence], mask, scaled, batch.Labels[sentence]);
        })];
    }

    private static void CheckHeads(int width, int heads, string what)
    {
        if (heads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(heads), heads, $"heads = {heads}: multi-head attention needs at least 1 head.");
        }

        if (width % heads != 0)
        {
            var choices = Enumerable.Range(1, width).Where(h => width % h == 0).Select(h => h.ToString(CultureInfo.InvariantCulture));
            throw new ArgumentException(
                $"{what} = {width} is not divisible by heads = {heads} ({width} / {heads} leaves {width % heads}): each head gets an equal share of the columns, so choose heads from {string.Join(", ", choices)}.",
                nameof(heads));
        }
    }
}
