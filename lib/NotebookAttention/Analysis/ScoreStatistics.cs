using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using NotebookAttention.Attention;

namespace NotebookAttention.Analysis;

/// <summary>
/// Measurements behind the 1/sqrt(d_k) scale: how the spread of dot products, and with it the peakedness of
/// the softmax, grows with d_k, and how scaling removes that growth.
/// </summary>
/// <remarks>
/// Queries and keys are drawn with independent standard normal entries (mean 0, variance 1), the assumption
/// of Vaswani et al. (2017). Every measurement is seeded, so a class sees the same numbers.
/// </remarks>
public static class ScoreStatistics
{
    /// <summary>Measured variance of q . k (or q . k / sqrt(d_k)) over <paramref name="samples"/> random pairs.</summary>
    /// <param name="dK">Vector length d_k.</param>
    /// <param name="samples">Number of random (q, k) pairs, at least 2.</param>
    /// <param name="seed">Seed.</param>
    /// <param name="scaled">Divide each dot product by sqrt(d_k).</param>
    /// <returns>The sample variance; theory says d_k unscaled and 1 scaled.</returns>
    public static double DotProductVariance(int dK, int samples, int seed, bool scaled)
    {
        Check.AtLeast(dK, 1, "d_k", nameof(dK));
        Check.AtLeast(samples, 2, "samples", nameof(samples));
        var normal = new Normal(0, 1, new Xoshiro256StarStar(seed, threadSafe: false));
        var scale = scaled ? Scores.ScaleFactor(dK) : 1.0;
        var products = new double[samples];
        for (var s = 0; s < samples; s++)
        {
            var q = Vector<double>.Build.Random(dK, normal);
            var k = Vector<double>.Build.Random(dK, normal);
            products[s] = q.DotProduct(k) * scale;
        }

        return MathNet.Numerics.Statistics.Statistics.Variance(products);
    }

    /// <summary>
    /// How peaked softmax rows are: the mean entropy and mean largest weight of softmax(q K^T (/ sqrt(d_k)))
    /// for random queries against <paramref name="keys"/> random keys.
    /// </summary>
    /// <param name="dK">Vector length d_k.</param>
    /// <param name="keys">Keys per row (the sequence length).</param>
    /// <param name="samples">Number of random rows.</param>
    /// <param name="seed">Seed.</param>
    /// <param name="scaled">Divide scores by sqrt(d_k).</param>
    /// <returns>Mean entropy in nats (ln(keys) is uniform, 0 is one-hot) and mean maximum weight.</returns>
    public static (double MeanEntropy, double MeanMaxWeight) Peakedness(int dK, int keys, int samples, int seed, bool scaled)
    {
        Check.AtLeast(dK, 1, "d_k", nameof(dK));
        Check.AtLeast(keys, 1, "keys", nameof(keys));
        Check.AtLeast(samples, 1, "samples", nameof(samples));
        var normal = new Normal(0, 1, new Xoshiro256StarStar(seed, threadSafe: false));
        var entropy = 0.0;
        var maxWeight = 0.0;
        for (var s = 0; s < samples; s++)
        {
            var q = Matrix<double>.Build.Random(1, dK, normal);
            var k = Matrix<double>.Build.Random(keys, dK, normal);
            var weights = Softmax.Stable(Scores.Compute(q, k, scaled).Row(0));
            entropy += Entropy(weights);
            maxWeight += weights.Maximum();
        }

        return (entropy / samples, maxWeight / samples);
    }

    /// <summary>Entropy of a weight row in nats, -sum w ln w (terms with w = 0 count as 0).</summary>
    /// <param name="weights">Weights that sum to 1.</param>
    /// <returns>The entropy: 0 for one-hot, ln(n) for uniform.</returns>
    /// <exception cref="ArgumentException">An entry is NaN, infinite, negative or above 1, or the entries do not sum to 1.</exception>
    public static double Entropy(Vector<double> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        for (var j = 0; j < weights.Count; j++)
        {
            if (!(weights[j] >= 0 && weights[j] <= 1))
            {
                throw new ArgumentException(
                    $"weights[{j}] is {weights[j]}: entropy is defined for attention weights, each between 0 and 1 and summing to 1; pass a softmax row.",
                    nameof(weights));
            }
        }

        // Rounding in a softmax row of n entries leaves its sum within about n * 2^-53 of 1.
        var sum = weights.Sum();
        if (Math.Abs(sum - 1) > 1e-9 * Math.Max(1, weights.Count))
        {
            throw new ArgumentException(
                $"the weights sum to {sum}: entropy is defined for attention weights, which sum to 1; pass a softmax row (a fully masked row has no distribution).",
                nameof(weights));
        }

        return -weights.Where(w => w > 0).Sum(w => w * Math.Log(w));
    }
}
