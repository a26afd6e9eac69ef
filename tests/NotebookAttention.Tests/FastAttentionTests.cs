using System.Diagnostics;
using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Fast;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>The fp32 fast paths agree with the fp64 reference path within fp32's rounding error.</summary>
public class FastAttentionTests
{
    private static readonly Gen<(AttentionCase Case, FastMask Mask)> Cases =
        from c in Generators.AttentionProblem()
        from mask in Generators.FastMask(c.Queries, c.Keys)
        select (c, mask);

    /// <summary>Asserts |reference - fast| within <paramref name="bound"/> everywhere, and exact zeros where the reference row attends to nothing.</summary>
    internal static void AssertAgrees(Matrix<double> reference, Matrix<double> fast, double bound, Mask? mask, string what)
    {
        var error = Differences.Largest(reference, fast);
        Assert.True(error <= bound, $"{what}: max |fast - reference| = {error:E2} exceeds the fp32 bound {bound:E2}");
        for (var row = 0; mask is not null && row < reference.RowCount; row++)
        {
            if (mask.IsFullyMasked(row))
            {
                Assert.All(fast.Row(row), x => Assert.Equal(0.0, x));
            }
        }
    }

    private static Matrix<double> Reference(Matrix<double> q, Matrix<double> k, Matrix<double> v, Mask mask) =>
        ScaledDotProductAttention.Compute(q, k, v, mask).Output;

    [Fact]
    public void Tiled_and_materialized_agree_with_the_reference_path_with_masks_and_adversarial_entries()
    {
        Property.Holds(Cases, t =>
        {
            var (c, fastMask) = t;
            var mask = fastMask.ToMask(c.Queries, c.Keys);
            var reference = Reference(c.Q, c.K, c.V, mask);
            var bound = Fp32Error.Attention(c.Q, c.K, c.V);
            AssertAgrees(reference, FastAttention.Tiled(c.Q, c.K, c.V, fastMask), bound, mask, $"tiled, {c}, {fastMask}");
            AssertAgrees(reference, FastAttention.Materialized(c.Q, c.K, c.V, fastMask), bound, mask, $"materialized, {c}, {fastMask}");
        });
    }

    [Fact]
    public void One_token_attends_to_itself()
    {
        var q = Matrix<double>.Build.Dense(1, 16, 0.3);
        var v = Matrix<double>.Build.Dense(1, 16, (_, c) => c);
        Assert.Equal(v, FastAttention.Tiled(q, q, v));
        Assert.Equal(v, FastAttention.Materialized(q, q, v));
    }

    [Fact]
    public void Materialized_refuses_a_score_matrix_that_does_not_fit_before_allocating()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InsufficientMemoryException>(() => FastAttention.EnsureScoresFit(100_000, 100_000, memoryBudgetBytes: 1L << 30));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("100,000 queries x 100,000 keys needs 37.3 GiB", error.Message, StringComparison.Ordinal);
        Assert.Contains("1.0 GiB is available", error.Message, StringComparison.Ordinal);
        Assert.Contains("Tiled", error.Message, StringComparison.Ordinal);

        var q = new float[100 * 16];
        Assert.Throws<InsufficientMemoryException>(() => FastAttention.Materialized(q, q, q, new float[100 * 16], 100, 100, 16, 16, memoryBudgetBytes: 1000));
    }

    [Fact]
    public void Wrong_buffer_sizes_and_masks_are_refused_with_the_sizes()
    {
        var q = new float[10 * 16];
        var error = Assert.Throws<ArgumentException>(() => FastAttention.Tiled(q, q, q, new float[5], 10, 10, 16, 16));
        Assert.Contains("output has 5 floats but a row-major [10 x 16] matrix needs 160", error.Message, StringComparison.Ordinal);
        var keys = Assert.Throws<ArgumentException>(() => FastAttention.Tiled(q, new float[7], q, new float[160], 10, 10, 16, 16));
        Assert.Contains("keys has 7 floats", keys.Message, StringComparison.Ordinal);
        var mask = Assert.Throws<ArgumentException>(() => FastAttention.Tiled(q, q, q, new float[160], 10, 10, 16, 16, new FastMask(ValidLength: 11)));
        Assert.Contains("valid length 11 does not fit", mask.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_cancelled_before_it_starts_does_nothing()
    {
        var n = 2048;
        var data = new float[n * 64];
        var output = new float[n * 64];
        output.AsSpan().Fill(7);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => FastAttention.Tiled(data, data, data, output, n, n, 64, 64, cancellation: cancel.Token));
        Assert.All(output, x => Assert.Equal(7f, x));
    }
}

/// <summary>
/// Fast-path tests that switch the process-wide <see cref="Microkernels.Level"/> or time a long run: they run
/// alone, after the parallel tests, so no other test computes with the portable kernels by accident or competes for
/// the cores while a time is taken.
/// </summary>
[Collection(MeasurementsRunAlone.Name)]
public class FastAttentionAloneTests
{
    /// <summary>
    /// Length of the tiled pass this test cancels: n = 50,000, d = d_v = 64 is 4 n^2 d = 6.4e11 flops. Measured once
    /// here (2 cores, AVX-512, the Debug build the tests use, machine shared with other jobs): the whole pass took 205 s.
    /// </summary>
    private const int LongLength = 50_000;

    [Fact]
    public void Portable_kernels_give_the_same_results_as_the_accelerated_kernels()
    {
        var q = Matrix<double>.Build.Dense(130, 64, (r, c) => Math.Sin((r * 7) + c));
        var v = Matrix<double>.Build.Dense(130, 20, (r, c) => Math.Cos(r + (3 * c)));
        var fastMask = new FastMask(120, Causal: true);
        var mask = fastMask.ToMask(130, 130);
        var bound = Fp32Error.Attention(q, q, v);
        var accelerated = FastAttention.Tiled(q, q, v, fastMask);
        var wideTile = Microkernels.Wide;
        var portable = KernelSwitch.WithPortableKernels(() => FastAttention.Tiled(q, q, v, fastMask));
        Assert.Equal(wideTile, Microkernels.Wide);

        // Each path is within the fp32 bound of the fp64 reference, so they are within twice that of each other.
        FastAttentionTests.AssertAgrees(accelerated, portable, 2 * bound, mask, "portable vs accelerated");
        FastAttentionTests.AssertAgrees(ScaledDotProductAttention.Compute(q, q, v, mask).Output, portable, bound, mask, "portable vs reference");
    }

    [Fact]
    public async Task A_running_tiled_pass_over_fifty_thousand_tokens_stops_soon_after_it_is_cancelled()
    {
        const int depth = 64;
        var data = new float[LongLength * depth];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = MathF.Sin(i * 0.37f);
        }

        var output = new float[data.Length];
        using var cancel = new CancellationTokenSource();
        var started = Stopwatch.StartNew();
        var run = Task.Run(() => FastAttention.Tiled(data, data, data, output, LongLength, LongLength, depth, depth, cancellation: cancel.Token));
        await Task.Delay(500);
        Assert.False(run.IsCompleted, $"the pass over {LongLength:N0} tokens ended within {started.Elapsed.TotalSeconds:0.0} s: it was not running when cancelled");
        var cancelledAt = started.Elapsed;
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        var afterCancel = started.Elapsed - cancelledAt;
        // One tile (96 queries x 128 keys x 64) is about 1.6 Mflop, microseconds of work; 2 s is generous for a
        // busy machine and far below the 205 s a whole pass took.
        Assert.True(afterCancel < TimeSpan.FromSeconds(2), $"the pass stopped {afterCancel.TotalSeconds:0.00} s after it was cancelled");
    }
}
