using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Fast;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>The fp32 product and multi-head layer agree with MathNet and the fp64 reference layer within fp32's rounding error.</summary>
public class FastMultiHeadTests
{
    [Fact]
    public void Fast_matrix_product_matches_mathnet_with_bias_within_the_fp32_bound()
    {
        var cases =
            from rows in Generators.Length
            from inner in Gen.Frequency((3, Gen.Int[1, 70]), (1, Gen.Int[200, 300]))
            from columns in Gen.OneOf(Gen.Int[1, 50], Gen.OneOf(Gen.Const(16), Gen.Const(32), Gen.Const(64), Gen.Const(384)))
            from scale in Gen.OneOf(Gen.Const(1.0), Gen.Const(1e3), Gen.Const(1e-20))
            from a in Generators.Matrix(rows, inner)
            from b in Generators.Matrix(inner, columns)
            from bias in Generators.Matrix(1, columns)
            select (a: a * scale, b, bias: bias.Row(0));
        Property.Holds(cases, c =>
        {
            var output = new float[c.a.RowCount * c.b.ColumnCount];
            FastMatrix.Multiply(Fp32.FromMatrix(c.a), Fp32.FromMatrix(c.b), Fp32.FromVector(c.bias), output, c.a.RowCount, c.a.ColumnCount, c.b.ColumnCount);
            var expected = (c.a * c.b).MapIndexed((_, j, x) => x + c.bias[j]);
            var fast = Fp32.ToMatrix(output, c.a.RowCount, c.b.ColumnCount);
            AssertWithinEntrywise(expected, fast, Fp32Error.Product(c.a, c.b, c.bias), $"[{c.a.RowCount} x {c.a.ColumnCount}] x [{c.b.RowCount} x {c.b.ColumnCount}]");
        });
    }

    [Fact]
    public void Fast_multi_head_attention_matches_the_reference_layer_within_the_fp32_bound()
    {
        var cases =
            from n in Generators.Length
            from heads in Gen.OneOf(Gen.Const(1), Gen.Const(2), Gen.Const(4))
            from headWidth in Gen.OneOf(Gen.Const(4), Gen.Const(16), Gen.Int[1, 32])
            from bias in Gen.Bool
            from seed in Gen.Int
            from x in Generators.Matrix(n, heads * headWidth, bound: 2)
            from mask in Generators.FastMask(n, n)
            select (x, heads, bias, seed, mask);
        Property.Holds(cases, c =>
        {
            var layer = new MultiHeadAttention(c.x.ColumnCount, c.heads, c.seed, c.bias);
            var reference = layer.Forward(c.x, c.mask.ToMask(c.x.RowCount, c.x.RowCount));
            var fast = new FastMultiHeadAttention(layer).Forward(c.x, c.mask);
            AssertWithinEntrywise(reference.Output, fast, Bound(layer, c.x, reference), $"n={c.x.RowCount} heads={c.heads} {c.mask}");
        });
    }

    private static void AssertWithinEntrywise(Matrix<double> expected, Matrix<double> actual, Matrix<double> bound, string what)
    {
        var (worstRow, worstColumn, worstRatio) = (0, 0, 0.0);
        for (var i = 0; i < expected.RowCount; i++)
        {
            for (var j = 0; j < expected.ColumnCount; j++)
            {
                var ratio = Math.Abs(actual[i, j] - expected[i, j]) / bound[i, j];
                if (!(ratio <= worstRatio))
                {
                    (worstRow, worstColumn, worstRatio) = (i, j, ratio);
                }
            }
        }

        Assert.True(worstRatio <= 1, $"{what}: entry ({worstRow}, {worstColumn}) is off by {Math.Abs(actual[worstRow, worstColumn] - expected[worstRow, worstColumn]):E2}, over its bound {bound[worstRow, worstColumn]:E2}");
    }

    /// <summary>
    /// The fp32 error bound carried through the layer: the three projections (<see cref="Fp32Error.Product"/>), each
    /// head's attention on inputs carrying those errors (<see cref="Fp32Error.Attention"/>), then the output
    /// projection of heads that carry theirs: |e_H| |W_O| + gamma(d_v + 3) ((|H| + e_H) |W_O| + |b_O|).
    /// </summary>
    private static Matrix<double> Bound(MultiHeadAttention layer, Matrix<double> x, MultiHeadAttentionResult reference)
    {
        var p = layer.Projections;
        var queryError = Fp32Error.Product(x, p.Query.Weight, p.Query.Bias);
        var keyError = Fp32Error.Product(x, p.Key.Weight, p.Key.Bias);
        var valueError = Fp32Error.Product(x, p.Value.Weight, p.Value.Bias);
        var (dk, dv, n) = (layer.HeadDK, layer.HeadDV, x.RowCount);
        var headError = Matrix<double>.Build.Dense(n, dv * layer.Heads);
        for (var h = 0; h < layer.Heads; h++)
        {
            double Largest(Matrix<double> error, int width) => error.SubMatrix(0, n, h * width, width).Enumerate().Max();
            var q = reference.Queries.SubMatrix(0, n, h * dk, dk);
            var k = reference.Keys.SubMatrix(0, n, h * dk, dk);
            var v = reference.Values.SubMatrix(0, n, h * dv, dv);
            var error = Fp32Error.Attention(q, k, v, Largest(queryError, dk), Largest(keyError, dk), Largest(valueError, dv));
            headError.SetSubMatrix(0, h * dv, Matrix<double>.Build.Dense(n, dv, error));
        }

        var output = layer.OutputProjection;
        return (headError * output.Weight.PointwiseAbs()) + Fp32Error.Product(reference.Concatenated.PointwiseAbs() + headError, output.Weight, output.Bias);
    }
}
