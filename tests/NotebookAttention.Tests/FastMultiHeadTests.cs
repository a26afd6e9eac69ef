using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Fast;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

public class FastMultiHeadTests
{
    [Fact]
    public void Fast_matrix_product_matches_mathnet_with_bias()
    {
        var cases =
            from rows in Gen.Int[1, 200]
            from inner in Gen.Int[1, 70]
            from columns in Gen.OneOf(Gen.Int[1, 50], Gen.OneOf(16, 32, 64, 384))
            from a in Generators.Matrix(rows, inner)
            from b in Generators.Matrix(inner, columns)
            from bias in Generators.Matrix(1, columns)
            select (a, b, bias);
        cases.Sample(c =>
        {
            var output = new float[c.a.RowCount * c.b.ColumnCount];
            FastMatrix.Multiply(Fp32.FromMatrix(c.a), Fp32.FromMatrix(c.b), Fp32.FromMatrix(c.bias), output, c.a.RowCount, c.a.ColumnCount, c.b.ColumnCount);
            var expected = (c.a * c.b).MapIndexed((_, j, x) => x + c.bias[0, j]);
            var error = Generators.MaxAbsDifference(expected, Fp32.ToMatrix(output, c.a.RowCount, c.b.ColumnCount));
            Assert.True(error < 1e-4 * Math.Max(1, c.a.ColumnCount), $"error {error}");
        }, iter: 200);
    }

    [Fact]
    public void Fast_multi_head_attention_matches_the_reference_layer()
    {
        var cases =
            from n in Gen.OneOf(Gen.Int[1, 20], Gen.Int[90, 200])
            from heads in Gen.OneOf(1, 2, 4)
            from headWidth in Gen.OneOf(4, 16)
            from bias in Gen.Bool
            from causal in Gen.Bool
            from seed in Gen.Int
            from x in Generators.Matrix(n, heads * headWidth, bound: 2)
            from valid in Gen.Int[0, n]
            from padding in Gen.Bool
            select (x, heads, bias, causal, seed, valid: padding ? valid : (int?)null);
        cases.Sample(c =>
        {
            var layer = new MultiHeadAttention(c.x.ColumnCount, c.heads, c.seed, c.bias);
            var mask = new FastMask(c.valid, c.causal);
            var reference = layer.Forward(c.x, mask.ToMask(c.x.RowCount, c.x.RowCount)).Output;
            var fast = new FastMultiHeadAttention(layer).Forward(c.x, mask);
            var error = Generators.MaxAbsDifference(reference, fast);
            Assert.True(error < 1e-4, $"n={c.x.RowCount} heads={c.heads} error {error:E2}");
        }, iter: 100);
    }
}
