using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Analysis;
using NotebookAttention.Approximations;
using NotebookAttention.Attention;
using NotebookAttention.Cost;

namespace NotebookAttention.Tests.Hardening;

/// <summary>The reference path's overflow, linear attention's extremes, and the cost and statistics helpers.</summary>
public class HelperValidationTests
{
    [Theory]
    [InlineData(1e200, -1e200)]
    [InlineData(1e200, 1e200)]
    public void Scores_that_overflow_fp64_are_an_error_not_a_masked_row(double query, double key)
    {
        var one = (double x) => Matrix<double>.Build.Dense(1, 1, x);
        var error = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(one(query), one(key), one(7)));
        Assert.Contains("overflow", error.Message, StringComparison.Ordinal);
        Assert.Contains("row 0, column 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Masking_refuses_scores_that_are_already_infinite()
    {
        var scores = Matrix<double>.Build.Dense(2, 2, 1.0);
        scores[1, 0] = double.NegativeInfinity;
        var error = Assert.Throws<ArgumentException>(() => Mask.Causal(2).Apply(scores));
        Assert.Contains("-infinity at row 1, column 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Projections_that_overflow_fp64_are_an_error()
    {
        var projection = new LinearProjection(Matrix<double>.Build.Dense(2, 2, 1e300));
        var error = Assert.Throws<ArgumentException>(() => projection.Apply(Matrix<double>.Build.Dense(3, 2, 1e10)));
        Assert.Contains("overflow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weighted_sums_that_overflow_fp64_are_an_error()
    {
        var weights = Matrix<double>.Build.Dense(1, 2, 1.0);
        var values = Matrix<double>.Build.Dense(2, 1, 1.5e308);
        Assert.Contains("overflow", Assert.Throws<ArgumentException>(() => WeightedSum.Of(weights, values)).Message, StringComparison.Ordinal);
        Assert.Contains("overflow", Assert.Throws<ArgumentException>(() => WeightedSum.OfLoops(weights, values)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_elman_network_refuses_a_bad_bias_an_infinite_radius_and_overflowing_states()
    {
        var w = Matrix<double>.Build.DenseIdentity(2);
        Assert.Throws<ArgumentException>(() => new NotebookAttention.Recurrence.ElmanRnn(w, w, Vector<double>.Build.Dense(3)));
        Assert.Throws<ArgumentException>(() => new NotebookAttention.Recurrence.ElmanRnn(w, w, Vector<double>.Build.Dense(2, double.NaN)));
        Assert.Throws<ArgumentOutOfRangeException>(() => NotebookAttention.Recurrence.ElmanRnn.WithSpectralRadius(4, 2, double.PositiveInfinity, 1));
        var huge = new NotebookAttention.Recurrence.ElmanRnn(w, Matrix<double>.Build.DenseOfArray(new[,] { { 1e308, 1e308 }, { 0, 1 } }));
        var error = Assert.Throws<ArgumentException>(() => huge.Forward(Matrix<double>.Build.DenseOfArray(new[,] { { 1e308, -1e308 } })));
        Assert.Contains("overflow", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-800.0)]
    [InlineData(1e200)]
    [InlineData(-1e200)]
    public void Linear_attention_with_equal_extreme_features_averages_the_values(double entry)
    {
        // Every query and key is the same vector, so every similarity is the same and the output is the mean of V.
        var q = Matrix<double>.Build.Dense(5, 3, entry);
        var v = Matrix<double>.Build.Dense(5, 2, (i, j) => i + (10 * j));
        foreach (var output in new[] { LinearAttention.Compute(q, q, v), LinearAttention.ComputeQuadratic(q, q, v) })
        {
            Assert.All(output.Enumerate(), x => Assert.False(double.IsNaN(x)));
            Assert.Equal(2.0, output[0, 0], 12);
            Assert.Equal(12.0, output[4, 1], 12);
        }

        var causal = LinearAttention.Compute(q, q, v, causal: true);
        Assert.Equal(1.0, causal[2, 0], 12);   // mean of rows 0..2
    }

    [Fact]
    public void Linear_attention_keeps_similarities_below_the_fp64_range_in_proportion()
    {
        // s_1 = phi(q) . phi(k_1) = 2 e^-800 and s_2 = e^-800 (1 + e^-1000): weights 2/3 and 1/3, though e^-800 is 0 in fp64.
        var q = Matrix<double>.Build.DenseOfArray(new[,] { { 0.0, -800 } });
        var k = Matrix<double>.Build.DenseOfArray(new[,] { { -800.0, 0 }, { -800, -1000 } });
        var v = Matrix<double>.Build.DenseOfArray(new[,] { { 3.0 }, { 9.0 } });
        Assert.Equal(5.0, LinearAttention.Compute(q, k, v)[0, 0], 12);
        Assert.Equal(5.0, LinearAttention.ComputeQuadratic(q, k, v)[0, 0], 12);
    }

    [Fact]
    public void Linear_attention_averages_values_near_the_fp64_limit_without_overflow()
    {
        var q = Matrix<double>.Build.Dense(300, 2, 0.5);
        var v = Matrix<double>.Build.Dense(300, 1, 1.5e308);
        Assert.Equal(1.5e308, LinearAttention.Compute(q, q, v)[7, 0], 1e295);
        Assert.Equal(1.5e308, LinearAttention.Compute(q, q, v, causal: true)[299, 0], 1e295);
        Assert.Equal(1.5e308, LinearAttention.ComputeQuadratic(q, q, v)[7, 0], 1e295);
    }

    [Theory]
    [InlineData(-5L, 64, 1)]
    [InlineData(5L, 0, 1)]
    [InlineData(5L, 64, 0)]
    public void Attention_cost_refuses_sizes_below_one(long n, int d, int heads) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionCost.Flops(n, d, heads));

    [Fact]
    public void Cost_helpers_refuse_nonsense()
    {
        var speed = Assert.Throws<ArgumentOutOfRangeException>(() => AttentionCost.Estimate(1024, 64, 8, 6, 1, double.PositiveInfinity));
        Assert.Equal("gflopsPerSecond", speed.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionCost.ScoreMatrixBytes(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionCost.ScoreMatrixBytes(10, bytesPerNumber: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionCost.LongestFitting(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionCost.LongestFitting(double.NaN));
    }

    [Theory]
    [InlineData(double.NaN, 0.5)]
    [InlineData(-0.5, 1.5)]
    [InlineData(0.7, 0.7)]
    [InlineData(double.PositiveInfinity, 0)]
    public void Entropy_refuses_rows_that_are_not_weights(double first, double second)
    {
        var error = Assert.Throws<ArgumentException>(() => ScoreStatistics.Entropy(Vector<double>.Build.DenseOfArray([first, second])));
        Assert.Contains("weights", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Entropy_of_valid_rows_is_unchanged()
    {
        Assert.Equal(Math.Log(4), ScoreStatistics.Entropy(Vector<double>.Build.Dense(4, 0.25)), 14);
        Assert.Equal(0.0, ScoreStatistics.Entropy(Vector<double>.Build.DenseOfArray([0, 1, 0])));
    }
}
