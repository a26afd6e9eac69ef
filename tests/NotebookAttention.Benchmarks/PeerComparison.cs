using System.Diagnostics;
using System.Globalization;
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
    private readonly Process process;

    private TorchPeer(Process process) => this.process = process;

    /// <summary>What the peer said of itself: torch version, threads, the BLAS library it loaded, OPENBLAS_CORETYPE.</summary>
    public JsonObject Info { get; private set; } = [];

    /// <summary>
    /// Starts the peer with the first Python that imports torch (Debian's /usr/bin/python3 first: python3-torch
    /// installs there, while a python3 earlier on PATH, e.g. pyenv's, may not have it).
    /// </summary>
    /// <param name="script">Path of torch_peer.py.</param>
    /// <param name="threads">Threads PyTorch may use (torch.set_num_threads): the library's count.</param>
    /// <param name="why">Why there is no peer, when null is returned.</param>
    /// <returns>The running peer, or null.</returns>
    public static TorchPeer? TryStart(string script, int threads, out string why)
    {
        foreach (var python in new[] { "/usr/bin/python3", "python3" })
        {
            Process? process = null;
            try
            {
                var start = new ProcessStartInfo(python, [script]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                process = Process.Start(start);
                if (process is null)
                {
                    continue;
                }

                process.ErrorDataReceived += (_, _) => { };
                process.BeginErrorReadLine();
                var peer = new TorchPeer(process);
                peer.Info = peer.Send(new JsonObject { ["op"] = "info", ["threads"] = threads });
                why = string.Empty;
                return peer;
            }
            catch (Exception error) when (error is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
            {
                process?.Kill();
                process?.Dispose();
            }
        }

        why = "python3-torch is not installed (Debian: apt-get install python3-torch libopenblas0-pthread)";
        return null;
    }

    /// <summary>Sends one request and returns the reply.</summary>
    /// <param name="request">The request (see torch_peer.py).</param>
    /// <returns>The reply.</returns>
    /// <exception cref="InvalidOperationException">The peer answered with an error or ended.</exception>
    public JsonObject Send(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        process.StandardInput.WriteLine(request.ToJsonString());
        process.StandardInput.Flush();
        var line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"the PyTorch peer ended (exit code {(process.HasExited ? process.ExitCode : -1)}) during {request.ToJsonString()}");
        var reply = JsonNode.Parse(line)?.AsObject() ?? throw new InvalidOperationException($"the PyTorch peer answered {line}");
        if (reply["ok"]?.GetValue<bool>() != true)
        {
            throw new InvalidOperationException($"the PyTorch peer failed: {reply["error"]}");
        }

        return reply;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            process.StandardInput.Close();
            if (!process.WaitForExit(5000))
            {
                process.Kill();
            }
        }
        finally
        {
            process.Dispose();
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

/// <summary>One case's result.</summary>
/// <param name="Case">The case.</param>
/// <param name="LibraryPath">Which library path ran.</param>
/// <param name="LibraryMs">The library's median time (median of the rounds' medians).</param>
/// <param name="TorchMs">PyTorch's median time, the same way.</param>
/// <param name="TorchError">PyTorch's largest error against fp64, relative to the largest output.</param>
/// <param name="Problem">Why the case has no ratio (PyTorch failed or was wrong), or null.</param>
public sealed record PeerResult(PeerCase Case, string LibraryPath, double LibraryMs, double TorchMs, double TorchError, string? Problem)
{
    /// <summary>PyTorch's time over the library's: above 1 the library is faster.</summary>
    public double Speedup => TorchMs / LibraryMs;
}

/// <summary>
/// The library against PyTorch on the same sizes, in one run: every case is timed in <c>rounds</c> rounds that
/// alternate library and PyTorch (with a pause before each side, see <see cref="Settle"/>), each round the median of
/// enough calls to fill about 0.3 s, and the medians of the rounds compared. PyTorch's fp32 result is checked against fp64 (torch.float64) before it is timed: a BLAS kernel
/// chosen wrongly for the CPU would give wrong numbers fast.
/// </summary>
public static class PeerComparison
{
    /// <summary>PyTorch's fp32 result may differ from fp64 by at most this much, relative to the largest output.</summary>
    public const double TorchTolerance = 1e-4;

    /// <summary>
    /// The attention cases of the issue: 1 head, d = 64 and 128, n = 256 to 16,384, plain and causal, the library's
    /// fastest exact path (tiled, or materialized where it is faster and fits) against softmax(q k^T / sqrt(d)) v; and
    /// multi-head attention (8 heads, d_model 512, n = 1024, projections and biases included) against
    /// torch.nn.MultiheadAttention.
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
        }, new JsonObject { ["kind"] = "mha", ["n"] = length, ["d_model"] = width, ["heads"] = heads, ["seed"] = 1 }, 1));
        return cases;
    }

    /// <summary>Runs every case against the peer, or records why it could not.</summary>
    /// <param name="peer">The running peer, or null.</param>
    /// <param name="why">Why there is no peer.</param>
    /// <param name="cases">The cases.</param>
    /// <param name="rounds">Alternating rounds per case.</param>
    /// <returns>One result per case; without a peer, an empty list.</returns>
    public static IReadOnlyList<PeerResult> Run(TorchPeer? peer, string why, IReadOnlyList<PeerCase> cases, int rounds = 3)
    {
        ArgumentNullException.ThrowIfNull(cases);
        if (peer is null)
        {
            Console.WriteLine($"PyTorch not measured: {why}");
            return [];
        }

        var results = new List<PeerResult>();
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var id = string.Create(CultureInfo.InvariantCulture, $"case{i}");
            Console.WriteLine($"side by side with PyTorch: {c.Label}, n = {c.N} ...");
            var (run, path) = c.Library();
            var request = c.Torch.DeepClone().AsObject();
            request["op"] = "prepare";
            request["id"] = id;
            JsonObject check;
            try
            {
                check = peer.Send(request);
            }
            catch (InvalidOperationException error)
            {
                results.Add(new PeerResult(c, path, double.NaN, double.NaN, double.NaN, error.Message));
                continue;
            }

            var torchError = check["relative_error"]!.GetValue<double>();
            if (!(torchError <= TorchTolerance) || check["finite"]?.GetValue<bool>() != true)
            {
                results.Add(new PeerResult(c, path, double.NaN, double.NaN, torchError, string.Create(CultureInfo.InvariantCulture, $"PyTorch's result is off fp64 by {torchError:E1} (relative; at most {TorchTolerance:E0} expected): not timed")));
                peer.Send(new JsonObject { ["op"] = "release", ["id"] = id });
                continue;
            }

            var libraryReps = Reps(Time(run, 1)[0]);
            var torchReps = Reps(Times(peer, id, 1)[0]);
            var libraryMedians = new List<double>();
            var torchMedians = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                Settle();
                libraryMedians.Add(Median(Time(run, libraryReps)));
                Settle();
                torchMedians.Add(Median(Times(peer, id, torchReps)));
            }

            peer.Send(new JsonObject { ["op"] = "release", ["id"] = id });
            results.Add(new PeerResult(c, path, Median(libraryMedians), Median(torchMedians), torchError, null));
            GC.Collect();
        }

        return results;
    }

    /// <summary>The RESULTS.md section: the peer, then one table row per case with the ratio and the target.</summary>
    /// <param name="peer">The peer's info, or null.</param>
    /// <param name="why">Why there is no peer.</param>
    /// <param name="results">The results.</param>
    /// <returns>Markdown lines.</returns>
    public static IEnumerable<string> Table(JsonObject? peer, string why, IReadOnlyList<PeerResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var c = CultureInfo.InvariantCulture;
        yield return string.Empty;
        yield return "## Side by side with PyTorch (same machine, same run)";
        yield return string.Empty;
        if (peer is null)
        {
            yield return $"PyTorch: not measured in this run ({why}). Every row below needs it; none is quoted from elsewhere.";
            yield break;
        }

        var coretype = peer["openblas_coretype"]?.GetValue<string>() ?? "not set (OpenBLAS chose its kernels from the CPU)";
        yield return string.Create(c, $"PyTorch {peer["torch"]} (Debian's python3-torch) on {peer["threads"]} threads, CPU capability {peer["cpu_capability"]}; BLAS loaded: {peer["blas"]}; OPENBLAS_CORETYPE: {coretype}. The library on {Environment.ProcessorCount} threads. Each case alternates library and PyTorch for 3 rounds (each round the median of enough calls to fill about 0.3 s) and compares the rounds' medians. PyTorch's fp32 output was checked against fp64 first (all rows up to n = 1024, 64 spread rows above); a row it failed is not timed.");
        yield return string.Empty;
        yield return "| Workload | n | library path | library | PyTorch | PyTorch vs fp64 | speed-up | target | met |";
        yield return "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |";
        foreach (var r in results)
        {
            if (r.Problem is not null)
            {
                yield return string.Create(c, $"| {r.Case.Label} | {r.Case.N} | {r.LibraryPath} | - | - | {(double.IsNaN(r.TorchError) ? "-" : r.TorchError.ToString("E1", c))} | not measured: {r.Problem} | {r.Case.Target:0.#}x | no |");
                continue;
            }

            yield return string.Create(c, $"| {r.Case.Label} | {r.Case.N} | {r.LibraryPath} | {r.LibraryMs:0.###} ms ({r.Case.Flops / (r.LibraryMs / 1e3) / 1e9:0.0} GFLOP/s) | {r.TorchMs:0.###} ms | {r.TorchError:E1} | {r.Speedup:0.00}x | {r.Case.Target:0.#}x | {(r.Speedup >= r.Case.Target ? "yes" : "no")} |");
        }
    }

    /// <summary>FLOPs of multi-head self-attention over n tokens of width d: 4 projections (8 n d²) and the attention (4 n² d).</summary>
    /// <param name="n">Tokens.</param>
    /// <param name="width">d_model.</param>
    /// <returns>FLOPs.</returns>
    public static double MultiHeadFlops(int n, int width) => (8.0 * n * width * width) + (4.0 * n * n * width);

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

    /// <summary>
    /// Waits before one side is timed, so that the other side's idle workers have gone to sleep: OpenBLAS's threads
    /// spin for about 2^28 cycles (0.1 s) after a product, and on 2 cores a spinning thread takes half the machine.
    /// </summary>
    private static void Settle() => Thread.Sleep(250);

    private static int Reps(double firstMs) => Math.Clamp((int)Math.Ceiling(300 / Math.Max(firstMs, 1e-3)), 1, 200);

    private static double[] Time(Action run, int reps)
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

    private static double[] Times(TorchPeer peer, string id, int reps) =>
        peer.Send(new JsonObject { ["op"] = "time", ["id"] = id, ["reps"] = reps })["ms"]!.AsArray().Select(t => t!.GetValue<double>()).ToArray();

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
