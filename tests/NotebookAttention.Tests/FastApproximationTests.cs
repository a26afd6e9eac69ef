using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Approximations;
using NotebookAttention.Attention;
using NotebookAttention.Fast;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>The fast fp32 sliding-window and linear attention kernels against their readable fp64 versions.</summary>
public class FastApproximationTests
{
    /// <summary>
    /// Self-attention shapes that stress the band: n from 1 (one token) across several blocks of
    /// <see cref="FastSlidingWindow.QueryBlock"/> with a ragged last block; windows 0 (itself only), 1, just below,
    /// at and past n (the window covers everything), and random ones.
    /// </summary>
    private static readonly Gen<(int N, int D, int Dv, int Window, bool Causal)> WindowShapes =
        from n in Gen.Frequency((2, Gen.Int[1, 12]), (3, Gen.Int[13, 80]), (1, Gen.Int[81, 200]))
        from d in Gen.Frequency((3, Gen.Int[1, 20]), (1, Gen.Const(64)))
        from dv in Gen.Frequency((3, Gen.Int[1, 20]), (1, Gen.Const(16)), (1, Gen.Const(64)))
        from window in Gen.OneOf(Gen.Const(0), Gen.Const(1), Gen.Const(Math.Max(0, n - 2)), Gen.Const(n), Gen.Const(n + 5), Gen.Int[0, 60])
        from causal in Gen.Bool
        select (n, d, dv, window, causal);

    [Fact]
    public void Fast_sliding_window_equals_the_readable_fp64_attention_with_the_window_mask()
    {
        var cases =
            from shape in WindowShapes
            from bound in Gen.OneOf(Gen.Const(0.01), Gen.Const(1.0), Gen.Const(3.0), Gen.Const(30.0))
            from q in Generators.Matrix(shape.N, shape.D, bound)
            from k in Generators.Matrix(shape.N, shape.D, bound)
            from v in Generators.Matrix(shape.N, shape.Dv, 2)
            from threads in Gen.Int[1, 3]
            select (shape, q, k, v, threads);
        Property.Holds(cases, c =>
        {
            var (n, d, dv, window, causal) = c.shape;
            var reference = ScaledDotProductAttention.Compute(c.q, c.k, c.v, SlidingWindowAttention.Mask(n, window, causal)).Output;
            var (q, k, v, _, _, _) = FastLinearAttention.SelfAttentionInputs(c.q, c.k, c.v);
            var output = new float[n * dv];
            FastSlidingWindow.Compute(q, k, v, output, n, d, dv, window, causal, c.threads);
            // Fp32Error.Attention: score errors from the fp32 dot products and exp move each weight by at most
            // e^(±2 eps), and the weighted sum adds at most (2 n + 3 blocks + 4) roundings of max |v|; the band
            // sums fewer terms than that, so the same bound holds.
            var bound = Fp32Error.Attention(c.q, c.k, c.v);
            var error = Differences.Largest(reference, Fp32.ToMatrix(output, n, dv));
            Assert.True(error <= bound, $"n {n}, d {d}, d_v {dv}, window {window}, causal {causal}, threads {c.threads}: max |fast - fp64| = {error:E2} > bound {bound:E2}");
        });
    }

    [Fact]
    public void Fast_linear_attention_equals_the_readable_fp64_version()
    {
        var cases =
            from n in Gen.Frequency((2, Gen.Int[1, 12]), (3, Gen.Int[13, 100]), (1, Gen.Int[101, 300]))
            from d in Gen.Frequency((3, Gen.Int[1, 20]), (1, Gen.Const(64)))
            from dv in Gen.Frequency((3, Gen.Int[1, 20]), (1, Gen.Const(16)), (1, Gen.Const(64)))
            from bound in Gen.OneOf(Gen.Const(0.01), Gen.Const(1.0), Gen.Const(5.0), Gen.Const(20.0))
            from q in Generators.Matrix(n, d, bound)
            from k in Generators.Matrix(n, d, bound)
            from v in Generators.Matrix(n, dv, 2)
            from causal in Gen.Bool
            from threads in Gen.Int[1, 3]
            select (n, d, dv, q, k, v, causal, threads, bound);
        Property.Holds(cases, c =>
        {
            var reference = LinearAttention.Compute(c.q, c.k, c.v, c.causal);
            var (q, k, v, _, _, _) = FastLinearAttention.SelfAttentionInputs(c.q, c.k, c.v);
            var output = new float[c.n * c.dv];
            FastLinearAttention.Compute(q, k, v, output, c.n, c.d, c.dv, c.causal, c.threads);
            var bound = LinearBound(c.n, c.d, c.v, c.bound);
            var error = Differences.Largest(reference, Fp32.ToMatrix(output, c.n, c.dv));
            Assert.True(error <= bound, $"n {c.n}, d {c.d}, d_v {c.dv}, causal {c.causal}, threads {c.threads}: max |fast - fp64| = {error:E2} > bound {bound:E2}");
        });
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(false, 3)]
    [InlineData(false, 4)]
    [InlineData(true, 2)]
    [InlineData(true, 3)]
    public void Linear_attention_gives_the_same_bits_on_every_run_with_the_same_thread_count(bool causal, int threads)
    {
        // 24,000 keys in 500 blocks of 48, on more workers than this machine may have cores: how the blocks are shared
        // out must not depend on which worker runs first, since fp32 sums in another order differ in the last bits.
        const int n = 24_000, d = 64;

        // The test host keeps its pool threads busy, and Parallel.For then runs every worker on the calling thread in
        // turn, which would hide any dependence on timing: make sure threads are free for the workers.
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, threads + 4), minIo);
        var random = new Random(11);
        float[] Inputs() => [.. Enumerable.Range(0, n * d).Select(_ => (float)((random.NextDouble() * 4) - 2))];
        float[] q = Inputs(), k = Inputs(), v = Inputs();
        var first = new float[n * d];
        FastLinearAttention.Compute(q, k, v, first, n, d, d, causal, threads);
        for (var run = 0; run < 40; run++)
        {
            var again = new float[n * d];
            FastLinearAttention.Compute(q, k, v, again, n, d, d, causal, threads);
            var differing = Enumerable.Range(0, first.Length).Count(i => BitConverter.SingleToInt32Bits(first[i]) != BitConverter.SingleToInt32Bits(again[i]));
            Assert.True(differing == 0, $"causal {causal}, {threads} threads, run {run + 2}: {differing:N0} of {first.Length:N0} outputs differ in their bits from the first run");
        }
    }

    [Fact]
    public void One_token_attends_to_itself_in_both_kernels()
    {
        float[] q = [0.3f, -2f, 5f], v = [1.5f, -7f];
        var window = new float[2];
        var linear = new float[2];
        FastSlidingWindow.Compute(q, q, v, window, 1, 3, 2, window: 4);
        FastLinearAttention.Compute(q, q, v, linear, 1, 3, 2, causal: true);
        Assert.Equal(v, window);
        Assert.Equal(v[0], linear[0], 6);
        Assert.Equal(v[1], linear[1], 6);
    }

    [Fact]
    public void Visible_pairs_and_flops_count_what_the_window_mask_allows()
    {
        var cases = from n in Gen.Int[1, 120] from window in Gen.Int[0, 150] from causal in Gen.Bool select (n, window, causal);
        Property.Holds(cases, c =>
        {
            var mask = new FastMask(Causal: c.causal, Window: c.window);
            long allowed = 0;
            for (var i = 0; i < c.n; i++)
            {
                for (var j = 0; j < c.n; j++)
                {
                    allowed += mask.Allows(i, j) ? 1 : 0;
                }
            }

            Assert.Equal(allowed, FastSlidingWindow.VisiblePairs(c.n, c.window, c.causal));
            Assert.Equal(allowed * 2.0 * (64 + 32), FastSlidingWindow.Flops(c.n, 64, 32, c.window, c.causal));
        });
        Assert.Equal((4.0 * 1000 * 64 * 32) + (3.0 * 1000 * 64), FastLinearAttention.Flops(1000, 64, 32));
    }

    [Fact]
    public void Bad_inputs_are_refused_at_entry_with_what_to_do()
    {
        var q = new float[12];
        var output = new float[12];
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => FastSlidingWindow.Compute(q, q, q, output, 3, 4, 4, window: -1));
        Assert.Contains("use 0", negative.Message, StringComparison.Ordinal);
        var length = Assert.Throws<ArgumentException>(() => FastLinearAttention.Compute(q, q, new float[11], output, 3, 4, 4));
        Assert.Contains("[3 x 4]", length.Message, StringComparison.Ordinal);
        var nan = (float[])q.Clone();
        nan[5] = float.NaN;
        Assert.Contains("NaN at row 1, column 1", Assert.Throws<ArgumentException>(() => FastSlidingWindow.Compute(q, nan, q, output, 3, 4, 4, 1)).Message, StringComparison.Ordinal);
        Assert.Contains("NaN at row 1, column 1", Assert.Throws<ArgumentException>(() => FastLinearAttention.Compute(nan, q, q, output, 3, 4, 4)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overflow_and_underflow_are_reported_not_returned()
    {
        // Scores of 1e20 * 1e20 leave fp32; features e^-200 underflow to 0, so the denominator is 0.
        float[] huge = [1e20f, 1e20f, 1e20f, 1e20f];
        float[] small = [-200f, -200f, -200f, -200f];
        float[] values = [1, 2, 3, 4];
        var output = new float[4];
        Assert.Contains("overflowed fp32", Assert.Throws<ArgumentException>(() => FastSlidingWindow.Compute(huge, huge, values, output, 2, 2, 2, 1)).Message, StringComparison.Ordinal);
        Assert.Contains("LinearAttention.Compute", Assert.Throws<ArgumentException>(() => FastLinearAttention.Compute(small, small, values, output, 2, 2, 2)).Message, StringComparison.Ordinal);
        Assert.All(output, x => Assert.Equal(0f, x));
    }

    /// <summary>
    /// Bound on max |fast - fp64| of linear attention. Every similarity s_ij = phi(q_i) . phi(k_j) is a sum of
    /// positive terms, so each term of the numerator sum_t phi(q_it) sum_j phi(k_jt) v_jc and of the denominator
    /// carries a relative error of at most e = 2 eps_phi + gamma(n + d + 8): eps_phi for each feature (the
    /// vectorised exp, <see cref="Fp32Error.ExpError"/>, plus the fp32 rounding of the input and of x + 1), and
    /// one rounding per addition of the n keys, d features, the 48-key blocks' partial sums and the cores' shares.
    /// Hence |d num| &lt;= e max|v| den and |d den| &lt;= e den, and the quotient (plus one rounding of the
    /// division and one of the scaling) is off by at most (2 e + 2 u) max|v| (first order; x1.01 for the rest).
    /// Features stay above e^-bound (entries are at least -bound, bound &lt;= 20), so no feature underflows; values may
    /// be tiny (the generator draws down to 1e-300), and every rounding below the fp32 normal range (of v, of a
    /// product phi v, of a partial sum) adds at most <see cref="Fp32Error.Underflow"/> to a numerator whose
    /// denominator is at least e^-bound times the same sum of query features: (n + d + 8) Underflow e^bound.
    /// </summary>
    private static double LinearBound(int n, int d, Matrix<double> v, double bound)
    {
        var featureError = Fp32Error.ExpError + (2 * Fp32Error.UnitRoundoff);
        var e = (2 * featureError) + Fp32Error.Gamma(n + d + 8);
        return (1.01 * ((2 * e) + (2 * Fp32Error.UnitRoundoff)) * v.Enumerate().Max(Math.Abs)) + ((n + d + 8) * Fp32Error.Underflow * Math.Exp(bound));
    }
}
