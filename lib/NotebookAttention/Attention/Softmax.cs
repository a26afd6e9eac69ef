using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// Softmax turns a row of scores into weights that are at least 0 and sum to 1:
/// softmax(x)_j = exp(x_j) / sum_k exp(x_k).
/// </summary>
/// <remarks>
/// Subtracting the row maximum m first, exp(x_j - m) / sum_k exp(x_k - m), gives the same weights (the factor
/// exp(-m) cancels) but no exp ever sees a positive argument, so nothing overflows: the largest term is exactly
/// exp(0) = 1 and the sum is at least 1. <see cref="Naive"/> skips that step and returns NaN for scores as small
/// as 710, which is why it is only here to look at. .NET's <c>TensorPrimitives.SoftMax</c> also does not subtract
/// the maximum.
/// Masked entries are minus infinity and get weight exactly 0. A row with every entry masked has no maximum;
/// by this library's convention its weights are all 0 (it attends to nothing), never NaN.
/// Minus infinity here always means masked: <see cref="Scores.DotProducts"/> refuses products that overflow fp64
/// (which would otherwise arrive as -infinity and look masked), and <see cref="Mask.Apply"/> refuses scores that are
/// already infinite.
/// </remarks>
public static class Softmax
{
    /// <summary>Numerically stable softmax of one row of scores.</summary>
    /// <param name="scores">Scores; minus infinity marks a masked key.</param>
    /// <returns>Weights in [0, 1] that sum to 1, or all 0 when every score is minus infinity.</returns>
    /// <exception cref="ArgumentException">A score is NaN or plus infinity.</exception>
    public static Vector<double> Stable(Vector<double> scores)
    {
        AttentionChecks.SoftmaxScores(scores);
        var weights = new double[scores.Count];
        StableInto(scores.ToArray(), weights);
        return Vector<double>.Build.Dense(weights);
    }

    /// <summary>Stable softmax of every row: the attention weights A = softmax(S), shape [queries x keys].</summary>
    /// <param name="scores">S, shape [queries x keys]; minus infinity marks a masked key.</param>
    /// <returns>A; each row sums to 1, or is all 0 when the whole row is masked.</returns>
    /// <exception cref="ArgumentException">A score is NaN or plus infinity.</exception>
    public static Matrix<double> Rows(Matrix<double> scores)
    {
        AttentionChecks.SoftmaxScores(scores);
        return RowsUnchecked(scores);
    }

    /// <summary><see cref="Rows"/> on scores known to be finite or minus infinity (masked), as an entry point made them.</summary>
    internal static Matrix<double> RowsUnchecked(Matrix<double> scores)
    {
        var weights = Matrix<double>.Build.Dense(scores.RowCount, scores.ColumnCount);
        var row = new double[scores.ColumnCount];
        var rowWeights = new double[scores.ColumnCount];
        for (var query = 0; query < scores.RowCount; query++)
        {
            for (var key = 0; key < row.Length; key++)
            {
                row[key] = scores.At(query, key);
            }

            StableInto(row, rowWeights);
            for (var key = 0; key < row.Length; key++)
            {
                weights.At(query, key, rowWeights[key]);
            }
        }

        return weights;
    }

    /// <summary>
    /// Backward pass of A = softmax(S) row by row, the Jacobian-vector product of each row:
    /// dS = A ∘ (dA - rowsum(dA ∘ A)), i.e. dS[i, j] = A[i, j] (dA[i, j] - sum_k dA[i, k] A[i, k]).
    /// </summary>
    /// <remarks>
    /// For one row a = softmax(s), da_j/ds_k = a_j (δ_jk - a_k), so dS_k = sum_j dA_j a_j (δ_jk - a_k)
    /// = a_k (dA_k - sum_j dA_j a_j). A masked key has a_k = 0 and gets exactly 0; a fully masked row (all weights 0)
    /// gets a zero gradient row, never NaN, because nothing is divided.
    /// </remarks>
    /// <param name="weights">A, the forward pass's weights, shape [queries x keys].</param>
    /// <param name="weightGradient">dA = dLoss/dA, the same shape.</param>
    /// <returns>dS, the same shape.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Matrix<double> RowsBackward(Matrix<double> weights, Matrix<double> weightGradient)
    {
        AttentionChecks.WeightGradient(weights, weightGradient);
        return RowsBackwardUnchecked(weights, weightGradient);
    }

    /// <summary><see cref="RowsBackward"/> on shapes an entry point has checked.</summary>
    internal static Matrix<double> RowsBackwardUnchecked(Matrix<double> weights, Matrix<double> weightGradient)
    {
        var rowSums = weights.PointwiseMultiply(weightGradient).RowSums();             // rowsum(dA ∘ A), one per query
        return Matrix<double>.Build.Dense(weights.RowCount, weights.ColumnCount, (query, key) =>
            weights.At(query, key) * (weightGradient.At(query, key) - rowSums[query]));   // dS = A ∘ (dA - rowsum(dA ∘ A))
    }

    /// <summary>
    /// The textbook formula exp(x_j) / sum_k exp(x_k) without subtracting the maximum. It overflows to
    /// infinity for scores above about 709 and then returns NaN. For demonstrations only; use <see cref="Stable"/>.
    /// </summary>
    /// <returns>Weights, or NaN where the computation overflowed.</returns>
    public static Vector<double> Naive(Vector<double> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var exponentials = scores.PointwiseExp();
        return exponentials / exponentials.Sum();
    }

    /// <summary>The stable softmax of one row of scores that are finite or minus infinity: exp(x_j - m) / sum_k exp(x_k - m).</summary>
    private static void StableInto(ReadOnlySpan<double> scores, Span<double> weights)
    {
        var max = double.NegativeInfinity;
        foreach (var score in scores)
        {
            max = Math.Max(max, score);
        }

        if (double.IsNegativeInfinity(max))
        {
            weights.Clear();
            return;
        }

        var sum = 0.0;
        for (var j = 0; j < scores.Length; j++)
        {
            weights[j] = Math.Exp(scores[j] - max);
            sum += weights[j];
        }

        for (var j = 0; j < scores.Length; j++)
        {
            weights[j] /= sum;
        }
    }
}
