using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Approximations;
using NotebookAttention.Attention;
using NotebookAttention.Cost;
using NotebookAttention.Fast;

namespace NotebookAttention.Notebooks;

/// <summary>
/// The measurements of notebook 06: time and allocated memory against n for every attention variant, one head,
/// seeded random inputs, and the curves with their fitted power laws.
/// </summary>
public static class CostSweeps
{
    /// <summary>Powers of two from <paramref name="from"/> to <paramref name="to"/>.</summary>
    /// <param name="from">Smallest n.</param>
    /// <param name="to">Largest n.</param>
    /// <returns>The lengths.</returns>
    public static int[] Lengths(int from, int to)
    {
        var lengths = new List<int>();
        for (var n = from; n <= to; n *= 2)
        {
            lengths.Add(n);
        }

        return [.. lengths];
    }

    /// <summary>The reference path (fp64 MathNet, every step kept).</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    /// <returns>The points.</returns>
    public static IReadOnlyList<CostPoint> Reference(IEnumerable<int> lengths, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Measurement.Curve(lengths, n =>
        {
            var (q, k, v) = DoubleInputs(n, d);
            return () => ScaledDotProductAttention.Compute(q, k, v);
        }, repeats: 3, maxSecondsPerRun, Label("reference", progress));

    /// <summary>The fast materializing path (builds the n x n scores).</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    /// <returns>The points.</returns>
    public static IReadOnlyList<CostPoint> Materialized(IEnumerable<int> lengths, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Fast(lengths, d, (q, k, v, o, n) => FastAttention.Materialized(q, k, v, o, n, n, d, d), maxSecondsPerRun, Label("materialized", progress));

    /// <summary>The fast tiled path (online softmax).</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    /// <returns>The points.</returns>
    public static IReadOnlyList<CostPoint> Tiled(IEnumerable<int> lengths, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Fast(lengths, d, (q, k, v, o, n) => FastAttention.Tiled(q, k, v, o, n, n, d, d), maxSecondsPerRun, Label("tiled", progress));

    /// <summary>Sliding-window attention with the given window.</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="window">How far each token looks.</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    /// <returns>The points.</returns>
    public static IReadOnlyList<CostPoint> SlidingWindow(IEnumerable<int> lengths, int window, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Fast(lengths, d, (q, k, v, o, n) => SlidingWindowAttention.Compute(q, k, v, o, n, d, d, window), maxSecondsPerRun, Label($"window {window}", progress));

    /// <summary>Linear attention (fp64 MathNet, O(n d^2)).</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    /// <returns>The points.</returns>
    public static IReadOnlyList<CostPoint> Linear(IEnumerable<int> lengths, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Measurement.Curve(lengths, n =>
        {
            var (q, k, v) = DoubleInputs(n, d);
            return () => LinearAttention.Compute(q, k, v);
        }, repeats: 3, maxSecondsPerRun, Label("linear", progress));

    /// <summary>Fits the time of the longer half of a sweep (short runs are dominated by fixed overhead).</summary>
    /// <param name="points">A sweep.</param>
    /// <returns>The power law.</returns>
    public static PowerLawFit TimeFit(IReadOnlyList<CostPoint> points) => Fit(points, p => p.Seconds);

    /// <summary>
    /// Fits how the allocated memory grows beyond the fixed part (what the shortest run of the sweep allocated:
    /// per-core tiles, thread bookkeeping), on the longer half of the sweep.
    /// </summary>
    /// <param name="points">A sweep.</param>
    /// <returns>The power law of the growth.</returns>
    public static PowerLawFit MemoryFit(IReadOnlyList<CostPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var fixedPart = points.Min(p => p.AllocatedBytes);
        return Fit(points, p => p.AllocatedBytes - fixedPart);
    }

    /// <summary>
    /// What each sweep's fitted time exponent shows against n^<paramref name="expected"/>, one line per sweep
    /// (<see cref="PowerLawFit.Against"/>): the notebook's conclusion about growth, derived from this run's numbers.
    /// </summary>
    /// <param name="expected">The exponent the arithmetic predicts: 2 for exact attention, 1 for the approximations.</param>
    /// <param name="sweeps">Named sweeps.</param>
    /// <returns>The lines.</returns>
    public static string Growth(double expected, params (string Name, IReadOnlyList<CostPoint> Points)[] sweeps)
    {
        ArgumentNullException.ThrowIfNull(sweeps);
        return string.Join("\n", sweeps.Select(s => TimeFit(s.Points).Against(s.Name, expected)));
    }

    /// <summary>A time curve for <see cref="Plots.Curves"/>, named with its fitted exponent.</summary>
    /// <param name="name">The variant.</param>
    /// <param name="points">Its sweep.</param>
    /// <returns>The curve (seconds).</returns>
    public static (string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y) TimeCurve(string name, IReadOnlyList<CostPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        return ($"{name} {TimeFit(points)}", [.. points.Select(p => (double)p.N)], [.. points.Select(p => p.Seconds)]);
    }

    /// <summary>A memory curve for <see cref="Plots.Curves"/>, named with its fitted exponent.</summary>
    /// <param name="name">The variant.</param>
    /// <param name="points">Its sweep.</param>
    /// <returns>The curve (MiB allocated).</returns>
    public static (string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y) MemoryCurve(string name, IReadOnlyList<CostPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        return ($"{name} {MemoryFit(points)}", [.. points.Select(p => (double)p.N)], [.. points.Select(p => Math.Max(p.AllocatedBytes, 1) / 1048576.0)]);
    }

    /// <summary>Where the n x n fp32 score matrix stops fitting in each cache level and in available memory.</summary>
    /// <returns>Markers for <see cref="Plots.Curves"/>.</returns>
    public static IReadOnlyList<(double X, string Label)> ScoreMatrixLimits()
    {
        var limits = Machine.Caches()
            .Where(c => c.Name is "L2" or "L3")
            .Select(c => ((double)AttentionCost.LongestFitting(c.Bytes), $"scores leave {c.Name} ({Size(c.Bytes)})"))
            .ToList();
        var memory = FastAttention.AvailableMemoryBytes();
        limits.Add((AttentionCost.LongestFitting(memory), $"scores exceed memory ({Size(memory)})"));
        return limits;
    }

    /// <summary>Relative difference ||a - b|| / ||b|| (Frobenius norms).</summary>
    /// <param name="approximate">The approximation.</param>
    /// <param name="exact">The exact result.</param>
    /// <returns>The relative error.</returns>
    public static double RelativeError(Matrix<double> approximate, Matrix<double> exact)
    {
        ArgumentNullException.ThrowIfNull(approximate);
        ArgumentNullException.ThrowIfNull(exact);
        return (approximate - exact).FrobeniusNorm() / exact.FrobeniusNorm();
    }

    private static PowerLawFit Fit(IReadOnlyList<CostPoint> points, Func<CostPoint, double> value)
    {
        ArgumentNullException.ThrowIfNull(points);
        var usable = points.Where(p => value(p) > 0).ToList();
        var longer = usable.Skip(usable.Count / 2).ToList();
        var chosen = longer.Count >= 2 ? longer : usable;
        if (chosen.Count < 2)
        {
            throw new ArgumentException($"a fit needs at least two measured lengths with a value above 0; this sweep has {usable.Count}: measure more lengths.", nameof(points));
        }

        return PowerLaw.Fit([.. chosen.Select(p => (double)p.N)], [.. chosen.Select(value)]);
    }

    private static IReadOnlyList<CostPoint> Fast(IEnumerable<int> lengths, int d, Action<float[], float[], float[], float[], int> attention, double maxSecondsPerRun, IProgress<string>? progress) =>
        Measurement.Curve(lengths, n =>
        {
            var random = new Random(n);
            float[] q = Random(random, n * d), k = Random(random, n * d), v = Random(random, n * d), o = new float[n * d];
            return () => attention(q, k, v, o, n);
        }, repeats: 3, maxSecondsPerRun, progress);

    private static (Matrix<double> Q, Matrix<double> K, Matrix<double> V) DoubleInputs(int n, int d)
    {
        var random = new Random(n);
        return (Matrix<double>.Build.Dense(n, d, (_, _) => (random.NextDouble() * 2) - 1),
            Matrix<double>.Build.Dense(n, d, (_, _) => (random.NextDouble() * 2) - 1),
            Matrix<double>.Build.Dense(n, d, (_, _) => (random.NextDouble() * 2) - 1));
    }

    private static float[] Random(Random random, int count) => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1))];

    private static Prefixed? Label(string name, IProgress<string>? progress) =>
        progress is null ? null : new Prefixed(name, progress);

    private static string Size(long bytes) => bytes >= 1L << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.#} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.#} MiB");

    private sealed class Prefixed(string name, IProgress<string> inner) : IProgress<string>
    {
        public void Report(string value) => inner.Report($"{name,-12} {value}");
    }
}
