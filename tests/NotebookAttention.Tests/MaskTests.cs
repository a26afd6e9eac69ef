using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Fast;

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
    public void Fully_masked_query_gets_zero_weights_and_zero_output_not_nan_on_every_path()
    {
        // The one test of a row that attends to nothing, on every path that computes softmax or attention (the
        // fast-path property in FastAttentionTests also checks exact zeros for every fully masked row it generates).
        Assert.Equal([0.0, 0.0], Softmax.Stable(Vector<double>.Build.Dense([double.NegativeInfinity, double.NegativeInfinity])).ToArray());
        var rows = Softmax.Rows(Matrix<double>.Build.DenseOfArray(new double[,] { { 0, 0 }, { double.NegativeInfinity, double.NegativeInfinity } }));
        Assert.Equal([0.5, 0.5, 0.0, 0.0], [rows[0, 0], rows[0, 1], rows[1, 0], rows[1, 1]]);

        var x = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        var mask = Mask.FromFunction(3, 3, (query, _) => query != 1);
        var result = ScaledDotProductAttention.Compute(x, x, x, mask);
        Assert.Equal([0.0, 0.0, 0.0], result.Weights.Row(1).ToArray());
        Assert.Equal([0.0, 0.0], result.Output.Row(1).ToArray());
        Assert.Equal(1.0, result.Weights.Row(0).Sum(), 12);

        // A bias in the output projection must not leak into a row that attends to nothing.
        var layer = new MultiHeadAttention(2, 1, seed: 1, bias: true);
        var multi = layer.Forward(x, mask);
        Assert.Equal([0.0, 0.0], multi.Output.Row(1).ToArray());
        Assert.All(multi.Output.Enumerate(), v => Assert.True(double.IsFinite(v)));

        // Fast paths: padded queries (valid length 2 of 3) and a sequence with no real token.
        foreach (var valid in new[] { 2, 0 })
        {
            var padding = new FastMask(ValidLength: valid);
            foreach (var fast in new[] { FastAttention.Tiled(x, x, x, padding), FastAttention.Materialized(x, x, x, padding), new FastMultiHeadAttention(layer).Forward(x, padding) })
            {
                Assert.All(fast.SubMatrix(valid, 3 - valid, 0, 2).Enumerate(), v => Assert.Equal(0.0, v));
                Assert.All(fast.Enumerate(), v => Assert.True(double.IsFinite(v)));
            }
        }
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
