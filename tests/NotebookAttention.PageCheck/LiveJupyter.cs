using System.Diagnostics;
using System.Globalization;

namespace NotebookAttention.PageCheck;

/// <summary>
/// The live experience, tested: a real Jupyter Notebook server on 127.0.0.1 serves a copy of the notebooks on the
/// series' own kernelspec, headless Chromium clicks Cell ▸ Run All on each, and the check fails when a cell did not
/// run, a chart or heatmap was not drawn, a cell shows an error or a compiler warning (anything on standard error), anything the server or a kernel started listened
/// beyond loopback, the repository's notebooks changed, or a process was left running.
/// </summary>
public static class LiveJupyter
{
    /// <summary>The kernelspec the notebooks name.</summary>
    public const string KernelName = ".net-csharp";

    /// <summary>The kernel option that keeps its HTTP server on 127.0.0.1 (the series' install adds it).</summary>
    public const string LoopbackOption = "--http-local-only";

    private static readonly TimeSpan ServerStartLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InstallLimit = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan SocketSampleInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Runs the live check.</summary>
    /// <param name="args">The arguments after <see cref="LiveOptions.Switch"/>.</param>
    /// <returns>0 when every check passed, 1 when one failed, 2 when the check could not start (the message says why).</returns>
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var total = Stopwatch.StartNew();
        LiveOptions options;
        string root;
        string jupyter;
        IReadOnlyList<string> notebooks;
        string served;
        var live = string.Empty;
        try
        {
            options = LiveOptions.Parse(args);
            root = ServedCopy.RepositoryRoot(Directory.GetCurrentDirectory())
                ?? throw new ArgumentException($"no {ServedCopy.SolutionFile} in {Directory.GetCurrentDirectory()} or above: run the live check from a clone of the repository.");
            jupyter = options.Jupyter ?? JupyterServer.Find(JupyterServer.Program, Environment.GetEnvironmentVariable("PATH"))
                ?? throw new ArgumentException(JupyterServer.MissingMessage);
            if (!File.Exists(jupyter))
            {
                throw new ArgumentException($"--jupyter {jupyter}: no such file; {JupyterServer.InstallHint}");
            }

            if (!File.Exists(options.Chromium))
            {
                throw new ArgumentException($"no browser at {options.Chromium}: install Debian's chromium (apt-get install chromium) or pass --chromium PATH.");
            }

            notebooks = ServedCopy.Select(Path.Combine(root, "notebooks"), options.Only);
            live = Path.Combine(root, "artifacts", "live");
            served = ServedCopy.Write(root, notebooks, Path.Combine(live, "series"));
            InstallKernel(root, Path.Combine(live, "jupyter", "data", "kernels"));
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"live check: {error.Message}");
            return 2;
        }

        var before = ServedCopy.Fingerprints(notebooks);
        Console.WriteLine($"live check: {notebooks.Count} notebook(s) served from {Path.GetRelativePath(root, served)} by {jupyter} on 127.0.0.1");
        JupyterServer server;
        try
        {
            server = await JupyterServer.StartAsync(jupyter, served, Path.Combine(live, "jupyter"), Path.Combine(live, "server.log"), ServerStartLimit);
        }
        catch (InvalidOperationException error)
        {
            Console.Error.WriteLine($"live check: the notebook server did not start: {error.Message}");
            return 2;
        }

        void KillOnExit(object? sender, EventArgs e) => server.Kill();
        Console.CancelKeyPress += KillOnExit;
        AppDomain.CurrentDomain.ProcessExit += KillOnExit;
        IReadOnlyList<LiveNotebookReport> reports = [];
        IReadOnlyList<string> refused = [];
        var failures = new List<string>();
        using var stopWatching = new CancellationTokenSource();
        var watch = server.Processes.WatchAsync(SocketSampleInterval, stopWatching.Token);
        try
        {
            Console.WriteLine($"  server up at {server.Origin} (random token); {await server.CheckKernelSpecAsync(KernelName, LoopbackOption)}");
            (reports, refused) = await LiveBrowser.RunAsync(server, [.. notebooks.Select(Path.GetFileName).OfType<string>()], options, line => Console.WriteLine($"  {line}"));
        }
        catch (Exception error) when (error is InvalidOperationException or HttpRequestException or Microsoft.Playwright.PlaywrightException)
        {
            failures.Add($"the live run stopped: {error.Message.Replace(server.Token, "<token>", StringComparison.Ordinal)}\n  server log tail:\n{JupyterServer.Tail(server.Log())}");
        }
        finally
        {
            await stopWatching.CancelAsync();
            await watch;
            await server.DisposeAsync();
            Console.CancelKeyPress -= KillOnExit;
            AppDomain.CurrentDomain.ProcessExit -= KillOnExit;
        }

        var listening = server.Processes.Listening;
        failures.AddRange(ProcessWatch.Problems(listening, server.Processes.Root, server.Port).Select(p => $"sockets: {p}"));
        Console.WriteLine($"  sockets: {server.Processes.Samples} samples of the server and kernel processes; listening on {Describe(listening, server.Processes.Root)}");
        if (server.Survivors.Count > 0)
        {
            Console.WriteLine($"  processes that outlived the server's shutdown and were killed: {string.Join("; ", server.Survivors)}");
        }

        var alive = server.Processes.Alive();
        failures.AddRange(alive.Select(p => $"still running after the check: {p}"));
        Console.WriteLine($"  processes left after the check: {(alive.Count == 0 ? "none" : string.Join("; ", alive))}");
        var changed = ServedCopy.Fingerprints(notebooks).Where(f => before[f.Key] != f.Value).Select(f => f.Key).ToList();
        failures.AddRange(changed.Select(f => $"the repository's notebook {Path.GetRelativePath(root, f)} changed during the check: only the copy may be served"));
        if (refused.Count > 0)
        {
            Console.WriteLine($"  refused (beyond the server's origin): {string.Join(", ", refused)}");
        }

        failures.AddRange(reports.Where(r => !r.Passed).Select(r => $"{r.Notebook} failed (above)"));
        failures.AddRange(reports.Select(r => ExpectedCharts.Mismatch(r, Path.Combine(root, "artifacts", "series", r.Notebook))).OfType<string>());
        if (reports.Count < notebooks.Count && failures.Count == 0)
        {
            failures.Add($"only {reports.Count} of {notebooks.Count} notebooks were checked");
        }

        foreach (var failure in failures)
        {
            Console.WriteLine($"  FAIL {failure}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"live: {reports.Count(r => r.Passed)} of {notebooks.Count} notebooks passed, {reports.Sum(r => r.Outputs.Drawn)} charts drawn, {reports.Sum(r => r.Outputs.Errors.Count)} cell errors, {reports.Sum(r => r.Outputs.Warnings.Count)} compiler warnings; {total.Elapsed.TotalSeconds:0} s in all; server log: {Path.GetRelativePath(root, Path.Combine(live, "server.log"))}"));
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>The sockets seen: the server's endpoints; the kernels' count, processes and addresses.</summary>
    private static string Describe(IReadOnlyList<ListeningSocket> sockets, int serverPid)
    {
        var server = sockets.Where(s => s.Pid == serverPid).Select(s => s.Endpoint).Distinct();
        var kernels = sockets.Where(s => s.Pid != serverPid).ToList();
        return $"server {string.Join(", ", server)}; kernels {kernels.Count} sockets in {kernels.Select(s => s.Pid).Distinct().Count()} processes, "
            + $"on {string.Join(", ", kernels.Select(s => s.Address.ToString()).Distinct())} (HTTP on {string.Join(", ", kernels.Where(s => s.Port is >= 2048 and <= 3000).Select(s => s.Endpoint).Distinct())})";
    }

    /// <summary>The series' own kernelspec install (README: <c>--install-kernel DIR</c>), run as a learner runs it.</summary>
    private static void InstallKernel(string root, string kernels)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "run", "--project", Path.Combine("notebooks", "runner"), "--", "--install-kernel", kernels })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started to install the kernelspec.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(InstallLimit))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"installing the kernelspec took over {InstallLimit.TotalMinutes:0} minutes: {string.Join(' ', start.ArgumentList)}");
        }

        var text = output.Result + errors.Result;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"installing the series' kernelspec failed (dotnet {string.Join(' ', start.ArgumentList)}, exit code {process.ExitCode}):\n{JupyterServer.Tail(text)}");
        }

        Console.WriteLine($"  {JupyterServer.Tail(text, lines: 1)}");
    }
}
