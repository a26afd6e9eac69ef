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
        AttentionChecks.ScoreInputs(queries, keys);
        return ComputeUnchecked(queries, keys, scaled: false);
    }

    /// <summary>Scores as attention uses them: S = Q K^T / sqrt(d_k), or Q K^T when <paramref name="scaled"/> is false.</summary>
    /// <param name="queries">Q, shape [queries x d_k].</param>
    /// <param name="keys">K, shape [keys x d_k].</param>
    /// <param name="scaled">Divide by sqrt(d_k) (the default); false shows what happens without it.</param>
    /// <returns>S, shape [queries x keys].</returns>
    public static Matrix<double> Compute(Matrix<double> queries, Matrix<double> keys, bool scaled = true)
    {
        AttentionChecks.ScoreInputs(queries, keys);
        return ComputeUnchecked(queries, keys, scaled);
    }

    /// <summary><see cref="Compute"/> on inputs an entry point has checked: finite, the same d_k, S fits in memory.</summary>
    internal static Matrix<double> ComputeUnchecked(Matrix<double> queries, Matrix<double> keys, bool scaled)
    {
        var scores = queries * keys.Transpose();   // S = Q K^T  [queries x keys]
        // An overflowed score would be -infinity (read as masked by the softmax) or +infinity/NaN: refuse it here,
        // so that every -infinity the softmax sees comes from a mask.
        AttentionChecks.ScoresInRange(scores);
        if (scaled)
        {
            scores.Multiply(ScaleFactor(queries.ColumnCount), scores);   // S / sqrt(d_k)
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
        AttentionChecks.ScoreGradient(queries, keys, scoreGradient);
        return BackwardUnchecked(queries, keys, scoreGradient, scale);
    }

    /// <summary><see cref="Backward"/> on shapes an entry point has checked.</summary>
    internal static (Matrix<double> DQueries, Matrix<double> DKeys) BackwardUnchecked(Matrix<double> queries, Matrix<double> keys, Matrix<double> scoreGradient, double scale)
    {
        var queryGradient = scale * (scoreGradient * keys);                        // dQ = s dS K   [queries x d_k]
        var keyGradient = scale * scoreGradient.TransposeThisAndMultiply(queries); // dK = s dS^T Q [keys x d_k]
        return (queryGradient, keyGradient);
    }
}
