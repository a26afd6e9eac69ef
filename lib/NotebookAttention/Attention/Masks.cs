using System.Text;
using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// Which keys each query may attend to, shape [queries x keys]: <c>true</c> means allowed.
/// Masked scores become minus infinity before the softmax, so masked keys get weight exactly 0.
/// </summary>
/// <remarks>
/// Two masks appear in practice. A <b>padding mask</b> hides the padding that makes sentences of different
/// lengths fit one batch; a <b>causal mask</b> stops a token from looking at tokens after it (as in a language
/// model that predicts the next word). Combine them with <see cref="And"/> or the <c>&amp;</c> operator.
/// A query whose keys are all masked attends to nothing: its weights are all 0 and its output is 0.
/// </remarks>
public sealed class Mask
{
    private readonly bool[] allowed;

    private Mask(int queries, int keys, Func<int, int, bool> isAllowed)
    {
        Check.TableFits(
            queries,
            keys,
            "a mask",
            "a stored mask is for pictures and the reference path; for long sequences describe it instead with Fast.FastMask (ValidLength, Causal, Window) and run Fast.FastAttention.Tiled",
            nameof(queries));
        Queries = queries;
        Keys = keys;
        allowed = new bool[queries * keys];
        for (var query = 0; query < queries; query++)
        {
            for (var key = 0; key < keys; key++)
            {
                allowed[(query * keys) + key] = isAllowed(query, key);
            }
        }
    }

    /// <summary>Number of queries (rows).</summary>
    public int Queries { get; }

    /// <summary>Number of keys (columns).</summary>
    public int Keys { get; }

    /// <summary>Whether <paramref name="query"/> may attend to <paramref name="key"/>.</summary>
    /// <param name="query">Query (row) index.</param>
    /// <param name="key">Key (column) index.</param>
    public bool this[int query, int key]
    {
        get
        {
            if ((uint)query >= (uint)Queries || (uint)key >= (uint)Keys)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(query), $"[{query}, {key}] is outside this [{Queries} x {Keys}] mask: rows run to {Queries - 1} and columns to {Keys - 1}.");
            }

            return allowed[(query * Keys) + key];
        }
    }

    /// <summary>A mask that allows everything.</summary>
    /// <param name="queries">Number of queries.</param>
    /// <param name="keys">Number of keys; defaults to <paramref name="queries"/> (self-attention).</param>
    public static Mask None(int queries, int? keys = null)
    {
        Check.AtLeast(queries, 1, "mask query count", nameof(queries));
        Check.AtLeast(keys ?? queries, 1, "mask key count", nameof(keys));
        return new Mask(queries, keys ?? queries, (_, _) => true);
    }

    /// <summary>
    /// The padding mask of one sentence of <paramref name="validLength"/> real tokens padded to
    /// <paramref name="paddedLength"/>: real queries see only real keys, and padding queries see nothing
    /// (so their weights and outputs are 0).
    /// </summary>
    /// <param name="validLength">Number of real tokens, 0 to <paramref name="paddedLength"/>.</param>
    /// <param name="paddedLength">Length of every sequence in the batch.</param>
    /// <returns>The [paddedLength x paddedLength] mask.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The lengths do not fit.</exception>
    public static Mask Padding(int validLength, int paddedLength)
    {
        Check.AtLeast(paddedLength, 1, "padded length", nameof(paddedLength));
        if (validLength < 0 || validLength > paddedLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(validLength), validLength, $"valid length {validLength} does not fit a sequence padded to {paddedLength}: it must be between 0 and {paddedLength}.");
        }

        return new Mask(paddedLength, paddedLength, (query, key) => query < validLength && key < validLength);
    }

    /// <summary>
    /// The key-padding mask of one sentence: every query, padding queries included, may see the real keys only.
    /// This is what PyTorch's <c>key_padding_mask</c> and BERT's <c>attention_mask</c> do; <see cref="Padding(int, int)"/>
    /// (this library's default) also masks the padding queries, so their rows attend to nothing.
    /// </summary>
    /// <param name="validLength">Number of real tokens, 1 to <paramref name="paddedLength"/>.</param>
    /// <param name="paddedLength">Length of every sequence in the batch.</param>
    /// <returns>The [paddedLength x paddedLength] mask.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The lengths do not fit.</exception>
    public static Mask KeyPadding(int validLength, int paddedLength)
    {
        Check.AtLeast(paddedLength, 1, "padded length", nameof(paddedLength));
        if (validLength < 1 || validLength > paddedLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(validLength), validLength, $"valid length {validLength} does not fit a sequence padded to {paddedLength}: it must be between 1 and {paddedLength}.");
        }

        return new Mask(paddedLength, paddedLength, (_, key) => key < validLength);
    }

    /// <summary>One padding mask per sentence of a batch, all padded to the longest sentence.</summary>
    /// <param name="validLengths">Real token count of each sentence.</param>
    /// <returns>The masks, each [max length x max length].</returns>
    public static IReadOnlyList<Mask> Padding(IReadOnlyList<int> validLengths)
    {
        ArgumentNullException.ThrowIfNull(validLengths);
        if (validLengths.Count == 0)
        {
            throw new ArgumentException("the batch has 0 sentences: give at least one valid length.", nameof(validLengths));
        }

        var paddedLength = validLengths.Max();
        return [.. validLengths.Select(length => Padding(length, paddedLength))];
    }

    /// <summary>The causal mask: query i may attend to keys 0..i only (lower triangle).</summary>
    /// <param name="tokens">Sequence length.</param>
    /// <returns>The [tokens x tokens] mask.</returns>
    public static Mask Causal(int tokens)
    {
        Check.AtLeast(tokens, 1, "causal mask length", nameof(tokens));
        return new Mask(tokens, tokens, (query, key) => key <= query);
    }

    /// <summary>A mask from a table of allowed pairs, for hand-made examples.</summary>
    /// <param name="queries">Number of rows.</param>
    /// <param name="keys">Number of columns.</param>
    /// <param name="isAllowed">Whether query i may attend to key j.</param>
    public static Mask FromFunction(int queries, int keys, Func<int, int, bool> isAllowed)
    {
        ArgumentNullException.ThrowIfNull(isAllowed);
        Check.AtLeast(queries, 1, "mask query count", nameof(queries));
        Check.AtLeast(keys, 1, "mask key count", nameof(keys));
        return new Mask(queries, keys, isAllowed);
    }

    /// <summary>Both masks at once: allowed only where both allow.</summary>
    /// <param name="other">A mask of the same shape.</param>
    /// <returns>The combined mask.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public Mask And(Mask other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Queries != Queries || other.Keys != Keys)
        {
            throw new ArgumentException(
                $"cannot combine a [{Queries} x {Keys}] mask with a [{other.Queries} x {other.Keys}] mask: build both for the same number of tokens.",
                nameof(other));
        }

        return new Mask(Queries, Keys, (query, key) => this[query, key] && other[query, key]);
    }

    /// <summary>Both masks at once, as <see cref="And"/>.</summary>
    /// <param name="left">A mask.</param>
    /// <param name="right">A mask of the same shape.</param>
    /// <returns>The combined mask.</returns>
    public static Mask operator &(Mask left, Mask right)
    {
        ArgumentNullException.ThrowIfNull(left);
        return left.And(right);
    }

    /// <summary>Whether every key is masked for <paramref name="query"/>, so it attends to nothing.</summary>
    /// <param name="query">Query (row) index.</param>
    /// <returns>True when the whole row is masked.</returns>
    public bool IsFullyMasked(int query) => Enumerable.Range(0, Keys).All(key => !this[query, key]);

    /// <summary>Masked scores: a copy of <paramref name="scores"/> with minus infinity where the mask forbids.</summary>
    /// <param name="scores">S, shape [queries x keys], the same shape as the mask.</param>
    /// <returns>The masked scores.</returns>
    /// <exception cref="ArgumentException">The shapes differ, or a score is already NaN or infinite.</exception>
    public Matrix<double> Apply(Matrix<double> scores)
    {
        AttentionChecks.MaskableScores(this, scores);
        return ApplyUnchecked(scores);
    }

    /// <summary><see cref="Apply"/> on scores an entry point has checked: the mask's shape, every entry finite.</summary>
    internal Matrix<double> ApplyUnchecked(Matrix<double> scores) =>
        scores.MapIndexed((query, key, score) => allowed[(query * Keys) + key] ? score : double.NegativeInfinity, Zeros.Include);

    /// <summary>
    /// Backward pass of <see cref="Apply"/>: a masked score was replaced by the constant minus infinity, so it does not
    /// depend on the score at all and its gradient is exactly 0; an allowed score passed through unchanged (gradient 1).
    /// dS = dMasked ∘ M with M the 0/1 mask.
    /// </summary>
    /// <param name="maskedScoreGradient">dLoss/d(masked scores), shape [queries x keys].</param>
    /// <returns>dLoss/dS, the same shape, 0 where the mask forbids.</returns>
    /// <exception cref="ArgumentException">The shape differs from the mask's.</exception>
    public Matrix<double> Backward(Matrix<double> maskedScoreGradient)
    {
        AttentionChecks.MaskedScoreGradient(this, maskedScoreGradient);
        return BackwardUnchecked(maskedScoreGradient);
    }

    /// <summary><see cref="Backward"/> on a gradient whose shape an entry point has checked.</summary>
    internal Matrix<double> BackwardUnchecked(Matrix<double> maskedScoreGradient) =>
        maskedScoreGradient.MapIndexed((query, key, gradient) => allowed[(query * Keys) + key] ? gradient : 0.0, Zeros.Include);

    /// <summary>
    /// Masked scores the way Hugging Face's transformers masks them in its eager attention: instead of minus infinity, the fp32 minimum
    /// <c>torch.finfo(torch.float32).min</c> (−3.4028235e38) is added to each masked score, in fp32. A masked key
    /// still gets weight 0 next to any real key, but a row whose keys are all masked holds one finite value
    /// repeated, so its softmax is uniform (1/keys each) instead of empty.
    /// </summary>
    /// <param name="scores">S, shape [queries x keys], the same shape as the mask.</param>
    /// <returns>The masked scores, every entry finite.</returns>
    /// <exception cref="ArgumentException">The shapes differ, or a score is NaN or infinite.</exception>
    public Matrix<double> AddFp32Minimum(Matrix<double> scores)
    {
        AttentionChecks.MaskableScores(this, scores);   // the same rules as the minus-infinity mask
        return scores.MapIndexed(
            (query, key, score) => allowed[(query * Keys) + key] ? score : (double)((float)score + float.MinValue),
            Zeros.Include);
    }

    /// <summary>The mask as numbers, 1 for allowed and 0 for masked, for tables and heatmaps.</summary>
    /// <returns>A [queries x keys] matrix of 0 and 1.</returns>
    public Matrix<double> ToMatrix() => Matrix<double>.Build.Dense(Queries, Keys, (query, key) => allowed[(query * Keys) + key] ? 1.0 : 0.0);

    /// <summary>The mask drawn with ■ for allowed and · for masked, one row per query.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        for (var query = 0; query < Queries; query++)
        {
            for (var key = 0; key < Keys; key++)
            {
                text.Append(allowed[(query * Keys) + key] ? '■' : '·');
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
