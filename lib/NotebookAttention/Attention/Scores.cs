using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// Attention scores: how well each query matches each key, S = Q K^T, optionally scaled by 1/sqrt(d_k).
/// </summary>
/// <remarks>
/// If the entries of q and k are independent with mean 0 and variance 1, the dot product q.k is a sum of d_k
/// such products and has variance d_k. Large scores push the softmax towards a one-hot row whose gradients
/// vanish; dividing by sqrt(d_k) brings the variance back to 1 whatever d_k is (Vaswani et al., 2017).
/// </remarks>
public static class Scores
{
    /// <summary>The scale 1/sqrt(d_k).</summary>
    /// <param name="dK">Query and key length (at least 1).</param>
    /// <returns>1/sqrt(d_k).</returns>
    public static double ScaleFactor(int dK)
    {
        Check.AtLeast(dK, 1, "d_k (the query and key length)", nameof(dK));
        return 1.0 / Math.Sqrt(dK);
    }

    /// <summary>Raw dot products S = Q K^T: entry [i, j] is q_i . k_j. Shape [queries x keys].</summary>
    /// <param name="queries">Q, shape [queries x d_k].</param>
    /// <param name="keys">K, shape [keys x d_k].</param>
    /// <returns>S.</returns>
    /// <exception cref="ArgumentException">Q and K have different d_k, hold NaN or infinity, or their products overflow fp64.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The [queries x keys] matrix would not fit in memory.</exception>
    public static Matrix<double> DotProducts(Matrix<double> queries, Matrix<double> keys)
    {
        Check.Finite(queries, "queries Q", nameof(queries));
        Check.Finite(keys, "keys K", nameof(keys));
        if (queries.ColumnCount != keys.ColumnCount)
        {
            throw new ArgumentException(
                $"Q is {Check.Shape(queries)} but K is {Check.Shape(keys)}: a query and a key are compared by dot product, so both need the same length d_k (same number of columns).",
                nameof(keys));
        }

        Check.ReferenceFits(queries.RowCount, keys.RowCount, 1, "the scores Q K^T");
        var scores = queries * keys.Transpose();
        // An overflowed score would be -infinity (read as masked by the softmax) or +infinity/NaN: refuse it here,
        // so that every -infinity the softmax sees comes from a mask.
        Check.NoOverflow(
            scores,
            "the scores Q K^T",
            "some q_i . k_j is beyond the fp64 range, so no softmax of it is meaningful; scale the queries and keys down (for example divide X or the projection weights by a constant)",
            nameof(queries));
        return scores;
    }

    /// <summary>Scores as attention uses them: S = Q K^T / sqrt(d_k), or Q K^T when <paramref name="scaled"/> is false.</summary>
    /// <param name="queries">Q, shape [queries x d_k].</param>
    /// <param name="keys">K, shape [keys x d_k].</param>
    /// <param name="scaled">Divide by sqrt(d_k) (the default); false shows what happens without it.</param>
    /// <returns>S, shape [queries x keys].</returns>
    public static Matrix<double> Compute(Matrix<double> queries, Matrix<double> keys, bool scaled = true)
    {
        var scores = DotProducts(queries, keys);
        if (scaled)
        {
            scores.Multiply(ScaleFactor(queries.ColumnCount), scores);
        }

        return scores;
    }
    /// <summary>
    /// Backward pass of S = Q K^T * s (s = 1/sqrt(d_k), or 1 unscaled): entry S[i, j] = s q_i . k_j, so
    /// dQ = s dS K [queries x d_k] and dK = s dS^T Q [keys x d_k].
    /// </summary>
    /// <param name="queries">Q, shape [queries x d_k].</param>
    /// <param name="keys">K, shape [keys x d_k].</param>
    /// <param name="scoreGradient">dS = dLoss/dS, shape [queries x keys].</param>
    /// <param name="scale">The factor s the forward pass used (<see cref="AttentionResult.Scale"/>).</param>
    /// <returns>dQ and dK.</returns>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public static (Matrix<double> DQueries, Matrix<double> DKeys) Backward(Matrix<double> queries, Matrix<double> keys, Matrix<double> scoreGradient, double scale)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(scoreGradient);
        if (queries.ColumnCount != keys.ColumnCount || scoreGradient.RowCount != queries.RowCount || scoreGradient.ColumnCount != keys.RowCount)
        {
            throw new ArgumentException(
                $"Q is {Check.Shape(queries)}, K is {Check.Shape(keys)} and dS is {Check.Shape(scoreGradient)}: dS needs one row per query and one column per key, and Q and K the same d_k.",
                nameof(scoreGradient));
        }

        var queryGradient = scale * (scoreGradient * keys);                     // dQ = s dS K     [queries x d_k]
        var keyGradient = scale * scoreGradient.TransposeThisAndMultiply(queries); // dK = s dS^T Q [keys x d_k]
        return (queryGradient, keyGradient);
    }
}
