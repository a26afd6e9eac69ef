using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookAttention.Attention;
using NotebookAttention.Fast;

namespace NotebookAttention.Benchmarks;

/// <summary>
/// PyTorch running beside the benchmark (Peers/torch_peer.py under Debian's python3 with python3-torch), spoken to
/// over its stdin and stdout one JSON line at a time. Nothing listens on a port; nothing is downloaded.
/// </summary>
public sealed class TorchPeer : IDisposable
{
    /// <summary>
    /// The environment the peer starts with, unless the caller's environment already sets a name. glibc's allocator
    /// otherwise mmaps every buffer over its threshold (32 MiB at most) afresh and zeroes its pages on every call
    /// (about 49,000 page faults per as-written attention at n = 4096), while the library reuses its memory:
    /// MALLOC_MMAP_MAX_ = 0 keeps large buffers on the heap, MALLOC_TRIM_THRESHOLD_ keeps the heap from shrinking, and
    /// MALLOC_ARENA_MAX = 1 keeps every thread on that one heap (with per-thread arenas the heap grew by 130-190 MiB on
    /// every call and kept faulting; with one arena, 0 faults per call after the first few, checked here with getrusage).
    /// ATEN_CPU_CAPABILITY = avx512 lets PyTorch 1.13 use its AVX-512 kernels, which it dispatches to AVX2 by default;
    /// it is set only where the CPU has AVX-512, and the peer reports the capability PyTorch actually took.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> PeerEnvironment = new Dictionary<string, string>
    {
        ["MALLOC_MMAP_MAX_"] = "0",
        ["MALLOC_TRIM_THRESHOLD_"] = "68719476736",
        ["MALLOC_ARENA_MAX"] = "1",
    }.Concat(Avx512F.IsSupported ? [new KeyValuePair<string, string>("ATEN_CPU_CAPABILITY", "avx512")] : []).ToDictionary();

    private const int StderrLines = 12;
    private readonly Process process;
    private readonly Queue<string> stderr = new();

    private TorchPeer(Process process) => this.process = process;

    /// <summary>What the peer said of itself: torch version, CPU capability, the BLAS library and OpenBLAS's core, config and threads, the environment that steers them.</summary>
    public JsonObject Info { get; private set; } = [];

    /// <summary>True once the peer's process has ended (it crashed, or ran out of memory): no further case can use it.</summary>
    public bool HasEnded => process.HasExited;

    /// <summary>
    /// Starts the peer with the first Python that imports torch (Debian's /usr/bin/python3 first: python3-torch
    /// installs there, while a python3 earlier on PATH, e.g. pyenv's, may not have it).
    /// </summary>
    /// <param name="script">Path of torch_peer.py.</param>
    /// <param name="why">Why there is no peer, when null is returned: not installed, or what the last Python wrote to stderr.</param>
    /// <returns>The running peer, or null.</returns>
    public static TorchPeer? TryStart(string script, out string why)
    {
        var failures = new List<string>();
        foreach (var python in new[] { "/usr/bin/python3", "python3" })
        {
            TorchPeer? peer = null;
            try
            {
                var start = new ProcessStartInfo(python, [script]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var (name, value) in PeerEnvironment)
                {
                    start.Environment[name] = Environment.GetEnvironmentVariable(name) ?? value;
                }

                var process = Process.Start(start);
                if (process is null)
                {
                    continue;
                }

                peer = new TorchPeer(process);
                process.ErrorDataReceived += (_, line) => peer.KeepStderr(line.Data);
                process.BeginErrorReadLine();
                peer.Info = peer.Send(new JsonObject { ["op"] = "info" });
                why = string.Empty;
                return peer;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // no such Python: try the next one
            }
            catch (Exception error) when (error is IOException or InvalidOperationException or JsonException)
            {
                failures.Add($"{python}: {peer?.Describe(error) ?? error.Message}");
                peer?.Dispose();
            }
        }

        why = failures.Count == 0
            ? "no python3 found; install Debian's python3-torch and libopenblas0-pthread"
            : $"python3-torch is not installed or does not start (Debian: apt-get install python3-torch libopenblas0-pthread); {string.Join("; ", failures)}";
        return null;
    }

    /// <summary>Sends one request and returns the reply.</summary>
    /// <param name="request">The request (see torch_peer.py).</param>
    /// <returns>The reply.</returns>
    /// <exception cref="InvalidOperationException">The peer answered with an error or ended.</exception>
    /// <exception cref="IOException">The peer ended before the request was written (a broken pipe).</exception>
    /// <exception cref="JsonException">The peer's reply is not JSON.</exception>
    public JsonObject Send(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        process.StandardInput.WriteLine(request.ToJsonString());
        process.StandardInput.Flush();
        var line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"the PyTorch peer ended during {request["op"]}");
        var reply = JsonNode.Parse(line)?.AsObject() ?? throw new InvalidOperationException($"the PyTorch peer answered {line}");
        if (reply["ok"]?.GetValue<bool>() != true)
        {
            throw new InvalidOperationException($"the PyTorch peer failed: {reply["error"]}");
        }

        return reply;
    }

    /// <summary>A failure's message and, once the peer has ended, its exit code and the last lines it wrote to stderr.</summary>
    /// <param name="error">What Send threw.</param>
    /// <returns>One line for a table row.</returns>
    public string Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (!HasEnded)
        {
            return error.Message;
        }

        process.WaitForExit(); // the stderr reader has seen the end, so the tail is complete
        lock (stderr)
        {
            return $"{error.Message} (the peer ended with exit code {process.ExitCode}; stderr ended with: {string.Join(" / ", stderr)})";
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(5000))
                {
                    process.Kill();
                }
            }
        }
        catch (IOException)
        {
            // the peer ended while its stdin was being closed
        }
        finally
        {
            process.Dispose();
        }
    }

    private void KeepStderr(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        lock (stderr)
        {
            stderr.Enqueue(line.Trim());
            while (stderr.Count > StderrLines)
            {
                stderr.Dequeue();
            }
        }
    }
}

/// <summary>One workload timed on both sides.</summary>
/// <param name="Group">The table it belongs in.</param>
/// <param name="Label">How its row names it.</param>
/// <param name="N">Sequence length.</param>
/// <param name="Flops">FLOPs of one call (for GFLOP/s).</param>
/// <param name="Library">Makes the library's call (after any one-time setup) and names the path it takes.</param>
/// <param name="Torch">The peer's prepare request (its id is added).</param>
/// <param name="Target">The speed-up over PyTorch this row must reach (library faster by at least this factor).</param>
public sealed record PeerCase(string Group, string Label, int N, double Flops, Func<(Action Run, string Path)> Library, JsonObject Torch, double Target);

/// <summary>One way to run one side of a case, timed in every round: a library path or a PyTorch variant on a number of threads.</summary>
/// <param name="Name">How a row names it, e.g. "tiled, 2 threads" or "blocked in place, 1 thread".</param>
/// <param name="Time">Runs it the given number of times and returns each call's wall-clock time in ms.</param>
public sealed record Contender(string Name, Func<int, double[]> Time);

/// <summary>A side's fastest contender over the rounds.</summary>
/// <param name="Name">The contender's name.</param>
/// <param name="Ms">The median of its rounds' medians, in ms.</param>
/// <param name="Low">Its fastest round's median.</param>
/// <param name="High">Its slowest round's median.</param>
public sealed record Timing(string Name, double Ms, double Low, double High)
{
    /// <summary>Slowest round over fastest round: above <see cref="PeerComparison.UnreliableSpread"/> the row is flagged.</summary>
    public double Spread => High / Low;
}

/// <summary>The load average (1 minute, /proc/loadavg) before and after a case: other work on the machine slows both sides unevenly.</summary>
/// <param name="Before">Before the case, or NaN where /proc/loadavg is missing.</param>
/// <param name="After">After it.</param>
public sealed record Load(double Before, double After)
{
    /// <summary>Reads the 1-minute load average, or NaN.</summary>
    /// <returns>The load average.</returns>
    public static double Now()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    /// <inheritdoc />
    public override string ToString() => double.IsNaN(Before) ? "load unknown" : string.Create(CultureInfo.InvariantCulture, $"load {Before:0.0} to {After:0.0}");
}

/// <summary>One case's result.</summary>
/// <param name="Case">The case.</param>
/// <param name="Library">The library's fastest path and thread count, or null when the case was not timed.</param>
/// <param name="Torch">PyTorch's fastest variant and thread count, the same way.</param>
/// <param name="TorchError">PyTorch's largest error against fp64 over its variants, relative to the largest output.</param>
/// <param name="Load">The load average around the case.</param>
/// <param name="Problem">Why the case has no ratio (PyTorch failed, ended or was wrong), or null.</param>
public sealed record PeerResult(PeerCase Case, Timing? Library, Timing? Torch, double TorchError, Load Load, string? Problem)
{
    /// <summary>PyTorch's time over the library's (each side's fastest): above 1 the library is faster.</summary>
    public double Speedup => Library is { } library && Torch is { } torch ? torch.Ms / library.Ms : double.NaN;

    /// <summary>The rate (GFLOP/s) the library needs to meet the target: the target factor times PyTorch's rate on the case's FLOPs; NaN when not measured.</summary>
    public double TargetNeeds => Torch is { } torch ? Case.Target * Case.Flops / (torch.Ms / 1e3) / 1e9 : double.NaN;
}

/// <summary>
/// The library against PyTorch on the same sizes, in one run. Each side has contenders (the library's path, PyTorch's
/// ways of writing the computation, each on 1 thread and on all cores); every case is timed in <c>rounds</c> rounds,
/// each timing every contender of both sides in turn (with a pause before each, see <see cref="Settle"/>, each the
/// median of enough calls to fill about 0.3 s), and each side is represented by its fastest contender's median of
/// round medians. PyTorch's fp32 results are checked against fp64 (torch.float64) before they are timed: a BLAS kernel
/// chosen wrongly for the CPU would give wrong numbers fast.
/// </summary>
public static class PeerComparison
{
    /// <summary>
    /// PyTorch's fp32 result may differ from fp64 by at most this much, relative to the largest output: about 10x the
    /// largest error seen (8e-7, n = 256 to 16,384, both variants), so a kernel that rounds like bf16 fails it.
    /// </summary>
    public const double TorchTolerance = 1e-5;

    /// <summary>A row whose slowest round is more than this factor slower than its fastest (on either side) is flagged unreliable.</summary>
    public const double UnreliableSpread = 1.25;

    /// <summary>The multi-head row's target: the issue asks for the comparison without a factor, so at least as fast as nn.MultiheadAttention.</summary>
    public const double MultiHeadTarget = 1;

    /// <summary>The thread counts both sides are timed on: 1 and all cores. On 2 cores PyTorch's OpenMP team and OpenBLAS's pthread pool take turns, and under load 1 thread can be the faster.</summary>
    public static IReadOnlyList<int> ThreadCounts { get; } = [.. new[] { 1, Environment.ProcessorCount }.Distinct()];

    /// <summary>
    /// The attention cases of the issue: 1 head, d = 64 and 128, n = 256 to 16,384, plain and causal, the library's
    /// fastest exact path (tiled, or materialized where it is faster and fits) against softmax(q k^T / sqrt(d)) v; and
    /// multi-head attention (8 heads, d_model 512, n = 1024, projections and biases included) against
    /// torch.nn.MultiheadAttention, whose target the issue does not name: at least as fast (1x).
    /// </summary>
    /// <returns>The cases.</returns>
    public static IReadOnlyList<PeerCase> Cases()
    {
        var cases = new List<PeerCase>();
        foreach (var d in new[] { 64, 128 })
        {
            foreach (var n in new[] { 256, 1024, 4096, 16_384 })
            {
                foreach (var causal in new[] { false, true })
                {
                    var label = string.Create(CultureInfo.InvariantCulture, $"attention, d = {d}{(causal ? ", causal" : string.Empty)}");
                    cases.Add(new PeerCase("attention", label, n, Cost.AttentionCost.Flops(n, d, causal: causal), () => Fastest(new Workload(n, d), causal),
                        new JsonObject { ["kind"] = "attention", ["n"] = n, ["d"] = d, ["causal"] = causal, ["seed"] = 1 }, 3));
                }
            }
        }

        const int width = 512, heads = 8, length = 1024;
        cases.Add(new PeerCase("multi-head", "multi-head, 8 heads, d_model = 512", length, MultiHeadFlops(length, width), () =>
        {
            var layer = new FastMultiHeadAttention(new MultiHeadAttention(width, heads, seed: 1, bias: true));
            var random = new Random(1);
            var input = Enumerable.Range(0, length * width).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
            var output = new float[length * width];
            return (() => layer.Forward(input, output, length), "FastMultiHeadAttention");
        }, new JsonObject { ["kind"] = "mha", ["n"] = length, ["d_model"] = width, ["heads"] = heads, ["seed"] = 1 }, MultiHeadTarget));
        return cases;
    }

    /// <summary>Runs every case against the peer, or records why it could not.</summary>
    /// <param name="peer">The running peer, or null.</param>
    /// <param name="why">Why there is no peer.</param>
    /// <param name="cases">The cases.</param>
    /// <param name="rounds">Rounds per case.</param>
    /// <returns>One result per case; without a peer, an empty list.</returns>
    public static IReadOnlyList<PeerResult> Run(TorchPeer? peer, string why, IReadOnlyList<PeerCase> cases, int rounds = 3)
    {
        ArgumentNullException.ThrowIfNull(cases);
        if (peer is null)
        {
            Console.WriteLine($"PyTorch not measured: {why}");
            return [];
        }

        return EachCase(peer, cases, "case", c => $"side by side with PyTorch: {c.Label}, n = {c.N} ...",
            (c, id, before) => Measure(peer, c, id, rounds, before),
            (c, load, problem) => new PeerResult(c, null, null, double.NaN, load, problem));
    }

    /// <summary>
    /// Measures each case, catching a failing peer per whole case (it answered with an error, its pipe broke, or its
    /// reply was not JSON): the case's row then says why, with the peer's stderr tail once it has ended, and once it
    /// has ended the later cases are not run.
    /// </summary>
    /// <typeparam name="TCase">The case type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="peer">The running peer.</param>
    /// <param name="cases">The cases.</param>
    /// <param name="prefix">The peer's case ids are this plus the case's index.</param>
    /// <param name="progress">The line printed before a case.</param>
    /// <param name="measure">Measures one case from its id and the load average before it.</param>
    /// <param name="failed">The row of a case that failed or was not run.</param>
    /// <returns>One result per case.</returns>
    internal static IReadOnlyList<TResult> EachCase<TCase, TResult>(
        TorchPeer peer, IReadOnlyList<TCase> cases, string prefix, Func<TCase, string> progress, Func<TCase, string, double, TResult> measure, Func<TCase, Load, string, TResult> failed)
    {
        var results = new List<TResult>();
        var ended = (string?)null;
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var id = string.Create(CultureInfo.InvariantCulture, $"{prefix}{i}");
            var before = Load.Now();
            if (ended is not null)
            {
                results.Add(failed(c, new Load(before, before), $"not run: the PyTorch peer had ended earlier ({ended})"));
                continue;
            }

            Console.WriteLine(progress(c));
            try
            {
                results.Add(measure(c, id, before));
            }
            catch (Exception error) when (error is InvalidOperationException or IOException or JsonException)
            {
                var problem = peer.Describe(error);
                results.Add(failed(c, new Load(before, Load.Now()), problem));
                ended = peer.HasEnded ? problem : null;
                Release(peer, id);
            }

            GC.Collect();
        }

        return results;
    }

    /// <summary>The RESULTS.md section: the peer and how it was run, then one table row per case with the ratio and the target.</summary>
    /// <param name="peer">The peer's info, or null.</param>
    /// <param name="why">Why there is no peer.</param>
    /// <param name="results">The results.</param>
    /// <param name="ceiling">The machine's widest measured FMA ceiling in GFLOP/s: a row's "target needs" column is read against it.</param>
    /// <returns>Markdown lines.</returns>
    public static IEnumerable<string> Table(JsonObject? peer, string why, IReadOnlyList<PeerResult> results, double ceiling)
    {
        ArgumentNullException.ThrowIfNull(results);
        var c = CultureInfo.InvariantCulture;
        foreach (var line in Heading("Side by side with PyTorch (same machine, same run)", peer, why))
        {
            yield return line;
        }

        if (peer is null)
        {
            yield break;
        }

        yield return Describe(peer) + string.Create(c, $" PyTorch's attention is timed two ways, both exact and both checked against fp64 first (all rows up to n = 1024, 64 spread rows above; a row that fails is not timed): as written, softmax((q @ k.T) * scale) @ v with three n x n temporaries per call, and blocked in place (q pre-scaled, 256 query rows at a time into one score buffer allocated once, exp and the division in place, a causal block reading only the keys up to its last row); as written only up to n = 4096, as the library's materialized path (its temporaries are 3 GiB at n = 16,384). The library's attention calls take no thread count and run on all {Environment.ProcessorCount} cores; the path (tiled or materialized) is the faster of the two in a short trial.");
        yield return string.Empty;
        yield return string.Create(c, $"The column \"target needs\" is the rate the library would need to meet its row's target: the target factor times PyTorch's rate on the same FLOPs, in GFLOP/s and as a share of this machine's widest measured FMA ceiling ({ceiling:0.0} GFLOP/s, every core doing nothing but fused multiply-adds from registers). Exact attention does at least the counted FLOPs, so a row that needs more than 100% cannot meet its target on this machine by any exact kernel.");
        yield return string.Empty;
        yield return "| Workload | n | library (fastest) | PyTorch (fastest) | PyTorch vs fp64 | speed-up | target | target needs | met | rounds (slowest / fastest), load |";
        yield return "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- | --- |";
        foreach (var r in results)
        {
            var error = double.IsNaN(r.TorchError) ? "-" : r.TorchError.ToString("0.0E+0", c);
            if (r.Problem is not null || r.Library is null || r.Torch is null)
            {
                yield return $"| {r.Case.Label} | {r.Case.N.ToString(c)} | - | - | {error} | not measured: {r.Problem} | {r.Case.Target.ToString("0.#", c)}x | - | no | {r.Load} |";
                continue;
            }

            var gflops = r.Case.Flops / (r.Library.Ms / 1e3) / 1e9;
            var needs = r.TargetNeeds;
            yield return string.Create(c, $"| {r.Case.Label} | {r.Case.N} | {r.Library.Ms:0.###} ms, {r.Library.Name} ({gflops:0.0} GFLOP/s) | {r.Torch.Ms:0.###} ms, {r.Torch.Name} | {error} | {r.Speedup:0.00}x | {r.Case.Target:0.#}x | {needs:0} GFLOP/s = {100 * needs / ceiling:0}% | {(r.Speedup >= r.Case.Target ? "yes" : "no")} | {Rounds(r.Library, r.Torch, r.Load)} |");
        }
    }

    /// <summary>FLOPs of multi-head self-attention over n tokens of width d: 4 projections (8 n d²) and the attention (4 n² d).</summary>
    /// <param name="n">Tokens.</param>
    /// <param name="width">d_model.</param>
    /// <returns>FLOPs.</returns>
    public static double MultiHeadFlops(int n, int width) => (8.0 * n * width * width) + (4.0 * n * n * width);

    /// <summary>
    /// Times every contender of both sides in <paramref name="rounds"/> rounds (each contender after a
    /// <see cref="Settle"/>, each the median of enough calls to fill about 0.3 s) and returns each side's fastest by
    /// the median of its round medians, with the spread of those rounds.
    /// </summary>
    /// <returns>The library's and PyTorch's fastest contenders.</returns>
    internal static (Timing Library, Timing Torch) Alternate(IReadOnlyList<Contender> library, IReadOnlyList<Contender> torch, int rounds)
    {
        var timings = AlternateAll([.. library, .. torch], rounds);
        return (timings[..library.Count].MinBy(t => t.Ms)!, timings[library.Count..].MinBy(t => t.Ms)!);
    }

    /// <summary>Times every contender in <paramref name="rounds"/> rounds, each contender in turn (as <see cref="Alternate"/>), and returns each one's timing.</summary>
    /// <returns>The timings, in the contenders' order.</returns>
    internal static Timing[] AlternateAll(IReadOnlyList<Contender> all, int rounds)
    {
        var reps = all.Select(contender => Reps(contender.Time(1)[0])).ToArray();
        var medians = all.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < all.Count; k++)
            {
                Settle();
                medians[k].Add(Median(all[k].Time(reps[k])));
            }
        }

        return [.. all.Select((contender, k) => new Timing(contender.Name, Median(medians[k]), medians[k].Min(), medians[k].Max()))];
    }

    /// <summary>A library call that takes a thread count, as one contender per count of <see cref="ThreadCounts"/>.</summary>
    /// <returns>The contenders.</returns>
    internal static IReadOnlyList<Contender> OnEachThreadCount(string path, Action<int> run) =>
        [.. ThreadCounts.Select(t => new Contender($"{path}{Threads(t)}", reps => Time(() => run(t), reps)))];

    /// <summary>PyTorch's contenders: each variant the peer prepared, on each of <see cref="ThreadCounts"/> (the peer sets PyTorch's and OpenBLAS's pools).</summary>
    /// <returns>The contenders.</returns>
    internal static IReadOnlyList<Contender> TorchContenders(TorchPeer peer, string id, IEnumerable<string> variants) =>
        [.. variants.SelectMany(variant => ThreadCounts.Select(t => new Contender($"{variant}{Threads(t)}", reps => Times(peer, id, variant, t, reps))))];

    /// <summary>The peer's info as one sentence: versions, BLAS, OpenBLAS's core and threads, the environment, how threads were set.</summary>
    /// <returns>The sentence.</returns>
    internal static string Describe(JsonObject peer)
    {
        var environment = peer["environment"]?.AsObject() ?? [];
        string Setting(string name) => environment[name]?.GetValue<string>() is { } value ? $"{name}={value}" : $"{name} not set";
        var openblas = peer["openblas"] is JsonObject o
            ? $"OpenBLAS core {o["corename"]} ({o["config"]}; {o["parallel"]}, {o["threads"]} threads at start)"
            : "not OpenBLAS, so its core is not known";
        return $"PyTorch {peer["torch"]} (Debian's python3-torch), CPU capability {peer["cpu_capability"]} ({Setting("ATEN_CPU_CAPABILITY")}); BLAS loaded: {peer["blas"]}, {openblas}; " +
            $"{Setting("OPENBLAS_CORETYPE")}, {Setting("OPENBLAS_NUM_THREADS")}, {Setting("OMP_NUM_THREADS")}. Allocator: glibc with {Setting("MALLOC_MMAP_MAX_")}, {Setting("MALLOC_TRIM_THRESHOLD_")} and {Setting("MALLOC_ARENA_MAX")} ({Setting("LD_PRELOAD")}), " +
            $"so that large buffers stay on one heap and are reused instead of being mapped and zeroed afresh on every call. Each side is timed on {string.Join(" and ", ThreadCounts)} thread(s) and reported with its fastest " +
            "(PyTorch: torch.set_num_threads and OpenBLAS's own openblas_set_num_threads, both set before every timing). Every case runs 3 rounds, each timing every contender of both sides in turn " +
            $"(each the median of enough calls to fill about 0.3 s); a side's time is its fastest contender's median of round medians. A row whose rounds differ by more than {(UnreliableSpread - 1) * 100:0}% on either side is marked unreliable.";
    }

    /// <summary>The rounds column: each side's slowest and fastest round median, the load, and the unreliable mark.</summary>
    /// <returns>The cell.</returns>
    internal static string Rounds(Timing library, Timing torch, Load load)
    {
        var unreliable = library.Spread > UnreliableSpread || torch.Spread > UnreliableSpread ? "; **unreliable**" : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"library {library.Low:0.###}-{library.High:0.###} ms, PyTorch {torch.Low:0.###}-{torch.High:0.###} ms; {load}{unreliable}");
    }

    /// <summary>The variants a prepare reply checked, and the worst relative error among them (NaN when any is null, i.e. not finite).</summary>
    /// <returns>Names and the worst error.</returns>
    internal static (string[] Names, double WorstError) Variants(JsonObject reply)
    {
        var variants = reply["variants"]!.AsObject();
        var worst = 0.0;
        foreach (var (_, check) in variants)
        {
            if (check is JsonObject c && c.ContainsKey("relative_error"))
            {
                var error = c["relative_error"]?.GetValue<double>() ?? double.NaN;
                worst = c["finite"]?.GetValue<bool>() == true && !double.IsNaN(worst) ? Math.Max(worst, error) : double.NaN;
            }
        }

        return ([.. variants.Select(v => v.Key)], worst);
    }

    /// <summary>Frees a case in the peer after a failure, if the peer is still there to hear it.</summary>
    internal static void Release(TorchPeer peer, string id)
    {
        try
        {
            if (!peer.HasEnded)
            {
                peer.Send(new JsonObject { ["op"] = "release", ["id"] = id });
            }
        }
        catch (Exception error) when (error is InvalidOperationException or IOException or JsonException)
        {
            // the case's row already records the failure
        }
    }

    /// <summary>A section's heading, and without a peer the line that says so.</summary>
    /// <returns>Markdown lines.</returns>
    internal static IEnumerable<string> Heading(string title, JsonObject? peer, string why)
    {
        yield return string.Empty;
        yield return $"## {title}";
        yield return string.Empty;
        if (peer is null)
        {
            yield return $"PyTorch: not measured in this run ({why}). Every row below needs it; none is quoted from elsewhere.";
        }
    }

    private static PeerResult Measure(TorchPeer peer, PeerCase c, string id, int rounds, double loadBefore)
    {
        var (run, path) = c.Library();
        var request = c.Torch.DeepClone().AsObject();
        request["op"] = "prepare";
        request["id"] = id;
        var (variants, torchError) = Variants(peer.Send(request));
        if (!(torchError <= TorchTolerance))
        {
            Release(peer, id);
            return new PeerResult(c, null, null, torchError, new Load(loadBefore, Load.Now()), string.Create(CultureInfo.InvariantCulture, $"PyTorch's result is off fp64 by {torchError:0.0E+0} (relative, worst of {string.Join(" and ", variants)}; at most {TorchTolerance:0E+0} expected; NaN: not finite): not timed"));
        }

        Contender[] allCores = [new($"{path}{Threads(Environment.ProcessorCount)}", reps => Time(run, reps))];   // the attention calls take no thread count
        var (library, torch) = Alternate(allCores, TorchContenders(peer, id, variants), rounds);
        Release(peer, id);
        return new PeerResult(c, library, torch, torchError, new Load(loadBefore, Load.Now()), null);
    }

    private static (Action Run, string Path) Fastest(Workload work, bool causal)
    {
        var mask = new FastMask(Causal: causal);
        Action tiled = () => FastAttention.Tiled(work.Queries, work.Keys, work.Values, work.Output, work.N, work.N, work.D, work.D, mask);
        if (work.N > 4096)
        {
            return (tiled, "tiled");
        }

        Action materialized = () => FastAttention.Materialized(work.Queries, work.Keys, work.Values, work.Output, work.N, work.N, work.D, work.D, mask);
        var reps = Reps(Math.Max(Time(tiled, 1)[0], Time(materialized, 1)[0]));
        return Median(Time(tiled, reps)) <= Median(Time(materialized, reps)) ? (tiled, "tiled") : (materialized, "materialized");
    }

    private static string Threads(int t) => t == 1 ? ", 1 thread" : string.Create(CultureInfo.InvariantCulture, $", {t} threads");

    /// <summary>
    /// Waits before one contender is timed, so that the previous one's idle workers have gone to sleep: OpenBLAS's
    /// threads spin for about 2^28 cycles (0.1 s) after a product, and on 2 cores a spinning thread takes half the machine.
    /// </summary>
    private static void Settle() => Thread.Sleep(250);

    private static int Reps(double firstMs) => Math.Clamp((int)Math.Ceiling(300 / Math.Max(firstMs, 1e-3)), 1, 200);

    internal static double[] Time(Action run, int reps)
    {
        var times = new double[reps];
        for (var i = 0; i < reps; i++)
        {
            var start = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return times;
    }

    private static double[] Times(TorchPeer peer, string id, string variant, int threads, int reps) =>
        peer.Send(new JsonObject { ["op"] = "time", ["id"] = id, ["variant"] = variant, ["threads"] = threads, ["reps"] = reps })["ms"]!.AsArray().Select(t => t!.GetValue<double>()).ToArray();

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
