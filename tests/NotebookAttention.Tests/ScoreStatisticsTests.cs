using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Analysis;

namespace NotebookAttention.Tests;

public class ScoreStatisticsTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(64)]
    [InlineData(256)]
    public void Dot_product_variance_grows_like_d_k_and_scaling_brings_it_to_one(int dK)
    {
        var raw = ScoreStatistics.DotProductVariance(dK, 20_000, seed: 1, scaled: false);
        var scaled = ScoreStatistics.DotProductVariance(dK, 20_000, seed: 1, scaled: true);
        Assert.InRange(raw / dK, 0.9, 1.1);
        Assert.InRange(scaled, 0.9, 1.1);
        Assert.Equal(raw / dK, scaled, 9);
    }

    [Fact]
    public void Without_scaling_softmax_gets_more_peaked_as_d_k_grows()
    {
        var small = ScoreStatistics.Peakedness(4, 16, 500, seed: 2, scaled: false);
        var large = ScoreStatistics.Peakedness(256, 16, 500, seed: 2, scaled: false);
        Assert.True(large.MeanMaxWeight > 0.9, $"max weight at d_k = 256 was {large.MeanMaxWeight}");
        Assert.True(large.MeanEntropy < small.MeanEntropy / 3);

        var scaledSmall = ScoreStatistics.Peakedness(4, 16, 500, seed: 2, scaled: true);
        var scaledLarge = ScoreStatistics.Peakedness(256, 16, 500, seed: 2, scaled: true);
        Assert.InRange(scaledLarge.MeanEntropy - scaledSmall.MeanEntropy, -0.15, 0.15);
    }

    [Fact]
    public void Entropy_is_zero_for_one_hot_and_ln_n_for_uniform()
    {
        Assert.Equal(0.0, ScoreStatistics.Entropy(Vector<double>.Build.Dense([0, 1, 0])));
        Assert.Equal(Math.Log(4), ScoreStatistics.Entropy(Vector<double>.Build.Dense(4, 0.25)), 12);
    }
}
