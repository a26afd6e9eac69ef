using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Fast;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests.Hardening;

/// <summary>Bad numbers on the fast path: refused where they enter, or caught where fp32 overflows, never returned.</summary>
public class FastPathBadInputTests
{
    private const int N = 150;   // more than one query block (96) and one key block (128)
    private const int D = 8;

    public static TheoryData<string, float, bool> NonFiniteEntries()
    {
        var data = new TheoryData<string, float, bool>();
        foreach (var matrix in new[] { "queries Q", "keys K", "values V" })
        {
            foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                data.Add(matrix, bad, true);
                data.Add(matrix, bad, false);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(NonFiniteEntries))]
    public void A_non_finite_entry_in_a_buffer_is_refused_with_its_matrix_row_and_column(string matrix, float bad, bool tiled)
    {
        var (q, k, v) = (Filled(N * D, 0.25f), Filled(N * D, -0.5f), Filled(N * D, 1f));
        var target = matrix switch { "queries Q" => q, "keys K" => k, _ => v };
        target[(130 * D) + 3] = bad;
        var output = new float[N * D];

        var error = Assert.Throws<ArgumentException>(() => Run(tiled, q, k, v, output));

        Assert.Contains($"{matrix} [{N} x {D}] has", error.Message, StringComparison.Ordinal);
        Assert.Contains("at row 130, column 3", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Scores_that_overflow_fp32_are_an_error_not_a_NaN_or_a_zero_row(bool tiled)
    {
        // 1e20 is a finite fp32, but q . k = 8e40 is not.
        foreach (var keySign in new[] { 1f, -1f })
        {
            var q = Filled(N * D, 1e20f);
            var k = Filled(N * D, keySign * 1e20f);
            var error = Assert.Throws<ArgumentException>(() => Run(tiled, q, k, Filled(N * D, 1f), new float[N * D]));
            Assert.Contains("overflow", error.Message, StringComparison.Ordinal);
            Assert.Contains("fp32", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_query_the_mask_leaves_without_keys_still_gets_a_zero_row_not_an_overflow_error(bool tiled)
    {
        // 300 queries, 10 keys, window 5: queries from 15 on see no key at all, which is the mask's doing.
        var (queries, keys) = (300, 10);
        var q = Filled(queries * D, 0.5f);
        var kv = Filled(keys * D, 0.5f);
        var output = new float[queries * D];
        var mask = new FastMask(Window: 5);
        if (tiled)
        {
            FastAttention.Tiled(q, kv, kv, output, queries, keys, D, D, mask);
        }
        else
        {
            FastAttention.Materialized(q, kv, kv, output, queries, keys, D, D, mask);
        }

        Assert.Equal(0.5f, output[(14 * D) + 2], 5);
        Assert.All(output[(15 * D)..], x => Assert.Equal(0f, x));
    }

    [Fact]
    public void Tiled_running_sums_that_overflow_fp32_are_an_error()
    {
        // Each value is finite in fp32, but the tiled pass's unnormalised running sum of 150 of them is not.
        var error = Assert.Throws<ArgumentException>(() => Run(true, Filled(N * D, 0f), Filled(N * D, 0f), Filled(N * D, 3e38f), new float[N * D]));
        Assert.Contains("values V", error.Message, StringComparison.Ordinal);
        Assert.Contains("overflow", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("queries Q", 1e39)]
    [InlineData("keys K", -1e39)]
    [InlineData("values V", 1e39)]
    public void Doubles_beyond_the_fp32_range_are_refused_on_the_matrix_overloads(string matrix, double huge)
    {
        var (q, k, v) = (Matrix<double>.Build.Dense(5, 4, 0.5), Matrix<double>.Build.Dense(5, 4, 0.5), Matrix<double>.Build.Dense(5, 4, 0.5));
        var target = matrix switch { "queries Q" => q, "keys K" => k, _ => v };
        target[2, 1] = huge;

        foreach (var run in new Func<Matrix<double>>[] { () => FastAttention.Tiled(q, k, v), () => FastAttention.Materialized(q, k, v) })
        {
            var error = Assert.Throws<ArgumentException>(run);
            Assert.Contains($"{matrix} [5 x 4] has {huge:G3} at row 2, column 1", error.Message, StringComparison.Ordinal);
            Assert.Contains("fp32", error.Message, StringComparison.Ordinal);
            Assert.Contains("±3.4e38", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Doubles_beyond_the_fp32_range_are_refused_by_the_conversion_itself()
    {
        var matrix = Matrix<double>.Build.Dense(2, 3);
        matrix[1, 2] = -5e40;
        var error = Assert.Throws<ArgumentException>(() => Fp32.FromMatrix(matrix));
        Assert.Contains("at row 1, column 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("fp32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fast_multi_head_attention_refuses_a_NaN_input_on_its_buffer_overload()
    {
        var layer = new FastMultiHeadAttention(new MultiHeadAttention(8, 2));
        var input = Filled(10 * 8, 0.5f);
        input[(7 * 8) + 4] = float.NaN;
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(input, new float[10 * 8], 10));
        Assert.Contains("input X [10 x 8] has NaN at row 7, column 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fast_multi_head_attention_reports_projections_that_overflow_fp32()
    {
        // All-ones weights: each projected entry is the sum of 8 entries of 3e38, beyond fp32.
        var ones = new LinearProjection(Matrix<double>.Build.Dense(8, 8, 1.0));
        var layer = new FastMultiHeadAttention(new MultiHeadAttention(new QkvProjections(ones, ones, ones), ones, 2));
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(Filled(10 * 8, 3e38f), new float[10 * 8], 10));
        Assert.Contains("overflow", error.Message, StringComparison.Ordinal);
        Assert.Contains("fp32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Any_finite_input_gives_a_finite_output_or_a_clear_error_and_only_when_fp32_can_overflow()
    {
        // Magnitudes from 1e-30 to 1e30 per matrix, so some cases overflow fp32 in Q K^T or in P V and some cannot;
        // queries and keys differ in number and the masks vary, so some queries legitimately see no key.
        var cases =
            from queries in Gen.Int[1, 2 * FastAttention.KeyBlock + 5]
            from keys in Gen.Int[1, 2 * FastAttention.KeyBlock + 5]
            from d in Gen.Int[1, 20]
            from exponents in Gen.Int[-30, 30].Array[3]
            from causal in Gen.Bool
            from window in Gen.Int[-1, 40]
            from validDraw in Gen.Int[-1, 300]
            from seed in Gen.Int
            from tiled in Gen.Bool
            let valid = validDraw >= 0 && validDraw <= Math.Min(queries, keys) ? validDraw : (int?)null
            select (queries, keys, d, exponents, mask: new FastMask(valid, causal, window < 0 ? null : window), seed, tiled);
        Property.Holds(cases, c =>
        {
            var random = new Random(c.seed);
            float[] Draw(int length, int exponent) =>
                [.. Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2) - 1) * MathF.Pow(10, exponent))];
            var (q, k, v) = (Draw(c.queries * c.d, c.exponents[0]), Draw(c.keys * c.d, c.exponents[1]), Draw(c.keys * c.d, c.exponents[2]));
            var output = new float[c.queries * c.d];
            // |q . k| <= d max|q| max|k|, and the tiled pass's running sums <= keys max|v|: below 1e37 neither can overflow.
            var canOverflow = c.d * Math.Pow(10, c.exponents[0] + c.exponents[1]) >= 1e37 || c.keys * Math.Pow(10, c.exponents[2]) >= 1e37;
            try
            {
                if (c.tiled)
                {
                    FastAttention.Tiled(q, k, v, output, c.queries, c.keys, c.d, c.d, c.mask);
                }
                else
                {
                    FastAttention.Materialized(q, k, v, output, c.queries, c.keys, c.d, c.d, c.mask);
                }
            }
            catch (ArgumentException error)
            {
                Assert.True(canOverflow, $"refused inputs that cannot overflow fp32: {error.Message}");
                Assert.Contains("overflow", error.Message, StringComparison.Ordinal);
                return;
            }

            Assert.All(output, value => Assert.True(float.IsFinite(value), $"output holds {value}"));
        });
    }

    [Fact]
    public void The_unchecked_tiled_pass_the_benchmark_compares_against_computes_the_same_output()
    {
        var random = new Random(7);
        float[] Draw() => [.. Enumerable.Range(0, N * D).Select(_ => (float)random.NextDouble() - 0.5f)];
        var (q, k, v) = (Draw(), Draw(), Draw());
        var (checkedOutput, uncheckedOutput) = (new float[N * D], new float[N * D]);
        FastAttention.Tiled(q, k, v, checkedOutput, N, N, D, D);
        FastAttention.Tiled(q, k, v, uncheckedOutput, N, N, D, D, default, null, checkNumbers: false, CancellationToken.None);
        Assert.Equal(checkedOutput, uncheckedOutput);
        Assert.Contains(checkedOutput, x => x != 0);
    }

    [Fact]
    public void Converting_back_refuses_a_buffer_too_short_for_its_shape()
    {
        var error = Assert.Throws<ArgumentException>(() => Fp32.ToMatrix(new float[5], 2, 3));
        Assert.Contains("has 5 floats but a row-major [2 x 3] matrix needs 6", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Fp32.ToMatrix(new float[5], -1, 3));
    }

    [Fact]
    public void A_fast_path_shape_error_names_the_shapes_that_were_given()
    {
        var q = Matrix<double>.Build.Dense(4, 8, 0.1);
        var k = Matrix<double>.Build.Dense(4, 6, 0.1);
        var error = Assert.Throws<ArgumentException>(() => FastAttention.Tiled(q, k, q));
        Assert.Contains("Q is [4 x 8] but K is [4 x 6]", error.Message, StringComparison.Ordinal);

        var buffers = Assert.Throws<ArgumentException>(() => FastAttention.Tiled(new float[32], new float[24], new float[32], new float[32], 4, 4, 8, 8));
        Assert.Contains("keys has 24 floats but a row-major [4 x 8] matrix needs 32 (keyCount x d_k)", buffers.Message, StringComparison.Ordinal);

        var values = Assert.Throws<ArgumentException>(() => FastAttention.Materialized(q, q, Matrix<double>.Build.Dense(3, 8)));
        Assert.Contains("K is [4 x 8] but V is [3 x 8]", values.Message, StringComparison.Ordinal);
    }

    private static float[] Filled(int length, float value) => [.. Enumerable.Repeat(value, length)];

    private static void Run(bool tiled, float[] q, float[] k, float[] v, float[] output)
    {
        if (tiled)
        {
            FastAttention.Tiled(q, k, v, output, N, N, D, D);
        }
        else
        {
            FastAttention.Materialized(q, k, v, output, N, N, D, D);
        }
    }

    [Fact]
    public unsafe void A_row_maximum_keeps_a_NaN_that_a_later_number_in_its_lane_would_hide()
    {
        // vmaxps(m, x) returns x when either is NaN: a NaN followed in its lane by -infinity (a masked key) or any
        // number would leave the maximum finite, and a tile that looked fully masked would be skipped unchecked.
        foreach (var length in Enumerable.Range(1, 70))
        {
            for (var at = 0; at < length; at++)
            {
                var row = Enumerable.Repeat(float.NegativeInfinity, length).ToArray();
                row[at] = float.NaN;
                if (at + 16 < length)
                {
                    row[at + 16] = 1f;
                }

                fixed (float* p = row)
                {
                    Assert.True(float.IsNaN(VectorRows.RowMax(p, length)), $"length {length}, NaN at {at}");
                }
            }
        }
    }
}
