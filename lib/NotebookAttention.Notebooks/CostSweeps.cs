using System.Globalization;
using System.Text;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Approximations;
using NotebookAttention.Attention;
using NotebookAttention.Cost;
using NotebookAttention.Fast;
using NotebookAttention.Recurrence;

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
    public static IReadOnlyList<CostPoint> Reference(IEnumerable<int> lengths, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Measurement.Curve(lengths, n =>
        {
            var (q, k, v) = DoubleInputs(n, d);
            return () => ScaledDotProductAttention.Compute(q, k, v);
        }, repeats: 3, maxSecondsPerRun, Label("reference", progress), minTotalSeconds: MinSecondsPerPoint);

    /// <summary>The fast materializing path (builds the n x n scores).</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    public static IReadOnlyList<CostPoint> Materialized(IEnumerable<int> lengths, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Fast(lengths, d, (q, k, v, o, n) => FastAttention.Materialized(q, k, v, o, n, n, d, d), maxSecondsPerRun, Label("materialized", progress));

    /// <summary>The fast tiled path (online softmax).</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    public static IReadOnlyList<CostPoint> Tiled(IEnumerable<int> lengths, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Fast(lengths, d, (q, k, v, o, n) => FastAttention.Tiled(q, k, v, o, n, n, d, d), maxSecondsPerRun, Label("tiled", progress));

    /// <summary>Sliding-window attention with the given window.</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="window">How far each token looks.</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    public static IReadOnlyList<CostPoint> SlidingWindow(IEnumerable<int> lengths, int window, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Fast(lengths, d, (q, k, v, o, n) => SlidingWindowAttention.Compute(q, k, v, o, n, d, d, window), maxSecondsPerRun, Label($"window {window}", progress));

    /// <summary>Linear attention (Katharopoulos et al. 2020) on the fast fp32 kernel, O(n d d_v).</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    public static IReadOnlyList<CostPoint> Linear(IEnumerable<int> lengths, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Fast(lengths, d, (q, k, v, o, n) => FastLinearAttention.Compute(q, k, v, o, n, d, d), maxSecondsPerRun, Label("linear", progress));

    /// <summary>
    /// One candidate cause of the materialized path's steps, measured alone: allocating a fresh pinned fp32 buffer of
    /// the materialized score matrix's size (<see cref="FastAttention.MaterializedScoreBytes"/>, as that path does on
    /// every call) and writing every entry once, with no arithmetic: the cost of new memory (first-touch page faults,
    /// garbage collections) and of one pass over it.
    /// </summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    public static IReadOnlyList<CostPoint> FreshScoreBuffer(IEnumerable<int> lengths, double maxSecondsPerRun = 2, IProgress<string>? progress = null) =>
        Measurement.Curve(lengths, n =>
        {
            var count = (int)(FastAttention.MaterializedScoreBytes(n, n) / sizeof(float));
            return () =>
            {
                var scores = GC.AllocateUninitializedArray<float>(count, pinned: true);
                scores.AsSpan().Fill(1f);
                GC.KeepAlive(scores);
            };
        }, repeats: 3, maxSecondsPerRun, Label("fresh buffer", progress), minTotalSeconds: MinSecondsPerPoint);

    /// <summary>
    /// Each point's timed runs add up to at least this many seconds (three runs at the least; the median is kept): a
    /// sub-millisecond point is the median of dozens to thousands of runs, so one interrupted run cannot move it.
    /// </summary>
    public const double MinSecondsPerPoint = 0.02;

    /// <summary>
    /// Exact (tiled), sliding-window and linear attention timed in turn at each n on the same inputs (one head,
    /// fp32, all cores), so that a busy spell of the machine falls on all three alike instead of on one sweep
    /// measured minutes apart from the other. Each kernel stops on its own once a run takes longer than
    /// <paramref name="maxSecondsPerRun"/>; the exact kernel is not run past <paramref name="exactUpTo"/>.
    /// </summary>
    /// <param name="lengths">The n values, in increasing order.</param>
    /// <param name="window">The sliding window w.</param>
    /// <param name="exactUpTo">Longest n for the exact kernel (its time grows like n²).</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop a kernel after a run this long.</param>
    /// <param name="progress">One line per kernel and n.</param>
    /// <returns>The three sweeps.</returns>
    public static ApproximationRace Race(IEnumerable<int> lengths, int window, int exactUpTo, int d = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        var kernels = new (string Name, Action<float[], float[], float[], float[], int> Run, List<CostPoint> Points, int UpTo)[]
        {
            ("exact tiled", (q, k, v, o, n) => FastAttention.Tiled(q, k, v, o, n, n, d, d), [], exactUpTo),
            ($"window {window}", (q, k, v, o, n) => FastSlidingWindow.Compute(q, k, v, o, n, d, d, window), [], int.MaxValue),
            ("linear", (q, k, v, o, n) => FastLinearAttention.Compute(q, k, v, o, n, d, d), [], int.MaxValue),
        };
        var stopped = new bool[kernels.Length];
        foreach (var n in lengths)
        {
            var random = new Random(n);
            float[] q = Random(random, n * d), k = Random(random, n * d), v = Random(random, n * d), o = new float[n * d];
            for (var i = 0; i < kernels.Length; i++)
            {
                if (stopped[i] || n > kernels[i].UpTo)
                {
                    continue;
                }

                var run = kernels[i].Run;
                var (point, tooSlow) = Measurement.Point(n, () => run(q, k, v, o, n), repeats: 3, maxSecondsPerRun, MinSecondsPerPoint);
                kernels[i].Points.Add(point);
                progress?.Report(string.Create(CultureInfo.InvariantCulture, $"{kernels[i].Name,-12} n = {n,7:N0}: {point.Seconds * 1e3,10:0.000} ms{(tooSlow ? $" (over the {maxSecondsPerRun:0.0} s budget: stopping this kernel)" : string.Empty)}"));
                stopped[i] = tooSlow;
            }
        }

        return new ApproximationRace(kernels[0].Points, kernels[1].Points, kernels[2].Points);
    }

    /// <summary>
    /// How much of the tiled kernel's work at small n is padding: it scores whole blocks of
    /// <see cref="FastAttention.QueryBlock"/> queries x <see cref="FastAttention.KeyBlock"/> keys, one query block per
    /// core, so at n = 64 it fills one 96 x 128 block (3x the n² scores needed) on one core. One sentence for the
    /// lengths given where the slots exceed the pairs by at least 10%.
    /// </summary>
    /// <param name="lengths">The lengths to describe.</param>
    /// <returns>The sentence (empty when no length is padded that much).</returns>
    public static string TiledPadding(IEnumerable<int> lengths)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        var c = CultureInfo.InvariantCulture;
        var padded = lengths.Distinct().Order()
            .Select(n => (N: n, Slots: RoundUp(n, FastAttention.QueryBlock) * RoundUp(n, FastAttention.KeyBlock), Blocks: RoundUp(n, FastAttention.QueryBlock) / FastAttention.QueryBlock))
            .Where(p => p.Slots >= 1.1 * p.N * p.N)
            .Select(p => string.Create(c, $"n = {p.N:N0}: {p.Slots:N0} for {(long)p.N * p.N:N0} ({(double)p.Slots / ((double)p.N * p.N):0.0}x), {p.Blocks} block{(p.Blocks == 1 ? string.Empty : "s")}"))
            .ToList();
        return padded.Count == 0
            ? string.Empty
            : string.Create(c, $"The exact tiled kernel scores whole blocks of {FastAttention.QueryBlock} queries x {FastAttention.KeyBlock} keys and gives each core whole query blocks, so at short lengths it computes more scores than there are pairs and keeps fewer cores busy (score slots for pairs, and query blocks = most cores it can use): {string.Join("; ", padded)}.");
    }

    /// <summary>Fits the time of the longer half of a sweep (short runs are dominated by fixed overhead).</summary>
    /// <param name="points">A sweep.</param>
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

    /// <summary>
    /// Growth beyond the shortest run's allocation below which a memory curve is said not to grow with n: a few
    /// small objects per call, nothing an exponent could be fitted to.
    /// </summary>
    public const long FlatBytes = 4096;

    /// <summary>
    /// A memory curve for <see cref="Plots.Curves"/>, named with its fitted exponent, or, when what each call allocates
    /// grew by less than <see cref="FlatBytes"/> over the whole sweep, with "does not grow with n" and the largest count.
    /// </summary>
    /// <param name="name">The variant.</param>
    /// <param name="points">Its sweep.</param>
    /// <returns>The curve (MiB allocated).</returns>
    public static (string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y) MemoryCurve(string name, IReadOnlyList<CostPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var largest = points.Max(p => p.AllocatedBytes);
        var label = largest - points.Min(p => p.AllocatedBytes) < FlatBytes
            ? string.Create(CultureInfo.InvariantCulture, $"{name}: does not grow with n (at most {largest:N0} bytes per call)")
            : $"{name} {MemoryFit(points)}";
        return (label, [.. points.Select(p => (double)p.N)], [.. points.Select(p => Math.Max(p.AllocatedBytes, 1) / 1048576.0)]);
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

    /// <summary>
    /// This run's times of exact attention and of each approximation side by side, one line per n (seconds to four
    /// significant digits), then one conclusion per approximation from <see cref="CrossoverConclusion"/>, computed
    /// from the numbers as printed.
    /// </summary>
    /// <param name="exact">The exact kernel's sweep.</param>
    /// <param name="approximations">Named sweeps of the approximations.</param>
    public static string CrossoverReport(IReadOnlyList<CostPoint> exact, params (string Name, IReadOnlyList<CostPoint> Points)[] approximations)
    {
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(approximations);
        var shownExact = Shown(exact);
        var shown = approximations.Select(a => (a.Name, Points: Shown(a.Points))).ToList();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"n",8}  {ExactColumn,-16}").AppendJoin(string.Empty, shown.Select(a => $"  {a.Name + " (s)",-28}")).AppendLine();
        foreach (var n in shownExact.Select(p => p.N).Concat(shown.SelectMany(a => a.Points.Select(p => p.N))).Distinct().Order())
        {
            text.Append(CultureInfo.InvariantCulture, $"{n,8}  {Seconds(shownExact, n),-16}").AppendJoin(string.Empty, shown.Select(a => $"  {Seconds(a.Points, n),-28}")).AppendLine();
        }

        foreach (var (name, points) in shown)
        {
            text.AppendLine(CrossoverConclusion(name, shownExact, points));
        }

        text.Append(TiledPadding(shownExact.Select(p => p.N)));
        return text.ToString();
    }

    /// <summary>The header of the exact column in <see cref="CrossoverReport"/>.</summary>
    public const string ExactColumn = "exact tiled (s)";

    /// <summary>
    /// Where an approximation overtakes exact attention in this run: the smallest n from which it is faster at that n
    /// and at every longer length both measured, confirmed by at least <see cref="Parallelism.LengthsToConfirm"/>
    /// lengths (<see cref="Parallelism.Crossover"/>, so one noisy point cannot make or break a crossing). When that n
    /// is the shortest common length, nothing crossed: it says it was faster at every length and names no crossing.
    /// Otherwise a plain statement that this run shows none.
    /// </summary>
    /// <param name="name">The approximation.</param>
    /// <param name="exact">The exact kernel's points.</param>
    /// <param name="approximate">The approximation's points.</param>
    /// <returns>One sentence.</returns>
    public static string CrossoverConclusion(string name, IReadOnlyList<CostPoint> exact, IReadOnlyList<CostPoint> approximate)
    {
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(approximate);
        var common = approximate.Where(a => exact.Any(e => e.N == a.N)).Select(a => a.N).Order().ToList();
        if (common.Count == 0)
        {
            return $"{name}: no length was measured for both, so this run cannot compare it with exact attention.";
        }

        var from = Parallelism.Crossover(approximate, exact);
        var last = common[^1];
        if (from == common[0])
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{name}: faster than exact attention at every length both were measured at ({common.Count} lengths, n = {common[0]:N0} to {last:N0}): no crossing in this range, it is already faster at the shortest.");
        }

        if (from is { } n)
        {
            var confirming = common.Count(c => c >= n);
            return string.Create(CultureInfo.InvariantCulture,
                $"{name}: faster than exact attention from n = {n:N0} on (at n = {n:N0} and at every longer length measured, {confirming} lengths up to n = {last:N0}).");
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{name}: this run shows no crossing (it is not faster than exact attention at {Parallelism.LengthsToConfirm} or more lengths in a row up to the longest common one; at n = {last:N0}: {approximate.Single(p => p.N == last).Seconds:G4} s against {exact.Single(p => p.N == last).Seconds:G4} s).");
    }

    /// <summary>
    /// The materialized path's biggest step in this run: a table of its time and the tiled path's at each n, the factor
    /// from the previous n, and the bytes of the fp32 score matrix it allocates; then what the numbers say
    /// (<see cref="ScoreMatrixStepConclusion"/>).
    /// </summary>
    /// <param name="materialized">The materialized sweep.</param>
    /// <param name="tiled">The tiled sweep.</param>
    /// <param name="fresh">The same lengths' <see cref="FreshScoreBuffer"/> sweep (a last column), or null.</param>
    public static string ScoreMatrixStep(IReadOnlyList<CostPoint> materialized, IReadOnlyList<CostPoint> tiled, IReadOnlyList<CostPoint>? fresh = null)
    {
        ArgumentNullException.ThrowIfNull(materialized);
        ArgumentNullException.ThrowIfNull(tiled);
        var caches = Machine.Caches();
        var m = Shown(materialized);
        var t = Shown(tiled);
        var f = fresh is null ? null : Shown(fresh);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"caches (cpu0): {Machine.CacheSummary()}");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"n",8}  {"materialized (s)",-18}{"x",-8}{"tiled (s)",-14}{"x",-8}{"fp32 scores (KiB)",-19}{(f is null ? string.Empty : "fresh buffer (s)")}");
        for (var i = 0; i < m.Count; i++)
        {
            var n = m[i].N;
            var tiledPoint = t.FirstOrDefault(p => p.N == n);
            var previousTiled = i > 0 ? t.FirstOrDefault(p => p.N == m[i - 1].N) : null;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{n,8}  {m[i].Seconds.ToString("G4", CultureInfo.InvariantCulture),-18}{(i > 0 ? (m[i].Seconds / m[i - 1].Seconds).ToString("0.0", CultureInfo.InvariantCulture) : "-"),-8}" +
                $"{tiledPoint?.Seconds.ToString("G4", CultureInfo.InvariantCulture) ?? "-",-14}{(tiledPoint is not null && previousTiled is not null ? (tiledPoint.Seconds / previousTiled.Seconds).ToString("0.0", CultureInfo.InvariantCulture) : "-"),-8}" +
                $"{FastAttention.MaterializedScoreBytes(n, n) / 1024,-19}{(f is null ? string.Empty : f.FirstOrDefault(p => p.N == n)?.Seconds.ToString("G4", CultureInfo.InvariantCulture) ?? "-")}").TrimEnd());
        }

        text.Append(ScoreMatrixStepConclusion(m, t, caches, f));
        return text.ToString();
    }

    /// <summary>
    /// What the materialized path's biggest step says, from the numbers only: the step n to 2n whose time factor is
    /// largest; it "stands out" when that factor is at least 5 (the arithmetic gives 4) and at least 1.5 times the
    /// tiled path's factor at the same step (the tiled path keeps no n x n matrix, so the two differ by the matrix).
    /// When both paths slowed (the tiled factor at least 1.25 times the arithmetic's) it says so: that points to the
    /// machine. Otherwise the cache levels whose size lies between the score matrix's bytes at n and at 2n are named
    /// (the matrix outgrew them at that step), or it says the listed sizes do not explain the step; a timing shows
    /// that the two coincide, not that one causes the other, and the causes this run does not measure (a fresh
    /// allocation per call, a shared L3) are named.
    /// </summary>
    /// <param name="materialized">The materialized points (as printed).</param>
    /// <param name="tiled">The tiled points (as printed).</param>
    /// <param name="caches">This machine's caches.</param>
    /// <param name="fresh">
    /// <see cref="FreshScoreBuffer"/> at the same lengths, or null: when it has both ends of the step, the share of the
    /// step's added time that allocating and writing a fresh matrix alone took is said, and that cause is no longer
    /// listed as unmeasured.
    /// </param>
    public static string ScoreMatrixStepConclusion(IReadOnlyList<CostPoint> materialized, IReadOnlyList<CostPoint> tiled, IReadOnlyList<CacheLevel> caches, IReadOnlyList<CostPoint>? fresh = null)
    {
        ArgumentNullException.ThrowIfNull(materialized);
        ArgumentNullException.ThrowIfNull(tiled);
        ArgumentNullException.ThrowIfNull(caches);
        var steps = Enumerable.Range(1, Math.Max(0, materialized.Count - 1))
            .Select(i => (From: materialized[i - 1], To: materialized[i]))
            .Where(s => tiled.Any(p => p.N == s.From.N) && tiled.Any(p => p.N == s.To.N))
            .Select(s => (s.From, s.To, Factor: s.To.Seconds / s.From.Seconds, Tiled: tiled.Single(p => p.N == s.To.N).Seconds / tiled.Single(p => p.N == s.From.N).Seconds))
            .ToList();
        if (steps.Count == 0)
        {
            return "The materialized and tiled sweeps share no two consecutive lengths, so this run cannot show a step.";
        }

        var (from, to, factor, tiledFactor) = steps.MaxBy(s => s.Factor);
        var c = CultureInfo.InvariantCulture;
        var head = string.Create(c, $"Biggest step of the materialized path: n = {from.N:N0} to {to.N:N0}, x{factor:0.0} (the arithmetic gives x{(double)to.N * to.N / ((double)from.N * from.N):0.0}; the tiled path, which keeps no n x n matrix, x{tiledFactor:0.0} at the same step).");
        var arithmetic = (double)to.N * to.N / ((double)from.N * from.N);
        if (factor < 5)
        {
            return head + " It does not stand out in this run (it would need at least x5), so there is no jump here to explain.";
        }

        if (factor < 1.5 * tiledFactor)
        {
            return head + (tiledFactor >= 1.25 * arithmetic
                ? string.Create(c, $" Both paths slowed at this step (x{factor:0.0} and x{tiledFactor:0.0} against the arithmetic's x{arithmetic:0.0}); the tiled path keeps no n x n matrix, so this points to the machine (other load, its clock), not to the score matrix.")
                : string.Create(c, $" The tiled path's factor at the same step is within 1.5 times of it, so this run does not single out the score matrix."));
        }

        var before = FastAttention.MaterializedScoreBytes(from.N, from.N);
        var after = FastAttention.MaterializedScoreBytes(to.N, to.N);
        var sizes = string.Create(c, $"Its fp32 score matrix grew from {before / 1024:N0} KiB to {after / 1024:N0} KiB");
        var freshFrom = fresh?.FirstOrDefault(p => p.N == from.N);
        var freshTo = fresh?.FirstOrDefault(p => p.N == to.N);
        var untested = freshFrom is not null && freshTo is not null
            ? string.Create(c, $" Allocating a fresh pinned {after / 1048576.0:0.#} MiB matrix and writing it once, as each call does, took {freshTo.Seconds:G4} s at n = {to.N:N0} against {freshFrom.Seconds:G4} s at n = {from.N:N0}: {100 * (freshTo.Seconds - freshFrom.Seconds) / (to.Seconds - from.Seconds):0}% of the {to.Seconds - from.Seconds:G3} s the step added. Not measured here: the L3 is shared, so a run gets less of it when other cores or programs use it.")
            : string.Create(c, $" Two other causes this run does not measure: each call allocates a fresh pinned {after / 1048576.0:0.#} MiB matrix (first-touch page faults, garbage collections), and the L3 is shared, so a run gets less of it when other cores or programs use it.");
        if (caches.Count == 0)
        {
            return head + " " + sizes + "; this system does not list its caches, so which level it outgrew cannot be said." + untested;
        }

        var outgrown = caches.Where(level => before <= level.Bytes && after > level.Bytes).ToList();
        return outgrown.Count == 0
            ? head + " " + sizes + string.Create(c, $", which crosses none of the cache sizes listed for this machine ({string.Join(", ", caches.Select(l => $"{l.Name} {l.Bytes / 1024:N0} KiB"))}): the listed cache sizes do not explain this step.") + untested
            : head + " " + sizes + string.Create(c, $", past {string.Join(" and ", outgrown.Select(l => $"{l.Name} ({l.Bytes / 1024:N0} KiB per instance)"))}: the whole matrix, written once and read back, no longer stays in that level, so the extra time is consistent with it going to a slower one. A timing shows that the two coincide; a cache counter would be needed to prove the cause.") + untested;
    }

    /// <summary>What a sliding window of <paramref name="window"/> lets n tokens see, computed: the pairs it keeps against all n² pairs.</summary>
    /// <param name="n">Tokens.</param>
    /// <param name="window">The window w.</param>
    /// <returns>One sentence.</returns>
    public static string WindowCoverage(int n, int window)
    {
        var pairs = FastSlidingWindow.VisiblePairs(n, window);
        var all = (long)n * n;
        return string.Create(CultureInfo.InvariantCulture,
            $"w = {window} on {n:N0} tokens: each token sees at most {Math.Min(n, (2 * window) + 1):N0} of them; the window keeps {pairs:N0} of the {all:N0} query-key pairs ({100.0 * pairs / all:0.#}%).");
    }

    /// <summary>
    /// The window the notebook draws for n tokens: an eighth (at least 1) of the tokens the picture shows
    /// (<see cref="LongInput.Shown"/>: the first 32 of a long paragraph), so it is clearly smaller than what is drawn.
    /// </summary>
    /// <param name="n">Tokens.</param>
    /// <returns>w.</returns>
    public static int DemoWindow(int n) => Math.Max(1, LongInput.Shown(n) / 8);

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

    /// <summary>The points with their seconds rounded to the four significant digits printed, so a conclusion uses the numbers shown.</summary>
    private static List<CostPoint> Shown(IReadOnlyList<CostPoint> points) =>
        [.. points.Select(p => p with { Seconds = double.Parse(p.Seconds.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) })];

    private static long RoundUp(long n, int block) => (n + block - 1) / block * block;

    private static string Seconds(IReadOnlyList<CostPoint> points, int n) =>
        points.FirstOrDefault(p => p.N == n)?.Seconds.ToString("G4", CultureInfo.InvariantCulture) ?? "-";

    private static IReadOnlyList<CostPoint> Fast(IEnumerable<int> lengths, int d, Action<float[], float[], float[], float[], int> attention, double maxSecondsPerRun, IProgress<string>? progress) =>
        Measurement.Curve(lengths, n =>
        {
            var random = new Random(n);
            float[] q = Random(random, n * d), k = Random(random, n * d), v = Random(random, n * d), o = new float[n * d];
            return () => attention(q, k, v, o, n);
        }, repeats: 3, maxSecondsPerRun, progress, minTotalSeconds: MinSecondsPerPoint);

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

/// <summary>Exact, sliding-window and linear attention measured in turn at each n (<see cref="CostSweeps.Race"/>).</summary>
/// <param name="Exact">The tiled exact kernel.</param>
/// <param name="Window">Sliding-window attention.</param>
/// <param name="Linear">Linear attention.</param>
public sealed record ApproximationRace(IReadOnlyList<CostPoint> Exact, IReadOnlyList<CostPoint> Window, IReadOnlyList<CostPoint> Linear);
