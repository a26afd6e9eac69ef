using CsCheck;
using NotebookAttention.Fast;
using NotebookAttention.Pretrained;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>The packed products, softmax exponentials and vectorized GELU of the fast encoder against plain fp64 loops.</summary>
public class PackedMatrixTests
{
    private static readonly Gen<(int Rows, int Inner, int Columns, bool Bias, bool Wide, int Seed)> Shapes =
        from rows in Gen.OneOf(Gen.Int[1, 30], Gen.Int[40, 80])
        from inner in Gen.OneOf(Gen.Int[1, 40], Gen.Int[250, 300])       // across one depth block of 256
        from columns in Gen.OneOf(Gen.Int[1, 40], Gen.Int[60, 70])       // ragged strips of 16 and 32
        from bias in Gen.Bool
        from wide in Gen.Bool
        from seed in Gen.Int[0, 1000]
        select (rows, inner, columns, bias, wide, seed);

    private static float[] Values(int count, int seed) => [.. Enumerable.Range(0, count).Select(i => (float)Math.Sin((seed * 0.7) + (i * 1.3)))];

    /// <summary>The fp64 product, and for each entry the sum of |terms| that bounds fp32 rounding.</summary>
    private static (double[] Value, double[] Magnitude) Expected(float[] a, float[] b, float[] bias, int rows, int inner, int columns, int aStride)
    {
        var c = new double[rows * columns];
        var magnitude = new double[rows * columns];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < columns; j++)
            {
                var sum = bias.Length == 0 ? 0.0 : bias[j];
                var size = Math.Abs(sum);
                for (var k = 0; k < inner; k++)
                {
                    var term = (double)a[(r * aStride) + k] * b[(k * columns) + j];
                    sum += term;
                    size += Math.Abs(term);
                }

                c[(r * columns) + j] = sum;
                magnitude[(r * columns) + j] = size;
            }
        }

        return (c, magnitude);
    }

    /// <summary>Recursive fp32 summation of n + 1 terms errs by at most about (n + 1) 2^-24 times the sum of |terms|.</summary>
    private static void AssertClose((double[] Value, double[] Magnitude) expected, float[] actual, int inner, string what)
    {
        for (var i = 0; i < expected.Value.Length; i++)
        {
            var tolerance = ((inner + 2) * Math.Pow(2, -24) * expected.Magnitude[i]) + 1e-30;
            Assert.True(Math.Abs(expected.Value[i] - actual[i]) <= tolerance, $"{what}: entry {i} is {actual[i]}, expected {expected.Value[i]} (tolerance {tolerance:E1})");
        }
    }

    [Fact]
    public void Packed_product_equals_the_plain_product_for_both_tiles_ragged_shapes_and_threads()
    {
        Property.Holds(Shapes, c =>
        {
            var a = Values(c.Rows * c.Inner, c.Seed);
            var b = Values(c.Inner * c.Columns, c.Seed + 1);
            float[] bias = c.Bias ? Values(c.Columns, c.Seed + 2) : [];
            var packed = new PackedMatrix(b, bias, c.Inner, c.Columns, c.Wide);
            var product = new float[c.Rows * c.Columns];
            packed.Multiply(a, product, c.Rows, threads: 1 + (c.Seed % 3));
            AssertClose(Expected(a, b, bias, c.Rows, c.Inner, c.Columns, c.Inner), product, c.Inner, $"{c}");
        });
    }

    [Fact]
    public void Bad_shapes_get_clear_errors()
    {
        var wrongB = Assert.Throws<ArgumentException>(() => new PackedMatrix(new float[5], [], 2, 3));
        Assert.Contains("[2 x 3] matrix needs 6", wrongB.Message, StringComparison.Ordinal);
        var wrongBias = Assert.Throws<ArgumentException>(() => new PackedMatrix(new float[6], new float[2], 2, 3));
        Assert.Contains("one per column", wrongBias.Message, StringComparison.Ordinal);
        var packed = new PackedMatrix(new float[6], [], 2, 3);
        var wrongA = Assert.Throws<ArgumentException>(() => packed.Multiply(new float[5], new float[9], 3));
        Assert.Contains("[3 x 2] matrix needs 6", wrongA.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => packed.Multiply(new float[6], new float[8], 3));
    }

    [Fact]
    public unsafe void Softmax_exponentials_match_exp_and_never_overflow()
    {
        var gen = Gen.Int[1, 300].SelectMany(n => Gen.Double[-1e4, 1e4].Array[n].Select(Gen.Double[0.01, 1], (values, scale) => (values, scale)));
        Property.Holds(gen, c =>
        {
            var row = c.values.Select(v => (float)v).ToArray();
            var max = row.Max();
            float total;
            fixed (float* p = row)
            {
                total = VectorRows.ExpShiftedInPlace(p, row.Length, VectorRows.RowMax(p, row.Length), (float)c.scale);
            }

            Assert.True(float.IsFinite(total) && total >= 1, $"total {total}");
            var expected = c.values.Select(v => Math.Exp(((float)v - max) * (float)c.scale)).ToArray();
            Assert.Equal(expected.Sum(), total, expected.Sum() * 1e-5);
            for (var i = 0; i < row.Length; i++)
            {
                Assert.True(Math.Abs(row[i] - expected[i]) <= 1e-6 * Math.Max(1, expected[i]), $"entry {i}: {row[i]} vs {expected[i]}");
            }
        });
    }

    [Fact]
    public void Vectorized_gelu_matches_the_exact_one()
    {
        var values = Enumerable.Range(-6000, 12001).Select(i => i / 1000f).ToArray();
        var gelu = values.ToArray();
        Activations.Gelu(gelu);
        for (var i = 0; i < values.Length; i++)
        {
            var exact = MiniLmEncoder.Gelu(values[i]);
            Assert.True(Math.Abs(gelu[i] - exact) <= 2e-6 * Math.Max(1, Math.Abs(exact)), $"GELU({values[i]}) = {gelu[i]}, exact {exact}");
        }
    }
}
