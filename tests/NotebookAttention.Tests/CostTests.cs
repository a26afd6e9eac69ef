using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NotebookAttention.Cost;

namespace NotebookAttention.Tests;

[Collection(Support.MeasurementsRunAlone.Name)]
public class CostTests
{
    [Fact]
    public void Flops_and_bytes_follow_the_formulas()
    {
        Assert.Equal(4.0 * 1024 * 1024 * 64, AttentionCost.Flops(1024, 64));
        Assert.Equal(2.0 * 1024 * 1024 * 64 * 12, AttentionCost.Flops(1024, 64, heads: 12, causal: true));
        Assert.Equal(4.0 * 4096 * 4096, AttentionCost.ScoreMatrixBytes(4096));
        Assert.Equal(8.0 * 100 * 100 * 12 * 3, AttentionCost.ScoreMatrixBytes(100, heads: 12, batch: 3, bytesPerNumber: 8));
        Assert.Equal(1024, AttentionCost.LongestFitting(4.0 * 1024 * 1024));
        Assert.Equal(1023, AttentionCost.LongestFitting((4.0 * 1024 * 1024) - 1));
    }

    [Fact]
    public void Calculator_multiplies_out_layers_and_batch_and_divides_by_speed()
    {
        var estimate = AttentionCost.Estimate(n: 512, d: 64, heads: 12, layers: 6, batch: 2, gflopsPerSecond: 100);
        Assert.Equal(4.0 * 512 * 512 * 64 * 12 * 6 * 2, estimate.Flops);
        Assert.Equal(4.0 * 512 * 512 * 12 * 2, estimate.ScoreMatrixBytes);
        Assert.Equal(estimate.Flops / 100e9, estimate.Seconds, 15);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => AttentionCost.Estimate(0, 64, 1, 1, 1, 100));
        Assert.Contains("n = 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Power_law_fit_recovers_the_exponent_of_exact_data()
    {
        double[] n = [64, 128, 256, 512, 1024];
        var quadratic = PowerLaw.Fit(n, [.. n.Select(x => 3e-9 * x * x)]);
        Assert.Equal(2.0, quadratic.Exponent, 10);
        Assert.Equal(3e-9, quadratic.Coefficient, 15);
        Assert.Equal(1.0, quadratic.RSquared, 10);
        var noisy = PowerLaw.Fit(n, [.. n.Select((x, i) => x * (i % 2 == 0 ? 1.1 : 0.9))]);
        Assert.InRange(noisy.Exponent, 0.9, 1.1);
        Assert.True(noisy.RSquared < 1);
        Assert.Throws<ArgumentException>(() => PowerLaw.Fit([1, 2], [1, 0]));
        Assert.Throws<ArgumentException>(() => PowerLaw.Fit([1], [1]));
    }

    [Fact]
    public void Measurement_takes_the_median_counts_allocations_and_stops_at_the_budget()
    {
        var lines = new List<string>();
        var points = Measurement.Curve(
            [10, 20, 40],
            n => () => GC.KeepAlive(new byte[n * 1000]),
            repeats: 3,
            progress: new SynchronousProgress(lines));
        Assert.Equal([10, 20, 40], points.Select(p => p.N));
        Assert.All(points, p => Assert.InRange(p.AllocatedBytes, p.N * 1000, (p.N * 1000) + 4096));
        Assert.Equal(3, lines.Count);

        Assert.Equal(2.5, Measurement.Median([4, 1, 2, 3]));
    }

    [Fact]
    public void Measurement_stops_after_the_first_run_over_the_budget_however_busy_the_machine_is()
    {
        // Runs from n = 2 on sleep 60 ms, always over the 30 ms budget; the n = 1 run does nothing, but a busy machine
        // may still stall it past the budget. So: the sweep stops at n = 2 at the latest, and the point it stopped
        // at records a run that really was over the budget, whichever point that was.
        var stopped = Measurement.Curve([1, 2, 3, 4], n => () => Thread.Sleep(n >= 2 ? 60 : 0), maxSecondsPerRun: 0.03);
        Assert.InRange(stopped.Count, 1, 2);
        Assert.Equal(Enumerable.Range(1, stopped.Count), stopped.Select(p => p.N));
        Assert.True(stopped[^1].Seconds > 0.03, $"the sweep stopped at n = {stopped[^1].N} after a run of {stopped[^1].Seconds:0.000} s, within the budget");

        // Within a budget no stall reaches (a minute), nothing stops.
        var all = Measurement.Curve([1, 2, 3], _ => () => { }, repeats: 1, maxSecondsPerRun: 60);
        Assert.Equal([1, 2, 3], all.Select(p => p.N));
    }

    [Fact]
    public void Measurement_can_be_cancelled()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Measurement.Curve([1], _ => () => { }, cancellation: cancel.Token));
    }

    [Fact]
    public void Fma_ceiling_is_below_what_the_hardware_can_issue_and_near_the_same_loop_timed_here()
    {
        // Upper: a core issues at most 2 FMAs per cycle (two FMA pipes on every AVX2 x86 core so far), each of 8
        // floats = 16 flops, and no x86 core clocks above 6 GHz: 2 x 16 x 6 = 192 GFLOP/s on one thread. Other
        // programs only lower a measurement, so this holds on any machine; on a quiet one (about 110 GFLOP/s per core
        // in Release) counting 32 flops per FMA breaks it.
        // Near: the same loop written here (twelve chains of 8-float FMAs, 16 flops each), timed the same way in the
        // same build, rounds taken in turn with the library's. Measured 0.67 to 0.88 of it; on a machine shared with
        // other jobs either side can lose a round, so only a factor of 4 either way is asked: it catches flops
        // counted per instruction or per float instead of per lane pair, or time in the wrong unit.
        // Without x86 FMA (an Arm machine) the loop below cannot run here: only the upper bound is checked there.
        // At least 3 rounds; on a busy machine up to 12, until the two agree: a miscount is there in every round, while
        // a round spoiled by other jobs is not.
        const double issueLimit = 2 * 16 * 6.0;
        var ceiling = 0.0;
        var here = 0.0;
        for (var round = 0; round < 12 && (round < 3 || !(ceiling > here / 4 && ceiling < here * 4)); round++)
        {
            ceiling = Math.Max(ceiling, Machine.MeasureFmaCeiling(TimeSpan.FromMilliseconds(250), threads: 1));
            here = Fma.IsSupported ? Math.Max(here, VectorFmaGflops(TimeSpan.FromMilliseconds(50))) : ceiling;
        }

        Assert.InRange(ceiling, 0, issueLimit);
        Assert.True(here <= issueLimit, $"the reference loop timed {here:0.0} GFLOP/s on one thread, more than any x86 core can issue: the JIT dropped its work");
        Assert.True(ceiling > here / 4 && ceiling < here * 4, $"the ceiling is {ceiling:0.0} GFLOP/s, the same loop timed here {here:0.0}");
    }

    [Fact]
    public void Caches_are_read_where_the_system_says()
    {
        var caches = Machine.Caches();
        const string root = "/sys/devices/system/cpu/cpu0/cache";
        if (!Directory.Exists(root))
        {
            Assert.Empty(caches);
            return;
        }

        // Read here independently: every data or unified level, its size written like "32K" or "32768K".
        string Read(string index, string file) => File.ReadAllText(Path.Combine(index, file)).Trim();
        var expected = Directory.GetDirectories(root, "index*").Order(StringComparer.Ordinal)
            .Where(index => Read(index, "type") is "Data" or "Unified")
            .Select(index => new CacheLevel($"L{Read(index, "level")}", Read(index, "size") switch
            {
                var k when k.EndsWith('K') => long.Parse(k[..^1], CultureInfo.InvariantCulture) << 10,
                var m when m.EndsWith('M') => long.Parse(m[..^1], CultureInfo.InvariantCulture) << 20,
                var b => long.Parse(b, CultureInfo.InvariantCulture),
            }))
            .ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, caches);
        Assert.Equal(caches.Select(c => c.Bytes).Order(), caches.Select(c => c.Bytes));
    }

    /// <summary>GFLOP/s of twelve independent 8-float FMA chains on one thread, over about <paramref name="duration"/>.</summary>
    private static double VectorFmaGflops(TimeSpan duration)
    {
        if (!Fma.IsSupported)
        {
            throw new PlatformNotSupportedException("the reference loop needs FMA, as the library's 8-float loop does");
        }

        const int batch = 1_000_000;
        long iterations = 0;
        var sum = 0f;
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < duration)
        {
            sum += Chains(batch);
            iterations += batch;
        }

        var seconds = stopwatch.Elapsed.TotalSeconds;
        Assert.True(float.IsFinite(sum), "the chains overflowed");   // uses the result, so the JIT must compute it
        return iterations * 12 * 16 / seconds / 1e9;
    }

    /// <summary>
    /// The timed work, in its own method with no call inside its loop: the twelve chains stay in registers (x64 keeps
    /// no vector register across a call, so a clock read in the same loop would spill them every round), and the
    /// result is returned, not kept alive (.NET 10 drops a <c>GC.KeepAlive</c> of a fresh box, and with it every FMA).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float Chains(int iterations)
    {
        var m = Vector256.Create(0.999f);
        var a = Vector256.Create(1e-3f);
        Vector256<float> x0 = m, x1 = m, x2 = m, x3 = m, x4 = m, x5 = m, x6 = m, x7 = m, x8 = m, x9 = m, x10 = m, x11 = m;
        for (var i = 0; i < iterations; i++)
        {
            x0 = Fma.MultiplyAdd(x0, m, a);
            x1 = Fma.MultiplyAdd(x1, m, a);
            x2 = Fma.MultiplyAdd(x2, m, a);
            x3 = Fma.MultiplyAdd(x3, m, a);
            x4 = Fma.MultiplyAdd(x4, m, a);
            x5 = Fma.MultiplyAdd(x5, m, a);
            x6 = Fma.MultiplyAdd(x6, m, a);
            x7 = Fma.MultiplyAdd(x7, m, a);
            x8 = Fma.MultiplyAdd(x8, m, a);
            x9 = Fma.MultiplyAdd(x9, m, a);
            x10 = Fma.MultiplyAdd(x10, m, a);
            x11 = Fma.MultiplyAdd(x11, m, a);
        }

        return Vector256.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }

    private sealed class SynchronousProgress(List<string> lines) : IProgress<string>
    {
        public void Report(string value) => lines.Add(value);
    }
}
