using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// Scaled dot-product attention, Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V, one step per line.
/// </summary>
public static class ScaledDotProductAttention
{
    /// <summary>Runs attention on given queries, keys and values and keeps every intermediate step.</summary>
    /// <param name="queries">Q, shape [queries x d_k].</param>
    /// <param name="keys">K, shape [keys x d_k].</param>
    /// <param name="values">V, shape [keys x d_v].</param>
    /// <param name="mask">Which keys each query may see, [queries x keys]; null shows every key.</param>
    /// <param name="scaled">Divide scores by sqrt(d_k) (the default).</param>
    /// <param name="tokens">Token labels for rows and columns (self-attention), or null for position numbers.</param>
    /// <returns>Scores, masked scores, weights and output.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit together, the mask has the wrong size, an input is not finite, or the scores overflow fp64.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The [queries x keys] matrices would not fit in memory (use the fast path).</exception>
    public static AttentionResult Compute(
        Matrix<double> queries,
        Matrix<double> keys,
        Matrix<double> values,
        Mask? mask = null,
        bool scaled = true,
        IReadOnlyList<string>? tokens = null)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        if (values.RowCount != keys.RowCount)
        {
            throw new ArgumentException(
                $"K is {Check.Shape(keys)} but V is {Check.Shape(values)}: every key needs its value, so both need the same number of rows.",
                nameof(values));
        }

        // Scores, masked scores and weights are all kept for the notebooks: three [queries x keys] matrices.
        Check.ReferenceFits(queries.RowCount, keys.RowCount, 3, "scaled dot-product attention");
        Check.Labels(tokens, queries.RowCount, "Q", nameof(tokens));
        Check.Labels(tokens, keys.RowCount, "K", nameof(tokens));

        var scores = Scores.Compute(queries, keys, scaled);     // [queries x keys]
        var maskedScores = mask?.Apply(scores) ?? scores;       // minus infinity where masked
        var weights = Softmax.Rows(maskedScores);               // each row sums to 1 (or is 0 if fully masked)
        var output = WeightedSum.Of(weights, values);           // [queries x d_v]

        return new AttentionResult(
            Check.LabelsOrPositions(tokens, queries.RowCount),
            Check.LabelsOrPositions(tokens, keys.RowCount),
            queries,
            keys,
            values,
            scaled ? Scores.ScaleFactor(queries.ColumnCount) : 1.0,
            scores,
            mask,
            maskedScores,
            weights,
            output);
    }
}
