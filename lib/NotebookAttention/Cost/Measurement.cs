using System.Diagnostics;

namespace NotebookAttention.Cost;

/// <summary>One measured point of a cost curve.</summary>
/// <param name="N">Sequence length.</param>
/// <param name="Seconds">Median wall-clock time of the repeated runs.</param>
/// <param name="AllocatedBytes">Median bytes the run allocated (all threads): the extra memory it needed.</param>
public sealed record CostPoint(int N, double Seconds, long AllocatedBytes);

/// <summary>
/// Measures time and allocated memory against n: inputs are made outside the timed region, one warm-up run
/// first, then repeated runs whose median is kept. A sweep stops early when one run takes longer than a budget,
/// so a notebook never hangs on a size the machine cannot handle in a classroom minute.
/// </summary>
public static class Measurement
{
    /// <summary>Measures a curve.</summary>
    /// <param name="lengths">The n values, in increasing order.</param>
    /// <param name="prepare">Makes the inputs for a given n and returns the work to time.</param>
    /// <param name="repeats">Timed runs per n (the median is kept).</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after the first n whose run takes longer than this.</param>
    /// <param name="progress">Receives one line per measured n.</param>
    /// <param name="minTotalSeconds">
    /// Keep repeating a point past <paramref name="repeats"/> until its timed runs add up to this long (at most
    /// <see cref="MaxRepeats"/> runs), so a sub-millisecond point is the median of many runs, not of three.
    /// </param>
    /// <param name="cancellation">Stops the sweep between runs.</param>
    /// <returns>The measured points (fewer than requested when the sweep stopped early).</returns>
    public static IReadOnlyList<CostPoint> Curve(
        IEnumerable<int> lengths,
        Func<int, Action> prepare,
        int repeats = 5,
        double maxSecondsPerRun = double.PositiveInfinity,
        IProgress<string>? progress = null,
        double minTotalSeconds = 0,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(prepare);
        Check.AtLeast(repeats, 1, "repeats", nameof(repeats));
        var points = new List<CostPoint>();
        foreach (var n in lengths)
        {
            cancellation.ThrowIfCancellationRequested();
            var (point, tooSlow) = Point(n, prepare(n), repeats, maxSecondsPerRun, minTotalSeconds, cancellation);
            points.Add(point);
            progress?.Report($"n = {n,7:N0}: {point.Seconds * 1e3,10:0.000} ms, {point.AllocatedBytes / 1048576.0,10:0.00} MiB allocated");
            if (tooSlow)
            {
                progress?.Report($"stopping: one run at n = {n:N0} took {point.Seconds:0.0} s, over the {maxSecondsPerRun:0.0} s budget.");
                break;
            }
        }

        return points;
    }

    /// <summary>The most timed runs <see cref="Point"/> makes for one point, however short they are.</summary>
    public const int MaxRepeats = 20_000;

    /// <summary>
    /// One point: a warm-up run, then at least <paramref name="repeats"/> timed runs and more until they add up to
    /// <paramref name="minTotalSeconds"/> (at most <see cref="MaxRepeats"/>); the median time and allocation are kept.
    /// When the warm-up alone takes longer than <paramref name="maxSecondsPerRun"/>, that run is the point.
    /// </summary>
    /// <param name="n">The length the point is for.</param>
    /// <param name="run">The work to time.</param>
    /// <param name="repeats">Fewest timed runs.</param>
    /// <param name="maxSecondsPerRun">A warm-up longer than this is the only run.</param>
    /// <param name="minTotalSeconds">Repeat until the timed runs add up to this long.</param>
    /// <param name="cancellation">Stops between runs.</param>
    /// <returns>The point, and whether its run took longer than the budget.</returns>
    public static (CostPoint Point, bool TooSlow) Point(int n, Action run, int repeats, double maxSecondsPerRun, double minTotalSeconds = 0, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        Check.AtLeast(repeats, 1, "repeats", nameof(repeats));
        cancellation.ThrowIfCancellationRequested();
        var warmUp = Stopwatch.StartNew();
        run();
        var warmUpSeconds = warmUp.Elapsed.TotalSeconds;
        if (warmUpSeconds > maxSecondsPerRun)
        {
            return (new CostPoint(n, warmUpSeconds, Allocated(run, out _)), true);
        }

        var times = new List<double>();
        var bytes = new List<double>();
        var total = 0.0;
        while (times.Count < repeats || (total < minTotalSeconds && times.Count < MaxRepeats))
        {
            cancellation.ThrowIfCancellationRequested();
            bytes.Add(Allocated(run, out var seconds));
            times.Add(seconds);
            total += seconds;
        }

        return (new CostPoint(n, Median(times), (long)Median(bytes)), false);
    }

    /// <summary>The middle value (the mean of the two middle values for an even count).</summary>
    /// <param name="values">At least one value.</param>
    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            throw new ArgumentException("the median of no values is undefined: measure at least once.", nameof(values));
        }

        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static long Allocated(Action run, out double seconds)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var stopwatch = Stopwatch.StartNew();
        run();
        seconds = stopwatch.Elapsed.TotalSeconds;
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }
}
