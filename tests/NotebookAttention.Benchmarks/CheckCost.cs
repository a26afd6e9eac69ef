using System.Diagnostics;
using NotebookAttention.Fast;

namespace NotebookAttention.Benchmarks;

/// <summary>
/// What the fast path's number checks cost: the tiled pass with and without them, run in alternating rounds so that
/// both see the same machine (a busy VM drifts by more than the checks cost between two separate benchmarks), and
/// the input scan timed on its own.
/// </summary>
/// <param name="Rounds">Alternating rounds measured.</param>
/// <param name="CheckedMilliseconds">Median of the checked passes.</param>
/// <param name="UncheckedMilliseconds">Median of the unchecked passes.</param>
/// <param name="Percent">Median over rounds of (checked / unchecked - 1), in percent.</param>
/// <param name="ScanMilliseconds">Median time of the scan of Q, K and V for NaN and infinity alone.</param>
public sealed record CheckCost(int Rounds, double CheckedMilliseconds, double UncheckedMilliseconds, double Percent, double ScanMilliseconds)
{
    /// <summary>Measures <paramref name="rounds"/> rounds, each a checked and an unchecked pass in turn (order swapped every round).</summary>
    /// <param name="work">The inputs.</param>
    /// <param name="rounds">Rounds, after three warm-up rounds.</param>
    /// <returns>The medians.</returns>
    public static CheckCost Measure(Workload work, int rounds)
    {
        ArgumentNullException.ThrowIfNull(work);
        var n = work.N;
        var d = work.D;
        double Time(bool check)
        {
            var watch = Stopwatch.StartNew();
            FastAttention.Tiled(work.Queries, work.Keys, work.Values, work.Output, n, n, d, d, default, null, check, CancellationToken.None);
            return watch.Elapsed.TotalMilliseconds;
        }

        var checkedTimes = new List<double>();
        var uncheckedTimes = new List<double>();
        var ratios = new List<double>();
        for (var round = -3; round < rounds; round++)
        {
            var checkFirst = round % 2 == 0;
            var first = Time(checkFirst);
            var second = Time(!checkFirst);
            var (withChecks, without) = checkFirst ? (first, second) : (second, first);
            if (round >= 0)
            {
                checkedTimes.Add(withChecks);
                uncheckedTimes.Add(without);
                ratios.Add(withChecks / without);
            }
        }

        var scans = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            var bad = Scan(work.Queries) + Scan(work.Keys) + Scan(work.Values);
            scans.Add(watch.Elapsed.TotalMilliseconds);
            if (bad != -3)
            {
                throw new InvalidOperationException("the benchmark's inputs hold a NaN or an infinity.");
            }
        }

        return new CheckCost(rounds, Median(checkedTimes), Median(uncheckedTimes), 100 * (Median(ratios) - 1), Median(scans));
    }

    private static unsafe long Scan(float[] data)
    {
        fixed (float* p = data)
        {
            return VectorRows.FirstNonFinite(p, data.Length);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
