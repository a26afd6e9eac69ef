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

        var stopped = Measurement.Curve([1, 2, 3], n => () => Thread.Sleep(n == 2 ? 60 : 0), maxSecondsPerRun: 0.03);
        Assert.Equal([1, 2], stopped.Select(p => p.N));
        Assert.Equal(2.5, Measurement.Median([4, 1, 2, 3]));
    }

    [Fact]
    public void Measurement_can_be_cancelled()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Measurement.Curve([1], _ => () => { }, cancellation: cancel.Token));
    }

    [Fact]
    public void Fma_ceiling_is_positive_and_caches_are_read_where_the_system_says()
    {
        Assert.True(Machine.MeasureFmaCeiling(TimeSpan.FromMilliseconds(250), threads: 1) > 0.1);
        var caches = Machine.Caches();
        Assert.All(caches, c => Assert.True(c.Bytes >= 1024));
        if (OperatingSystem.IsLinux() && Directory.Exists("/sys/devices/system/cpu/cpu0/cache"))
        {
            Assert.Contains(caches, c => c.Name == "L2");
        }
    }

    private sealed class SynchronousProgress(List<string> lines) : IProgress<string>
    {
        public void Report(string value) => lines.Add(value);
    }
}
