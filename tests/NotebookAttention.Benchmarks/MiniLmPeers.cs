using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NotebookAttention.Pretrained;

namespace NotebookAttention.Benchmarks;

/// <summary>One all-MiniLM-L6-v2 input: a batch of id sequences padded to one length, and how many ids of each are real.</summary>
/// <param name="Label">How a row names it, e.g. "128 pieces" or "padded batch 8 x 128".</param>
/// <param name="Ids">The sequences, each padded to the batch length with id 0 ([PAD]).</param>
/// <param name="Valid">Real ids of each sequence (the attention mask's ones).</param>
public sealed record MiniLmCase(string Label, long[][] Ids, int[] Valid)
{
    /// <summary>The padded length.</summary>
    public int Length => Ids[0].Length;

    /// <summary>
    /// FLOPs of the real tokens' arithmetic (2 per multiply-add), which both runtimes must do: per layer and real token
    /// the four projections and the feed-forward, 2 · 12 · hidden², and attention over that sequence's real tokens,
    /// 4 · valid · hidden; six layers. ONNX Runtime also computes the padding positions; they are not counted.
    /// </summary>
    public double Flops => 6.0 * Valid.Sum(v => v * ((24.0 * 384 * 384) + (4.0 * v * 384)));
}

/// <summary>One case on one thread count: the library's and ONNX Runtime's timings, or why there are none.</summary>
/// <param name="Case">The case.</param>
/// <param name="Threads">Threads both sides ran on.</param>
/// <param name="Library">The library's timing.</param>
/// <param name="Onnx">ONNX Runtime's timing.</param>
/// <param name="Difference">Largest |library − ONNX Runtime| over the real tokens' hidden states, relative to the largest |entry|.</param>
/// <param name="Load">The load average around the case.</param>
/// <param name="Problem">Why the case was not timed, or null.</param>
public sealed record MiniLmResult(MiniLmCase Case, int Threads, Timing? Library, Timing? Onnx, double Difference, Load Load, string? Problem)
{
    /// <summary>The library's time over ONNX Runtime's: the issue asks for at most <see cref="MiniLmPeers.Target"/>.</summary>
    public double Ratio => Library is { } library && Onnx is { } onnx ? library.Ms / onnx.Ms : double.NaN;
}

/// <summary>
/// The library's fast MiniLM encoder against ONNX Runtime on the same ONNX file, in one process and one run: for each
/// input and each thread count, both sides are timed in alternating rounds (<see cref="PeerComparison.AlternateAll"/>),
/// after their outputs are compared.
/// </summary>
public static class MiniLmPeers
{
    /// <summary>The target: the library's time at most this fraction of ONNX Runtime's, at the same thread count.</summary>
    public const double Target = 0.9;

    /// <summary>Largest allowed difference between the two, relative to the largest entry: 2 · sqrt(6 · 1536) · 2^-24, the test suite's bound for two fp32 encoders.</summary>
    public static readonly double Tolerance = 2 * Math.Sqrt(6 * 1536) * Math.Pow(2, -24);

    /// <summary>16, 128 and 512 word pieces, and a padded batch of 8 sequences of 128 with 16 to 128 real ids each (seeded).</summary>
    /// <returns>The cases.</returns>
    public static IReadOnlyList<MiniLmCase> Cases()
    {
        var random = new Random(14);
        long[] Sequence(int length, int valid) =>
            [.. Enumerable.Range(0, length).Select(i => i == 0 ? 101L : i == valid - 1 ? 102L : i < valid ? random.Next(2000, 20000) : 0L)];
        var cases = new List<MiniLmCase>();
        foreach (var n in new[] { 16, 128, 512 })
        {
            cases.Add(new MiniLmCase($"{n} pieces", [Sequence(n, n)], [n]));
        }

        int[] valid = [128, .. Enumerable.Range(0, 7).Select(_ => random.Next(16, 129))];
        cases.Add(new MiniLmCase("padded batch 8 x 128", [.. valid.Select(v => Sequence(128, v))], valid));
        return cases;
    }

    /// <summary>Runs every case on each of <see cref="PeerComparison.ThreadCounts"/>.</summary>
    /// <returns>One result per case and thread count.</returns>
    public static IReadOnlyList<MiniLmResult> Run(IReadOnlyList<MiniLmCase> cases, int rounds = 3)
    {
        ArgumentNullException.ThrowIfNull(cases);
        var weights = MiniLmWeights.Load();
        var results = new List<MiniLmResult>();
        foreach (var threads in PeerComparison.ThreadCounts)
        {
            var encoder = new FastMiniLmEncoder(weights, threads);
            using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            using var session = new InferenceSession(weights.ModelBytes, options);
            foreach (var c in cases)
            {
                Console.WriteLine($"  MiniLM, {c.Label}, {threads} thread(s) ...");
                var loadBefore = Load.Now();
                var inputs = Inputs(c);
                Func<float[][]> library = c.Ids.Length == 1 ? () => [encoder.Forward(c.Ids[0])] : () => encoder.ForwardBatch(c.Ids, c.Valid);
                var difference = Difference(c, library(), Onnx(session, inputs));
                if (!(difference <= Tolerance))
                {
                    results.Add(new MiniLmResult(c, threads, null, null, difference, new Load(loadBefore, Load.Now()), string.Create(CultureInfo.InvariantCulture, $"the two differ by {difference:0.0E+0} of the largest entry (at most {Tolerance:0.0E+0} expected): not timed")));
                    continue;
                }

                var timings = PeerComparison.AlternateAll(
                    [new Contender("library", reps => PeerComparison.Time(() => library(), reps)), new Contender("ONNX Runtime", reps => PeerComparison.Time(() => Onnx(session, inputs), reps))],
                    rounds);
                results.Add(new MiniLmResult(c, threads, timings[0], timings[1], difference, new Load(loadBefore, Load.Now()), null));
            }
        }

        return results;
    }

    /// <summary>The target line and the section of RESULTS.md.</summary>
    /// <param name="results">The results.</param>
    /// <param name="ceiling">The widest measured FMA ceiling on all cores (GFLOP/s); a row on t of the machine's cores is read against t / cores of it.</param>
    /// <returns>Markdown lines: the target row first, then an empty line and the section.</returns>
    public static (string Target, IEnumerable<string> Table) Render(IReadOnlyList<MiniLmResult> results, double ceiling)
    {
        ArgumentNullException.ThrowIfNull(results);
        var c = CultureInfo.InvariantCulture;
        var measured = results.Where(r => r.Problem is null).ToList();
        var worst = measured.MaxBy(r => r.Ratio);
        var met = results.Count > 0 && measured.Count == results.Count && measured.All(r => r.Ratio <= Target);
        var target = string.Create(c, $"| all-MiniLM-L6-v2 forward at 16, 128 and 512 pieces and a padded batch of 8 x 128: at most {Target:0.0}x ONNX Runtime's time, same process, same threads, same run | ") +
            (worst is null ? "not measured | no |" : string.Create(c, $"{measured.Count(r => r.Ratio <= Target)} of {results.Count} rows met; worst {worst.Ratio:0.00}x ({worst.Case.Label}, {worst.Threads} thread(s)); best {measured.Min(r => r.Ratio):0.00}x (table below) | {(met ? "yes" : "no")} |"));
        return (target, Table(results, ceiling));
    }

    /// <summary>The rate (GFLOP/s, real tokens' FLOPs) the library needs to meet the target: ONNX Runtime's rate over <see cref="Target"/>.</summary>
    private static double Needs(MiniLmResult r) => r.Onnx is { } onnx ? r.Case.Flops / (Target * onnx.Ms) / 1e6 : double.NaN;

    private static IEnumerable<string> Table(IReadOnlyList<MiniLmResult> results, double ceiling)
    {
        var c = CultureInfo.InvariantCulture;
        yield return string.Empty;
        yield return "## all-MiniLM-L6-v2 against ONNX Runtime (same process, same threads, same run)";
        yield return string.Empty;
        yield return string.Create(c, $"The library's `FastMiniLmEncoder` (fp32; `Forward` for one sequence, `ForwardBatch` for the batch, which stacks the real tokens of all sequences and skips padding) and ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version} (`InferenceSession` on the same ONNX file, IntraOpNumThreads = the row's threads, InterOpNumThreads = 1, sequential execution; [batch x n] ids with an attention mask), both in this process on the same number of threads. " +
            $"Before timing, the last hidden states of the real tokens must agree to {Tolerance:0.0E+0} of the largest entry. Each case runs 3 rounds, each timing both sides in turn (each the median of enough calls to fill about 0.3 s, after a 0.25 s pause); a side's time is the median of its round medians. GFLOP/s count the real tokens' arithmetic only ({nameof(MiniLmCase)}.{nameof(MiniLmCase.Flops)}). Ratio = library time / ONNX Runtime time; the target is at most {Target:0.0}x. \"Target needs\" is the rate the library would need for the target (ONNX Runtime's rate / {Target:0.0}), as a share of the widest measured FMA ceiling of the row's cores ({ceiling:0.0} GFLOP/s on all {Environment.ProcessorCount}, in proportion on fewer).");
        yield return string.Empty;
        yield return "| Input | threads | library | ONNX Runtime | difference | ratio | target | target needs | met | rounds (slowest / fastest), load |";
        yield return "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- | --- |";
        foreach (var r in results.OrderBy(r => r.Case.Length * r.Case.Ids.Length).ThenBy(r => r.Threads))
        {
            if (r.Problem is not null || r.Library is null || r.Onnx is null)
            {
                yield return string.Create(c, $"| {r.Case.Label} | {r.Threads} | not timed | not timed | {r.Difference:0.0E+0} | - | ≤ {Target:0.0}x | - | no | {r.Problem} |");
                continue;
            }

            var unreliable = r.Library.Spread > PeerComparison.UnreliableSpread || r.Onnx.Spread > PeerComparison.UnreliableSpread ? "; **unreliable**" : string.Empty;
            yield return string.Create(c,
                $"| {r.Case.Label} | {r.Threads} | {r.Library.Ms:0.###} ms ({r.Case.Flops / r.Library.Ms / 1e6:0.0} GFLOP/s) | {r.Onnx.Ms:0.###} ms ({r.Case.Flops / r.Onnx.Ms / 1e6:0.0} GFLOP/s) | {r.Difference:0.0E+0} | {r.Ratio:0.00}x | ≤ {Target:0.0}x | {Needs(r):0} GFLOP/s = {100 * Needs(r) / (ceiling * r.Threads / Environment.ProcessorCount):0}% | {(r.Ratio <= Target ? "yes" : "no")} | " +
                $"library {r.Library.Low:0.###}-{r.Library.High:0.###} ms, ONNX Runtime {r.Onnx.Low:0.###}-{r.Onnx.High:0.###} ms; {r.Load}{unreliable} |");
        }
    }

    private static List<NamedOnnxValue> Inputs(MiniLmCase c)
    {
        var (batch, n) = (c.Ids.Length, c.Length);
        var ids = new DenseTensor<long>(c.Ids.SelectMany(s => s).ToArray(), [batch, n]);
        var mask = new DenseTensor<long>(c.Valid.SelectMany(v => Enumerable.Range(0, n).Select(i => i < v ? 1L : 0L)).ToArray(), [batch, n]);
        var types = new DenseTensor<long>(new long[batch * n], [batch, n]);
        return [NamedOnnxValue.CreateFromTensor("input_ids", ids), NamedOnnxValue.CreateFromTensor("attention_mask", mask), NamedOnnxValue.CreateFromTensor("token_type_ids", types)];
    }

    private static float[] Onnx(InferenceSession session, List<NamedOnnxValue> inputs)
    {
        using var results = session.Run(inputs);
        return results[0].AsTensor<float>().ToArray();
    }

    /// <summary>Largest |library − ONNX Runtime| over real tokens, over the largest |entry| of ONNX Runtime's; NaN when either is not finite.</summary>
    private static double Difference(MiniLmCase c, float[][] ours, float[] theirs)
    {
        double worst = 0, largest = 0;
        for (var b = 0; b < c.Ids.Length; b++)
        {
            for (var i = 0; i < c.Valid[b] * 384; i++)
            {
                var (x, y) = (ours[b][i], theirs[(b * c.Length * 384) + i]);
                if (!float.IsFinite(x) || !float.IsFinite(y))
                {
                    return double.NaN;
                }

                worst = Math.Max(worst, Math.Abs(x - y));
                largest = Math.Max(largest, Math.Abs(y));
            }
        }

        return worst / largest;
    }
}
