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
        AttentionChecks.AttentionInputs(queries, keys, values, mask, tokens);
        return ComputeUnchecked(queries, keys, values, mask, scaled, tokens);
    }

    /// <summary>
    /// <see cref="Compute"/> on inputs an entry point has checked (<see cref="AttentionChecks.AttentionInputs"/>):
    /// what every head of <see cref="MultiHeadAttention"/> runs, so its inputs are checked once per layer, not per head.
    /// </summary>
    internal static AttentionResult ComputeUnchecked(
        Matrix<double> queries,
        Matrix<double> keys,
        Matrix<double> values,
        Mask? mask,
        bool scaled,
        IReadOnlyList<string>? tokens)
    {
        var scores = Scores.ComputeUnchecked(queries, keys, scaled);   // [queries x keys]
        var maskedScores = mask?.ApplyUnchecked(scores) ?? scores;     // minus infinity where masked
        var weights = Softmax.RowsUnchecked(maskedScores);             // each row sums to 1 (or is 0 if fully masked)
        var output = WeightedSum.OfUnchecked(weights, values);         // [queries x d_v]

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
    /// <summary>
    /// Backward pass of O = softmax(mask(Q K^T * s)) V, the forward steps undone in reverse order, one line each:
    /// dA = dO V^T and dV = A^T dO (weighted sum); dS' = A ∘ (dA - rowsum(dA ∘ A)) (softmax rows); dS = dS' ∘ M
    /// (mask); dQ = s dS K and dK = s dS^T Q (scores).
    /// </summary>
    /// <param name="forward">The forward pass's steps (<see cref="Compute"/>).</param>
    /// <param name="outputGradient">dO = dLoss/dO, shape [queries x d_v].</param>
    /// <returns>dQ [queries x d_k], dK [keys x d_k], dV [keys x d_v]; a fully masked query gets a zero row in dQ.</returns>
    /// <exception cref="ArgumentException">dO does not have the output's shape.</exception>
    public static ScaledDotProductGradients Backward(AttentionResult forward, Matrix<double> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(forward);
        AttentionChecks.OutputGradient(forward.Output, outputGradient, "O");
        return BackwardUnchecked(forward, outputGradient);
    }

    /// <summary><see cref="Backward(AttentionResult, Matrix{double})"/> on a dO whose shape an entry point has checked.</summary>
    internal static ScaledDotProductGradients BackwardUnchecked(AttentionResult forward, Matrix<double> outputGradient)
    {
        var (weightGradient, valueGradient) = WeightedSum.BackwardUnchecked(forward.Weights, forward.Values, outputGradient); // dA, dV
        var maskedScoreGradient = Softmax.RowsBackwardUnchecked(forward.Weights, weightGradient);                          // dS'
        var scoreGradient = forward.Mask?.BackwardUnchecked(maskedScoreGradient) ?? maskedScoreGradient;                   // dS
        var (queryGradient, keyGradient) = Scores.BackwardUnchecked(forward.Queries, forward.Keys, scoreGradient, forward.Scale); // dQ, dK
        return new ScaledDotProductGradients(queryGradient, keyGradient, valueGradient);
    }

    /// <summary>Runs the forward pass and then <see cref="Backward(AttentionResult, Matrix{double})"/>.</summary>
    /// <param name="queries">Q, shape [queries x d_k].</param>
    /// <param name="keys">K, shape [keys x d_k].</param>
    /// <param name="values">V, shape [keys x d_v].</param>
    /// <param name="outputGradient">dO, shape [queries x d_v].</param>
    /// <param name="mask">The mask of the forward pass, or null.</param>
    /// <param name="scaled">Whether the forward pass divided by sqrt(d_k).</param>
    /// <returns>dQ, dK, dV.</returns>
    public static ScaledDotProductGradients Backward(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, Matrix<double> outputGradient, Mask? mask = null, bool scaled = true) =>
        Backward(Compute(queries, keys, values, mask, scaled), outputGradient);
}

/// <summary>The gradients of scaled dot-product attention with respect to its three inputs.</summary>
/// <param name="DQueries">dQ, shape [queries x d_k].</param>
/// <param name="DKeys">dK, shape [keys x d_k].</param>
/// <param name="DValues">dV, shape [keys x d_v].</param>
public sealed record ScaledDotProductGradients(Matrix<double> DQueries, Matrix<double> DKeys, Matrix<double> DValues);
