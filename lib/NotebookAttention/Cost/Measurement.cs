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
    /// <param name="cancellation">Stops the sweep between runs.</param>
    /// <returns>The measured points (fewer than requested when the sweep stopped early).</returns>
    public static IReadOnlyList<CostPoint> Curve(
        IEnumerable<int> lengths,
        Func<int, Action> prepare,
        int repeats = 5,
        double maxSecondsPerRun = double.PositiveInfinity,
        IProgress<string>? progress = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(prepare);
        Check.AtLeast(repeats, 1, "repeats", nameof(repeats));
        var points = new List<CostPoint>();
        foreach (var n in lengths)
        {
            cancellation.ThrowIfCancellationRequested();
            var run = prepare(n);
            var warmUp = Stopwatch.StartNew();
            run();
            var tooSlow = warmUp.Elapsed.TotalSeconds > maxSecondsPerRun;
            var times = new double[tooSlow ? 1 : repeats];
            var bytes = new long[times.Length];
            if (tooSlow)
            {
                times[0] = warmUp.Elapsed.TotalSeconds;
                bytes[0] = Allocated(run, out _);
            }
            else
            {
                for (var i = 0; i < repeats; i++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    bytes[i] = Allocated(run, out times[i]);
                }
            }

            var point = new CostPoint(n, Median(times), (long)Median([.. bytes.Select(b => (double)b)]));
            points.Add(point);
            progress?.Report($"n = {n,7:N0}: {point.Seconds * 1e3,10:0.000} ms, {point.AllocatedBytes / 1048576.0,10:0.00} MiB allocated");
            if (tooSlow)
            {
                progress?.Report($"stopping: one run at n = {n:N0} took {times[0]:0.0} s, over the {maxSecondsPerRun:0.0} s budget.");
                break;
            }
        }

        return points;
    }

    /// <summary>The middle value (the mean of the two middle values for an even count).</summary>
    /// <param name="values">At least one value.</param>
    /// <returns>The median.</returns>
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
