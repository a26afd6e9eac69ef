using System.Globalization;
using NotebookAttention.Cost;

namespace NotebookAttention.Recurrence;

/// <summary>One measured length of <see cref="ParallelismReport"/>: the median time of each of the four runs, in seconds.</summary>
/// <param name="N">Sequence length.</param>
/// <param name="RecurrentOneCore">The recurrent layer on 1 core.</param>
/// <param name="RecurrentTwoCores">The recurrent layer on 2 cores.</param>
/// <param name="AttentionOneCore">Tiled attention on 1 core.</param>
/// <param name="AttentionTwoCores">Tiled attention on 2 cores.</param>
public sealed record ParallelismRow(int N, double RecurrentOneCore, double RecurrentTwoCores, double AttentionOneCore, double AttentionTwoCores)
{
    /// <summary>How many times faster the recurrent layer ran on 2 cores than on 1 (below 1: slower).</summary>
    public double RecurrentSpeedup => RecurrentOneCore / RecurrentTwoCores;

    /// <summary>How many times faster attention ran on 2 cores than on 1 (below 1: slower).</summary>
    public double AttentionSpeedup => AttentionOneCore / AttentionTwoCores;

    /// <summary>The recurrent layer's time on its faster core count.</summary>
    public double RecurrentBest => Math.Min(RecurrentOneCore, RecurrentTwoCores);

    /// <summary>Attention's time on its faster core count.</summary>
    public double AttentionBest => Math.Min(AttentionOneCore, AttentionTwoCores);

    /// <summary>How many times faster attention was than the recurrent layer, each on its faster core count (below 1: attention was slower).</summary>
    public double AttentionAdvantage => RecurrentBest / AttentionBest;
}

/// <summary>
/// The parallelism experiment of notebook 07 as numbers and the sentences they support. A recurrent layer and
/// attention are timed on 1 and 2 cores at growing n; every sentence of <see cref="Conclusions"/> is derived from
/// those times, so a run on a busy machine says that it cannot show what it set out to show instead of drawing a
/// conclusion its own table contradicts.
/// </summary>
/// <remarks>
/// The rules, all public: a second core counts as a gain when it cuts the time by at least
/// <see cref="GainThreshold"/>; more than <see cref="MostTwoCoresGive"/> means the 1-core run was disturbed.
/// Attention is compared with the recurrent layer each on its faster core count. A crossing (attention becomes
/// slower) counts only when it holds at every longer length measured (<see cref="Parallelism.Crossover"/>).
/// Speedups and the arithmetic are read at the longest length, whose runs are the longest and least disturbed.
/// </remarks>
public sealed class ParallelismReport
{
    /// <summary>The least speedup from a second core that counts as a gain (smaller ones are within timing noise).</summary>
    public const double GainThreshold = 1.2;

    /// <summary>The largest speedup 2 cores can honestly give: 2x, plus 10% for timing noise.</summary>
    public const double MostTwoCoresGive = 2.2;

    /// <summary>Checks and keeps the measured times and derives the conclusions.</summary>
    /// <param name="rows">One row per length, n increasing.</param>
    /// <param name="width">The width d of both layers (head dimension of attention, hidden size of the recurrent layer).</param>
    /// <param name="cores">Cores of the machine that measured the rows.</param>
    /// <exception cref="ArgumentException">There are no rows, the lengths do not increase, or a time is not a finite number above 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The width or the cores are below 1.</exception>
    public ParallelismReport(IReadOnlyList<ParallelismRow> rows, int width, int cores)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Check.AtLeast(width, 1, "width d", nameof(width));
        Check.AtLeast(cores, 1, "cores", nameof(cores));
        if (rows.Count == 0)
        {
            throw new ArgumentException("there are no measured lengths: measure at least one n.", nameof(rows));
        }

        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i] ?? throw new ArgumentException($"row {i} is null: give one row per measured length.", nameof(rows));
            if (row.N < 1 || (i > 0 && row.N <= rows[i - 1].N))
            {
                throw new ArgumentException($"row {i} has n = {row.N}: lengths must be at least 1 and increase from row to row; sort the rows by n.", nameof(rows));
            }

            double[] times = [row.RecurrentOneCore, row.RecurrentTwoCores, row.AttentionOneCore, row.AttentionTwoCores];
            if (times.Any(t => !(t > 0 && double.IsFinite(t))))
            {
                throw new ArgumentException($"at n = {row.N} a time is {times.First(t => !(t > 0 && double.IsFinite(t)))} s: every time must be a finite number of seconds above 0; check the measurement.", nameof(rows));
            }
        }

        Rows = [.. rows];
        Width = width;
        Cores = cores;
        Crossing = Parallelism.Crossover(
            [.. Rows.Select(r => new CostPoint(r.N, r.RecurrentBest, 0))],
            [.. Rows.Select(r => new CostPoint(r.N, r.AttentionBest, 0))]);
        Conclusions = [CrossingSentence(), SpeedupSentence("attention", Longest.AttentionSpeedup), SpeedupSentence("the RNN", Longest.RecurrentSpeedup), WorkSentence(), SourceSentence()];
    }

    /// <summary>The measured times, n increasing.</summary>
    public IReadOnlyList<ParallelismRow> Rows { get; }

    /// <summary>The width d of both layers.</summary>
    public int Width { get; }

    /// <summary>Cores of the machine that measured the rows.</summary>
    public int Cores { get; }

    /// <summary>The longest measured length, where the speedups and the arithmetic are read.</summary>
    public ParallelismRow Longest => Rows[^1];

    /// <summary>The length from which attention was slower than the recurrent layer at every longer length, or null (see <see cref="Parallelism.Crossover"/>).</summary>
    public int? Crossing { get; }

    /// <summary>What this run shows, one sentence each: the crossing, the gain of a second core for each layer, the arithmetic against the time, and the source.</summary>
    public IReadOnlyList<string> Conclusions { get; }

    /// <summary>
    /// Times a recurrent layer and tiled attention (both of width <paramref name="width"/>) on 1 and 2 cores at each
    /// length, the four runs of one length one after another so that a busy spell of the machine disturbs all four
    /// alike. Stops after the first length where a run takes longer than <paramref name="maxSecondsPerRun"/>.
    /// </summary>
    /// <param name="lengths">The n values, increasing.</param>
    /// <param name="width">Width d of both layers.</param>
    /// <param name="maxSecondsPerRun">Stop after a run this long.</param>
    /// <exception cref="ArgumentException">There are no lengths, or the budget is not a number above 0.</exception>
    public static ParallelismReport Measure(IReadOnlyList<int> lengths, int width = 64, double maxSecondsPerRun = 1)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        if (lengths.Count == 0)
        {
            throw new ArgumentException("there are no lengths to measure: give at least one n.", nameof(lengths));
        }

        if (!(maxSecondsPerRun > 0))
        {
            throw new ArgumentException($"the budget per run is {maxSecondsPerRun} s: it must be above 0 seconds.", nameof(maxSecondsPerRun));
        }

        var rows = new List<ParallelismRow>();
        foreach (var n in lengths)
        {
            var row = new ParallelismRow(
                n,
                Parallelism.Recurrent([n], threads: 1, width, maxSecondsPerRun).Single().Seconds,
                Parallelism.Recurrent([n], threads: 2, width, maxSecondsPerRun).Single().Seconds,
                Parallelism.Attention([n], threads: 1, width, maxSecondsPerRun).Single().Seconds,
                Parallelism.Attention([n], threads: 2, width, maxSecondsPerRun).Single().Seconds);
            rows.Add(row);
            if (Math.Max(Math.Max(row.RecurrentOneCore, row.RecurrentTwoCores), Math.Max(row.AttentionOneCore, row.AttentionTwoCores)) > maxSecondsPerRun)
            {
                break;
            }
        }

        return new ParallelismReport(rows, width, Environment.ProcessorCount);
    }

    private string CrossingSentence()
    {
        var longest = Longest.N;
        if (Crossing is { } crossing)
        {
            var confirming = Rows.Count(r => r.N >= crossing);
            return crossing == Rows[0].N
                ? Say($"Attention was slower than the RNN at every measured length, from n = {crossing:N0} to n = {longest:N0}.")
                : Say($"Attention becomes slower than the RNN at n = {crossing:N0}: it is slower there and at every longer length measured ({confirming} lengths, up to n = {longest:N0}).");
        }

        if (Longest.AttentionAdvantage < 1)
        {
            return Say($"Attention was slower than the RNN at n = {longest:N0}, the longest length measured, but no longer length confirms it, so this run shows no crossing: measure longer sequences to see whether it holds.");
        }

        var slower = Rows.Where(r => r.AttentionAdvantage < 1).Select(r => r.N.ToString("N0", CultureInfo.InvariantCulture)).ToList();
        return slower.Count == 0
            ? Say($"Attention was faster than the RNN at every measured length, up to n = {longest:N0}: no crossing in this range.")
            : Say($"Attention was faster than the RNN at n = {longest:N0}, the longest length measured; it was slower at n = {string.Join(", ", slower)}, but longer lengths contradict that, so this run shows no length from which attention stays slower.");
    }

    private string SpeedupSentence(string layer, double speedup)
    {
        var n = Longest.N;
        var subject = char.ToUpperInvariant(layer[0]) + layer[1..];
        if (layer == "attention" && Cores < 2)
        {
            return Say($"This machine has {Cores} core, so attention on 2 threads cannot be faster than on 1 (x{speedup:0.00} at n = {n:N0}): run it on a machine with 2 or more cores to see attention spread over cores.");
        }

        if (speedup > MostTwoCoresGive)
        {
            return Say($"On this run {layer} on 2 cores was x{speedup:0.00} faster than on 1 at n = {n:N0}, more than 2 cores can give: other work slowed the 1-core run, so this run cannot show what a second core gives {layer}; run the cell again when the machine is quiet.");
        }

        if (layer == "attention")
        {
            return speedup < GainThreshold
                ? Say($"On this run attention on 2 cores was not faster than on 1 (x{speedup:0.00} at n = {n:N0}): the machine was busy with other work, so this run cannot show attention spreading over cores; run the cell again when the machine is quiet.")
                : Say($"Attention on 2 cores was x{speedup:0.00} faster than on 1 at n = {n:N0}: it splits the queries into blocks that the cores compute at the same time.");
        }

        return speedup switch
        {
            < 1 => Say($"{subject} on 2 cores was slower than on 1 (x{speedup:0.00} at n = {n:N0}): its {n:N0} steps run one after another, so 2 cores can only split each small step, and the threads must meet after every step, which costs more than the split saves."),
            < GainThreshold => Say($"{subject} gained nothing real from a second core (x{speedup:0.00} at n = {n:N0}): its {n:N0} steps run one after another, so 2 cores can only split each small step."),
            _ => Say($"{subject} on 2 cores was x{speedup:0.00} faster than on 1 at n = {n:N0}: the cores split each step's {Width} rows, but its {n:N0} steps still run one after another."),
        };
    }

    private string WorkSentence()
    {
        var n = Longest.N;
        var attentionFlops = AttentionCost.Flops(n, Width);
        var recurrentFlops = Parallelism.RecurrentFlops(n, Width);
        var attentionRate = attentionFlops / Longest.AttentionBest;
        var recurrentRate = recurrentFlops / Longest.RecurrentBest;
        var work = $"At n = {n:N0} attention does x{attentionFlops / recurrentFlops:0.#} the arithmetic of the RNN (4n²d = {Flops(attentionFlops)} against 4nd² = {Flops(recurrentFlops)}; n/d = {n:N0}/{Width}).";
        var speed = $"It computes x{attentionRate / recurrentRate:0.#} faster ({Rate(attentionRate)} against {Rate(recurrentRate)}: the RNN's {n:N0} steps run one after another, {Microseconds(Longest.RecurrentBest / n)} each)";
        var times = $"({Milliseconds(Longest.AttentionBest)} against {Milliseconds(Longest.RecurrentBest)})";
        return Longest.AttentionAdvantage >= 1
            ? Say($"{work} {speed}, which more than makes up for the extra work: attention finishes x{Longest.AttentionAdvantage:0.00} sooner {times}. The RNN is bound by its sequential steps, not by its arithmetic.")
            : Say($"{work} {speed}, which does not make up for the extra work: attention takes x{1 / Longest.AttentionAdvantage:0.00} longer {times}.");
    }

    private string SourceSentence() => Longest.AttentionAdvantage >= 1
        ? "Vaswani et al. (2017, section 4, \"Why Self-Attention\") count O(n) sequential operations for a recurrent layer against O(1) for self-attention: that, not less arithmetic, is why attention wins here."
        : "Vaswani et al. (2017, section 4, \"Why Self-Attention\") say the same: a layer costs O(n²d) with self-attention and O(nd²) with recurrence, so attention is cheaper only while n < d; what it wins is O(1) sequential operations against O(n), which pays where the hardware computes attention more than n/d times faster than the recurrence.";

    private static string Say(FormattableString sentence) => sentence.ToString(CultureInfo.InvariantCulture);

    private static string Flops(double flops) => flops >= 1e9
        ? Say($"{flops / 1e9:0.0} GFLOP")
        : flops >= 1e6 ? Say($"{flops / 1e6:0.0} MFLOP") : Say($"{flops / 1e3:0.0} kFLOP");

    private static string Rate(double flopsPerSecond) => Say($"{flopsPerSecond / 1e9:0.00} GFLOP/s");

    private static string Milliseconds(double seconds) => Say($"{seconds * 1e3:0.000} ms");

    private static string Microseconds(double seconds) => Say($"{seconds * 1e6:0.00} µs");
}
