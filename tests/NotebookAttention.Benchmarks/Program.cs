using System.Diagnostics;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NotebookAttention.Benchmarks;
using NotebookAttention.Cost;
using NotebookAttention.Fast;

// Measures the fast attention kernels against the baselines and writes RESULTS.md beside this file.
// usage: dotnet run -c Release --project tests/NotebookAttention.Benchmarks [-- --quick | --peers-only [--training-only]]
// --peers-only runs only the side-by-side comparisons with PyTorch (attention, then the training steps) and prints
// their tables (RESULTS.md is left alone); with --training-only as well, only the training steps. --minilm-only runs
// only the MiniLM encoder against ONNX Runtime and prints its table.
var quick = args.Contains("--quick");
var root = FindRoot();
var resultsPath = Path.Combine(root, "tests", "NotebookAttention.Benchmarks", "RESULTS.md");
var peerScript = Path.Combine(root, "tests", "NotebookAttention.Benchmarks", "Peers", "torch_peer.py");
if (args.Contains("--minilm-only"))
{
    var (minilmTarget, minilmTable) = MiniLmPeers.Render(MiniLmPeers.Run(MiniLmPeers.Cases()), Machine.MeasureWideFmaCeiling(TimeSpan.FromSeconds(3)) ?? Machine.MeasureFmaCeiling(TimeSpan.FromSeconds(3)));
    Console.WriteLine(minilmTarget);
    foreach (var line in minilmTable)
    {
        Console.WriteLine(line);
    }

    return 0;
}

if (args.Contains("--peers-only"))
{
    using var onlyPeer = TorchPeer.TryStart(peerScript, out var onlyWhy);
    var onlyTraining = args.Contains("--training-only");
    var widest = Machine.MeasureWideFmaCeiling(TimeSpan.FromSeconds(3)) ?? Machine.MeasureFmaCeiling(TimeSpan.FromSeconds(3));
    List<string> lines = onlyTraining ? [] : PeerComparison.Table(onlyPeer?.Info, onlyWhy, PeerComparison.Run(onlyPeer, onlyWhy, PeerComparison.Cases()), widest).ToList();
    lines.AddRange(TrainingPeers.Table(onlyPeer?.Info, onlyWhy, TrainingPeers.Run(onlyPeer, onlyWhy, TrainingPeers.Cases())));
    foreach (var line in lines)
    {
        Console.WriteLine(line);
    }

    return 0;
}

Console.WriteLine("measuring the FMA ceiling (register-only fused multiply-adds on every core) ...");
var ceiling = Machine.MeasureFmaCeiling(TimeSpan.FromSeconds(3));
Console.WriteLine($"FMA ceiling: {ceiling:0.0} GFLOP/s on {Environment.ProcessorCount} cores");

var job = Job.Default.WithWarmupCount(2).WithIterationCount(quick ? 3 : 10).WithLaunchCount(1).WithGcRetainVm(true);   // as the csproj, for the benchmark processes
var config = ManualConfig.Create(DefaultConfig.Instance).AddJob(job).WithOptions(ConfigOptions.DisableOptimizationsValidator);
var summaries = new[] { BenchmarkRunner.Run<FastPathBenchmarks>(config), BenchmarkRunner.Run<ApproximationBenchmarks>(config), BenchmarkRunner.Run<BaselineBenchmarks>(config), BenchmarkRunner.Run<TrainingBenchmarks>(config), BenchmarkRunner.Run<TransformerStepBenchmarks>(config) };
var rows = summaries.SelectMany(s => s.Reports).Where(r => r.ResultStatistics is not null).Select(r => new Row(
    r.BenchmarkCase.Descriptor.WorkloadMethod.Name,
    Convert.ToInt32(r.BenchmarkCase.Parameters["N"], CultureInfo.InvariantCulture),
    r.ResultStatistics!.Median / 1e6,
    r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) ?? 0)).ToList();

Console.WriteLine("tiled forward at n = 65,536, d = 64, once (extra memory measured as bytes allocated) ...");
var big = new Workload(65_536, 64);
var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
var stopwatch = Stopwatch.StartNew();
FastAttention.Tiled(big.Queries, big.Keys, big.Values, big.Output, big.N, big.N, 64, 64);
var bigSeconds = stopwatch.Elapsed.TotalSeconds;
var bigBytes = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

Console.WriteLine("cost of the number checks: tiled n = 4096, d = 64, with and without them, in alternating rounds ...");
var checks = CheckCost.Measure(new Workload(4096, 64), rounds: 201);

Console.WriteLine("all-MiniLM-L6-v2 against ONNX Runtime, same process, same threads ...");
var minilm = MiniLmPeers.Run(MiniLmPeers.Cases());

Console.WriteLine("side by side with PyTorch (Debian's python3-torch), when it is installed ...");
IReadOnlyList<PeerResult> peerResults;
IReadOnlyList<TrainingPeerResult> trainingPeerResults;
System.Text.Json.Nodes.JsonObject? peerInfo;
string peerWhy;
using (var peer = TorchPeer.TryStart(peerScript, out peerWhy))
{
    peerInfo = peer?.Info;
    peerResults = PeerComparison.Run(peer, peerWhy, PeerComparison.Cases());
    trainingPeerResults = TrainingPeers.Run(peer, peerWhy, TrainingPeers.Cases());
}

// The ceiling is measured again after the runs and the higher value kept: other load only ever lowers it.
ceiling = Math.Max(ceiling, Machine.MeasureFmaCeiling(TimeSpan.FromSeconds(3)));
var wideCeiling = Machine.MeasureWideFmaCeiling(TimeSpan.FromSeconds(3));
File.WriteAllText(resultsPath, Results.Render(ceiling, wideCeiling, rows, bigSeconds, bigBytes, checks, quick, peerInfo, peerWhy, peerResults, trainingPeerResults, minilm));
Console.WriteLine($"wrote {resultsPath}");
return 0;

static string FindRoot()
{
    for (var folder = new DirectoryInfo(Environment.CurrentDirectory); folder is not null; folder = folder.Parent)
    {
        if (File.Exists(Path.Combine(folder.FullName, "NotebookAttention.sln")))
        {
            return folder.FullName;
        }
    }

    throw new DirectoryNotFoundException("run the benchmarks from a clone of the repository (no NotebookAttention.sln above this folder).");
}

namespace NotebookAttention.Benchmarks
{
    /// <summary>One measured benchmark.</summary>
    /// <param name="Method">Benchmark name.</param>
    /// <param name="N">Sequence length.</param>
    /// <param name="Milliseconds">Median time.</param>
    /// <param name="AllocatedBytes">Bytes allocated per operation.</param>
    public sealed record Row(string Method, int N, double Milliseconds, long AllocatedBytes)
    {
        /// <summary>
        /// FLOPs of one attention forward pass (4 n^2 d, half with a causal mask; the approximations' own arithmetic,
        /// <see cref="ApproximationBenchmarks.Flops"/>; a training step's products, <see cref="TrainingBenchmarks.StepFlops"/>).
        /// </summary>
        public double Flops => TrainingBenchmarks.StepFlops(Method, N) ?? ApproximationBenchmarks.Flops(Method, N) ?? NotebookAttention.Cost.AttentionCost.Flops(N, 64, causal: Method.Contains("Causal", StringComparison.Ordinal));

        /// <summary>Speed.</summary>
        public double Gflops => Flops / (Milliseconds / 1e3) / 1e9;
    }

    /// <summary>Renders RESULTS.md.</summary>
    public static class Results
    {
        /// <summary>The markdown text.</summary>
        public static string Render(
            double ceiling, double? wideCeiling, IReadOnlyList<Row> rows, double bigSeconds, long bigBytes, CheckCost checks, bool quick,
            System.Text.Json.Nodes.JsonObject? peer, string peerWhy, IReadOnlyList<PeerResult> peerResults, IReadOnlyList<TrainingPeerResult> trainingPeerResults,
            IReadOnlyList<MiniLmResult> minilm)
        {
            var text = new StringBuilder();
            var c = CultureInfo.InvariantCulture;
            text.AppendLine("# Benchmark results");
            text.AppendLine();
            text.AppendLine(c, $"Written by `dotnet run -c Release --project tests/NotebookAttention.Benchmarks{(quick ? " -- --quick" : string.Empty)}` on {DateTime.UtcNow:yyyy-MM-dd}, " +
                $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}. fp32, one head, d = 64, all cores, BenchmarkDotNet medians; the GC keeps freed memory committed (RetainVM) in every process, as the PyTorch peer's allocator keeps its buffers.");
            text.AppendLine();
            text.AppendLine(c, $"Measured FMA ceiling (register-only fused multiply-adds on every core, 8-float AVX2 registers): **{ceiling:0.0} GFLOP/s**.");
            if (wideCeiling is { } wide)
            {
                text.AppendLine();
                text.AppendLine(c, $"This machine also has AVX-512, which the register tiles use where the CPU has it (Fast/Microkernels.cs, 6 x 32 tiles): 16-float FMA ceiling **{wide:0.0} GFLOP/s**. The widest ceiling, **{Math.Max(ceiling, wide):0.0} GFLOP/s**, is the one every percentage below is read against.");
            }

            var widest = Math.Max(ceiling, wideCeiling ?? 0);
            text.AppendLine();
            text.AppendLine("| Method | n | median | GFLOP/s | % of ceiling | allocated |");
            text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var row in rows.Where(r => TrainingBenchmarks.StepFlops(r.Method, r.N) is null).OrderBy(r => r.N).ThenBy(r => r.Method, StringComparer.Ordinal))
            {
                var speed = $"{row.Gflops:0.0} | {100 * row.Gflops / widest:0.0}%";
                text.AppendLine(c, $"| {row.Method} | {row.N} | {row.Milliseconds:0.00} ms | {speed} | {Mib(row.AllocatedBytes)} |");
            }

            var tiled4096 = rows.SingleOrDefault(r => r.Method == "Tiled" && r.N == 4096);
            var tiled1024 = rows.SingleOrDefault(r => r.Method == "Tiled" && r.N == 1024);
            var materialized1024 = rows.SingleOrDefault(r => r.Method == "Materialized" && r.N == 1024);
            var mathNet1024 = rows.SingleOrDefault(r => r.Method == "MathNetMatrices" && r.N == 1024);
            text.AppendLine();
            text.AppendLine("## Targets");
            text.AppendLine();
            text.AppendLine("| Target | Measured | Met? |");
            text.AppendLine("| --- | --- | --- |");
            if (tiled4096 is not null)
            {
                var percent = 100 * tiled4096.Gflops / widest;
                text.AppendLine(c, $"| tiled, n = 4096, d = 64: at least 60% of the widest FMA ceiling the machine has | {percent:0.0}% ({tiled4096.Gflops:0.0} of {widest:0.0} GFLOP/s, {tiled4096.Milliseconds:0.0} ms) | {(percent >= 60 ? "yes" : "no")} |");
            }

            var againstTorch = peerResults.Where(r => r.Case.Group == "attention").ToList();
            if (peer is null || againstTorch.Count == 0)
            {
                text.AppendLine(c, $"| attention at every n (256-16,384), d = 64 and 128, plain and causal: at least 3x faster than PyTorch in the same run | not measured ({peerWhy}) | no |");
            }
            else
            {
                var slowest = againstTorch.Where(r => r.Problem is null).MinBy(r => r.Speedup);
                var failed = againstTorch.Count(r => r.Problem is not null);
                var met = failed == 0 && againstTorch.All(r => r.Speedup >= r.Case.Target);
                var beyond = againstTorch.Where(r => r.Problem is null && r.TargetNeeds > widest).ToList();
                var within = againstTorch.Where(r => r.Problem is null && !(r.TargetNeeds > widest)).ToList();
                var bound = beyond.Count == 0 ? string.Empty : string.Create(c,
                    $"; {beyond.Count} of {againstTorch.Count} rows would need more than the widest FMA ceiling ({widest:0.0} GFLOP/s) to be 3x PyTorch ({beyond.Min(r => 100 * r.TargetNeeds / widest):0}% to {beyond.Max(r => 100 * r.TargetNeeds / widest):0}% of it), so no exact kernel can meet 3x there on this machine") +
                    (within.Count == 0 ? string.Empty : string.Create(c, $"; the other {within.Count} need {within.Min(r => 100 * r.TargetNeeds / widest):0}% to {within.Max(r => 100 * r.TargetNeeds / widest):0}% of it"));
                var measured = slowest is null ? "no row measured" : string.Create(c, $"smallest speed-up {slowest.Speedup:0.00}x ({slowest.Case.Label}, n = {slowest.Case.N}); {againstTorch.Count(r => r.Problem is null && r.Speedup >= r.Case.Target)} of {againstTorch.Count} rows at 3x or more{(failed > 0 ? $", {failed} not measured" : string.Empty)}{bound} (table below)");
                text.AppendLine(c, $"| attention at every n (256-16,384), d = 64 and 128, plain and causal: at least 3x faster than PyTorch in the same run | {measured} | {(met ? "yes" : "no")} |");
            }

            var multiHead = peerResults.SingleOrDefault(r => r.Case.Group == "multi-head");
            var multiHeadGoal = string.Create(c, $"| multi-head attention, 8 heads, d_model 512, n = 1024, projections included: at least {PeerComparison.MultiHeadTarget:0.#}x torch.nn.MultiheadAttention's speed (the issue names no factor) |");
            text.AppendLine(multiHead is null || multiHead.Problem is not null
                ? $"{multiHeadGoal} not measured ({multiHead?.Problem ?? peerWhy}) | no |"
                : string.Create(c, $"{multiHeadGoal} {multiHead.Speedup:0.00}x (table below) | {(multiHead.Speedup >= PeerComparison.MultiHeadTarget ? "yes" : "no")} |"));

            text.AppendLine(c, $"| number checks (NaN, infinity, fp32 overflow) cost at most 3% of a tiled pass, n = 4096, d = 64 | {checks.Percent:0.0}% (paired medians of {checks.Rounds} alternating rounds: {checks.CheckedMilliseconds:0.00} ms checked, {checks.UncheckedMilliseconds:0.00} ms unchecked; the input scan alone {checks.ScanMilliseconds:0.000} ms = {100 * checks.ScanMilliseconds / checks.UncheckedMilliseconds:0.00}%) | {(checks.Percent <= 3 ? "yes" : "no")} |");
            var bigMb = bigBytes / 1e6;
            text.AppendLine(c, $"| tiled, n = 65,536, d = 64: completes with at most 64 MB extra memory | {bigMb:0.0} MB allocated, {bigSeconds:0.0} s | {(bigMb <= 64 ? "yes" : "no")} |");
            if (mathNet1024 is not null && tiled1024 is not null && materialized1024 is not null)
            {
                var tiledRatio = mathNet1024.Milliseconds / tiled1024.Milliseconds;
                var materializedRatio = mathNet1024.Milliseconds / materialized1024.Milliseconds;
                var met = Math.Min(tiledRatio, materializedRatio) >= 30;
                var why = materializedRatio >= 30 ? string.Empty : string.Create(c,
                    $"; the materialized path does the tiled path's arithmetic (the same tiles) plus the n x n score matrix it must allocate, write and read back ({Mib(materialized1024.AllocatedBytes)} per call, the memory notebook 06 plots): {materialized1024.Milliseconds - tiled1024.Milliseconds:0.00} ms more than tiled here, while 30x would allow {(mathNet1024.Milliseconds / 30) - tiled1024.Milliseconds:0.00} ms more");
                text.AppendLine(c, $"| fast paths at least 30x faster than MathNet matrices at n = 1024 | tiled {tiledRatio:0.0}x, materialized {materializedRatio:0.0}x ({mathNet1024.Milliseconds:0.00} ms, {tiled1024.Milliseconds:0.00} ms and {materialized1024.Milliseconds:0.00} ms){why} | {(met ? "yes" : "no")} |");
            }

            foreach (var line in ApproximationTargets(rows))
            {
                text.AppendLine(line);
            }

            var (minilmTarget, minilmTable) = MiniLmPeers.Render(minilm, widest);
            text.AppendLine(minilmTarget);
            text.AppendLine(TrainingPeers.Target(peer, peerWhy, trainingPeerResults));
            foreach (var line in PeerComparison.Table(peer, peerWhy, peerResults, widest).Concat(minilmTable))
            {
                text.AppendLine(line);
            }

            foreach (var line in TrainingBenchmarks.Table(rows))
            {
                text.AppendLine(line);
            }

            foreach (var line in TrainingPeers.Table(peer, peerWhy, trainingPeerResults))
            {
                text.AppendLine(line);
            }

            return text.ToString();
        }

        /// <summary>
        /// One line per approximation kernel and n: its GFLOP/s on its own arithmetic divided by the tiled exact
        /// kernel's GFLOP/s at the same n in the same run (<see cref="ApproximationBenchmarks.ExactTiled"/>). The
        /// target "within 2x of its own arithmetic at the tiled kernel's FMA rate" means a ratio of at least 0.5.
        /// </summary>
        /// <param name="rows">The measured rows.</param>
        /// <returns>Markdown table rows.</returns>
        public static IEnumerable<string> ApproximationTargets(IReadOnlyList<Row> rows)
        {
            ArgumentNullException.ThrowIfNull(rows);
            var c = CultureInfo.InvariantCulture;
            foreach (var tiled in rows.Where(r => r.Method == nameof(ApproximationBenchmarks.ExactTiled)).OrderBy(r => r.N))
            {
                foreach (var kernel in rows.Where(r => r.N == tiled.N && r.Method != tiled.Method && ApproximationBenchmarks.Flops(r.Method, r.N) is not null).OrderBy(r => r.Method, StringComparer.Ordinal))
                {
                    var ratio = kernel.Gflops / tiled.Gflops;
                    var lowerBound = kernel.Method == nameof(ApproximationBenchmarks.LinearCausal)
                        ? "; counted on the model's arithmetic, while this kernel does about 1.7x as much (first pass, block triangles), so the ratio is a lower bound"
                        : string.Empty;
                    yield return string.Create(c, $"| {kernel.Method}, n = {kernel.N}, d = 64: within 2x of its own arithmetic at the tiled kernel's FMA rate (ratio of GFLOP/s at least 0.5) | {ratio:0.00} ({kernel.Gflops:0.0} GFLOP/s on {ApproximationBenchmarks.Flops(kernel.Method, kernel.N) / 1e9:0.###} GFLOP in {kernel.Milliseconds:0.00} ms; tiled exact {tiled.Gflops:0.0} GFLOP/s in this run{lowerBound}) | {(ratio >= 0.5 ? "yes" : "no")} |");
                }
            }
        }

        private static string Mib(long bytes) => bytes >= 1 << 20 ? $"{bytes / 1048576.0:0.0} MiB" : $"{bytes / 1024.0:0.0} KiB";
    }
}
