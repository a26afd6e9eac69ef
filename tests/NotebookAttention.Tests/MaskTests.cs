using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Tests;

public class MaskTests
{
    [Fact]
    public void Causal_mask_is_the_lower_triangle()
    {
        Assert.Equal("■··\n■■·\n■■■\n", Mask.Causal(3).ToString());
    }

    [Fact]
    public void Padding_mask_hides_padded_keys_and_padded_queries()
    {
        Assert.Equal("■■··\n■■··\n····\n····\n", Mask.Padding(2, 4).ToString());
        var batch = Mask.Padding([3, 1, 2]);
        Assert.Equal(3, batch.Count);
        Assert.All(batch, m => Assert.Equal(3, m.Keys));
        Assert.Equal("■··\n···\n···\n", batch[1].ToString());
    }

    [Fact]
    public void Causal_and_padding_combine()
    {
        var combined = Mask.Causal(3) & Mask.Padding(2, 3);
        Assert.Equal("■··\n■■·\n···\n", combined.ToString());
        Assert.True(combined.IsFullyMasked(2));
        Assert.False(combined.IsFullyMasked(1));
    }

    [Fact]
    public void Apply_puts_minus_infinity_only_where_masked()
    {
        var scores = Matrix<double>.Build.Dense(2, 2, 5.0);
        var masked = Mask.Causal(2).Apply(scores);
        Assert.Equal(5.0, masked[0, 0]);
        Assert.True(double.IsNegativeInfinity(masked[0, 1]));
        Assert.Equal(5.0, scores[0, 1]);
        Assert.Equal(Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 0 }, { 1, 1 } }), Mask.Causal(2).ToMatrix());
    }

    [Fact]
    public void Fully_masked_query_gets_zero_weights_and_zero_output_not_nan()
    {
        var x = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        var mask = Mask.FromFunction(3, 3, (query, _) => query != 1);
        var result = ScaledDotProductAttention.Compute(x, x, x, mask);
        Assert.Equal([0.0, 0.0, 0.0], result.Weights.Row(1).ToArray());
        Assert.Equal([0.0, 0.0], result.Output.Row(1).ToArray());
        Assert.Equal(1.0, result.Weights.Row(0).Sum(), 12);

        var layer = new MultiHeadAttention(2, 1, seed: 1, bias: true);
        var multi = layer.Forward(x, mask);
        Assert.Equal([0.0, 0.0], multi.Output.Row(1).ToArray());
        Assert.All(multi.Output.Enumerate(), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Mask_of_the_wrong_size_names_both_sizes()
    {
        var x = Matrix<double>.Build.Dense(4, 2, 1.0);
        var error = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(x, x, x, Mask.Causal(3)));
        Assert.Contains("mask is [3 x 3] but the scores are [4 x 4]", error.Message, StringComparison.Ordinal);
        Assert.Contains("Mask.Causal(4)", error.Message, StringComparison.Ordinal);

        var combine = Assert.Throws<ArgumentException>(() => Mask.Causal(3) & Mask.Causal(2));
        Assert.Contains("[3 x 3] mask with a [2 x 2] mask", combine.Message, StringComparison.Ordinal);

        var length = Assert.Throws<ArgumentOutOfRangeException>(() => Mask.Padding(5, 4));
        Assert.Contains("valid length 5 does not fit a sequence padded to 4", length.Message, StringComparison.Ordinal);
    }
}
