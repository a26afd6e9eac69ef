using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Fast;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests.Fast;

/// <summary>
/// Every register tile of <see cref="Microkernels"/> (AVX-512, AVX2) gives the portable loop's bits, and the attention
/// core gives the reference's output at every kernel level, in every pass, on strided operands. The level is
/// process-wide, so these tests run alone.
/// </summary>
[Collection(MeasurementsRunAlone.Name)]
public class KernelLevelTests
{
    /// <summary>The levels this CPU runs, portable first.</summary>
    private static readonly KernelLevel[] Levels = [.. Enum.GetValues<KernelLevel>().Where(level => level <= Microkernels.Supported)];

    /// <summary>The AVX2 layout of a packed matrix (strips of 16) and the AVX-512 one (strips of 32).</summary>
    private static readonly bool[] Layouts = [false, true];

    private static float[] Values(int count, int seed) => [.. Enumerable.Range(0, count).Select(i => (float)Math.Sin((seed * 0.7) + (i * 1.3)))];

    [Fact]
    public void The_cpu_runs_the_levels_it_reports_and_refuses_wider_ones()
    {
        Assert.Equal(KernelLevel.Portable, Levels[0]);
        Assert.Equal(Microkernels.Supported, Microkernels.Level);
        if (Microkernels.Supported < KernelLevel.Avx512)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => KernelSwitch.WithLevel(KernelLevel.Avx512, () => 0));
            Assert.Contains("this CPU runs kernels up to", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public unsafe void Strided_product_tiles_give_the_portable_bits_at_every_level()
    {
        var shapes =
            from tiles in Gen.Int[1, 4]
            from strips in Gen.Int[1, 6]                                   // 16 to 96 columns: 32-wide tiles and a 16-wide rest
            from depth in Gen.OneOf(Gen.Int[0, 40], Gen.Int[250, 300])
            from pads in Gen.Int[0, 5].Array[3]
            from accumulate in Gen.Bool
            from seed in Gen.Int[0, 1000]
            select (Rows: tiles * Microkernels.Rows, Columns: strips * Microkernels.Columns, Depth: depth, Pads: pads, Accumulate: accumulate, Seed: seed);
        Property.Holds(shapes, c =>
        {
            var (aStride, bStride, cStride) = (c.Depth + c.Pads[0], c.Columns + c.Pads[1], c.Columns + c.Pads[2]);
            var a = Values(c.Rows * aStride, c.Seed);
            var b = Values(Math.Max(1, c.Depth * bStride), c.Seed + 1);
            var start = Values(c.Rows * cStride, c.Seed + 2);
            float[] Run(KernelLevel level) => KernelSwitch.WithLevel(level, () =>
            {
                var product = start.ToArray();
                fixed (float* pa = a, pb = b, pc = product)
                {
                    Microkernels.Product(pa, aStride, pb, bStride, c.Depth, pc, cStride, c.Rows, c.Columns, c.Accumulate);
                }

                return product;
            });

            var portable = Run(KernelLevel.Portable);
            for (var r = 0; r < c.Rows; r++)
            {
                for (var j = 0; j < cStride; j++)
                {
                    var i = (r * cStride) + j;
                    if (j >= c.Columns)
                    {
                        Assert.Equal(start[i], portable[i]);   // past the columns: untouched
                        continue;
                    }

                    double sum = c.Accumulate ? start[i] : 0, size = Math.Abs(sum);
                    for (var k = 0; k < c.Depth; k++)
                    {
                        sum += (double)a[(r * aStride) + k] * b[(k * bStride) + j];
                        size += Math.Abs((double)a[(r * aStride) + k] * b[(k * bStride) + j]);
                    }

                    Assert.True(Math.Abs(sum - portable[i]) <= ((c.Depth + 2) * Math.Pow(2, -24) * size) + 1e-30, $"{c}: entry ({r}, {j}) is {portable[i]}, fp64 {sum}");
                }
            }

            foreach (var level in Levels.Skip(1))
            {
                Assert.Equal(portable, Run(level));
            }
        });
    }

    [Fact]
    public unsafe void Packed_tiles_give_the_portable_bits_at_every_level()
    {
        var shapes =
            from wide in Gen.Bool
            from depth in Gen.OneOf(Gen.Int[0, 40], Gen.Int[250, 256])
            from pad in Gen.Int[0, 5]
            from seed in Gen.Int[0, 1000]
            select (Wide: wide, Depth: depth, Pad: pad, Seed: seed);
        Property.Holds(shapes, c =>
        {
            var (rows, width) = (Microkernels.PackedRows(c.Wide), c.Wide ? 32 : 16);
            var cStride = width + c.Pad;
            var a = Values(Math.Max(1, c.Depth * rows), c.Seed);          // A_tile packed k-major: a[k * rows + r]
            var b = Values(Math.Max(1, c.Depth * width), c.Seed + 1);     // B_strip packed k-major: b[k * width + j]
            var start = Values(rows * cStride, c.Seed + 2);
            float[] Run(KernelLevel level) => KernelSwitch.WithLevel(level, () =>
            {
                var product = start.ToArray();
                fixed (float* pa = a, pb = b, pc = product)
                {
                    Microkernels.PackedTile(c.Wide, pa, pb, c.Depth, pc, cStride);
                }

                return product;
            });

            var portable = Run(KernelLevel.Portable);
            for (var r = 0; r < rows; r++)
            {
                for (var j = 0; j < width; j++)
                {
                    double sum = start[(r * cStride) + j], size = Math.Abs(sum);
                    for (var k = 0; k < c.Depth; k++)
                    {
                        sum += (double)a[(k * rows) + r] * b[(k * width) + j];
                        size += Math.Abs((double)a[(k * rows) + r] * b[(k * width) + j]);
                    }

                    Assert.True(Math.Abs(sum - portable[(r * cStride) + j]) <= ((c.Depth + 2) * Math.Pow(2, -24) * size) + 1e-30, $"{c}: entry ({r}, {j})");
                }
            }

            foreach (var level in Levels.Skip(1))
            {
                Assert.Equal(portable, Run(level));
            }
        });
    }

    [Fact]
    public void Packed_products_give_the_same_bits_for_both_layouts_at_every_level()
    {
        var shapes =
            from rows in Gen.OneOf(Gen.Int[1, 30], Gen.Int[40, 80])
            from inner in Gen.OneOf(Gen.Int[1, 40], Gen.Int[250, 300])
            from columns in Gen.OneOf(Gen.Int[1, 40], Gen.Int[60, 70])
            from bias in Gen.Bool
            from threads in Gen.Int[1, 3]
            from seed in Gen.Int[0, 1000]
            select (Rows: rows, Inner: inner, Columns: columns, Bias: bias, Threads: threads, Seed: seed);
        Property.Holds(shapes, c =>
        {
            var a = Values(c.Rows * c.Inner, c.Seed);
            var b = Values(c.Inner * c.Columns, c.Seed + 1);
            float[] bias = c.Bias ? Values(c.Columns, c.Seed + 2) : [];
            var products = Levels.SelectMany(level => Layouts.Select(wide => KernelSwitch.WithLevel(level, () =>
            {
                var product = new float[c.Rows * c.Columns];
                new PackedMatrix(b, bias, c.Inner, c.Columns, wide).Multiply(a, product, c.Rows, c.Threads);
                return product;
            }))).ToList();
            Assert.All(products.Skip(1), product => Assert.Equal(products[0], product));
        });
    }

    [Fact]
    public unsafe void Every_pass_of_the_core_reads_strided_heads_and_matches_the_reference_at_every_level()
    {
        var cases =
            from n in Gen.Frequency((4, Gen.Int[1, 40]), (1, Gen.Int[AttentionCore.QueryBlock + 1, 200]))
            from depth in Gen.OneOf(Gen.Int[1, 20], Gen.Const(32))
            from valueDepth in Gen.OneOf(Gen.Int[1, 20], Gen.Const(32))
            from heads in Gen.Int[1, 3]
            from pass in Gen.Enum<AttentionPass>()
            from mask in Generators.FastMask(n, n)
            from seed in Gen.Int[0, 1000]
            select (N: n, Depth: depth, ValueDepth: valueDepth, Heads: heads, Pass: pass, Mask: mask, Seed: seed);
        Property.Holds(cases, c =>
        {
            // The encoder's layout: row t of the fused projection holds [Q_0 .. Q_h | K_0 .. K_h | V_0 .. V_h].
            var width = c.Heads * ((2 * c.Depth) + c.ValueDepth);
            var fused = Values(c.N * width, c.Seed);
            var head = c.Seed % c.Heads;
            var (qColumn, kColumn, vColumn) = (head * c.Depth, (c.Heads + head) * c.Depth, (2 * c.Heads * c.Depth) + (head * c.ValueDepth));
            Matrix<double> Slice(int column, int columns) => Matrix<double>.Build.Dense(c.N, columns, (r, j) => fused[(r * width) + column + j]);
            var (q, k, v) = (Slice(qColumn, c.Depth), Slice(kColumn, c.Depth), Slice(vColumn, c.ValueDepth));
            var reference = ScaledDotProductAttention.Compute(q, k, v, c.Mask.ToMask(c.N, c.N)).Output;
            var bound = Fp32Error.Attention(q, k, v);
            var outputStride = c.Heads * c.ValueDepth;
            foreach (var level in Levels)
            {
                var output = KernelSwitch.WithLevel(level, () =>
                {
                    var context = new float[c.N * outputStride];
                    fixed (float* pf = fused, po = context)
                    {
                        AttentionCore.Run(c.Pass, new StridedRows(pf + qColumn, width), new StridedRows(pf + kColumn, width), new StridedRows(pf + vColumn, width),
                            new StridedRows(po + (head * c.ValueDepth), outputStride), c.N, c.N, c.Depth, c.ValueDepth, c.Mask, threads: 1 + (c.Seed % 2), checkNumbers: true, CancellationToken.None);
                    }

                    return context;
                });
                var fast = Matrix<double>.Build.Dense(c.N, c.ValueDepth, (r, j) => output[(r * outputStride) + (head * c.ValueDepth) + j]);
                FastAttentionTests.AssertAgrees(reference, fast, bound, c.Mask.ToMask(c.N, c.N), $"{c.Pass} at {level}, {c}");
                Assert.All(Enumerable.Range(0, c.N * outputStride).Where(i => (i % outputStride) / c.ValueDepth != head), i => Assert.Equal(0f, output[i]));
            }
        });
    }
}
