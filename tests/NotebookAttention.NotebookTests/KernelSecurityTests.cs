using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using NotebookAttention.PageCheck;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// The kernels the series starts cannot be reached from the network: the Jupyter kernelspec it installs listens on
/// loopback only, and the runner's kernel (dotnet-repl) listens on nothing. The socket checks read Linux's /proc
/// (<see cref="LinuxFactAttribute"/>); CI runs them.
/// </summary>
[Collection(SeriesGroup.Name)]
public sealed class KernelSecurityTests(SeriesFixture series) : IDisposable
{
    private static readonly TimeSpan StartupLimit = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly string folder = Directory.CreateTempSubdirectory("kernel-security-").FullName;

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(folder, recursive: true);

    [LinuxFact]
    public void Jupyter_kernel_started_by_the_series_kernelspec_listens_on_loopback_only()
    {
        var kernels = Path.Combine(folder, "kernels");
        var install = Commands.Run("dotnet", [RunnerDll, "--install-kernel", kernels], series.Runner.Root, TimeSpan.FromMinutes(5));
        Assert.True(install.ExitCode == 0, $"--install-kernel failed:\n{install.Output}");
        var argv = KernelSpec.Argv(Path.Combine(kernels, KernelSpec.SeriesKernelName, "kernel.json"));

        var connection = WriteConnectionFile();
        var output = new StringBuilder();
        using var kernel = Start(argv.Select(a => a == "{connection_file}" ? connection.Path : a).ToList(), series.Runner.NotebooksFolder, output);
        try
        {
            // Up means: Jupyter's five sockets are bound, the HTTP server says it has bound every address it will, and
            // it listens on a port of its own.
            var deadline = Stopwatch.StartNew();
            IReadOnlyList<ListeningSocket> listening = [];
            while (true)
            {
                Assert.False(kernel.HasExited, $"the kernel exited with code {(kernel.HasExited ? kernel.ExitCode : 0)} before it was up:\n{Text(output)}");
                listening = ListeningSockets.HeldBy(ListeningSockets.Tree(kernel.Id));
                var ports = listening.Select(s => s.Port).ToHashSet();
                if (connection.Ports.All(ports.Contains) && ports.Except(connection.Ports).Any() && Text(output).Contains("Application started", StringComparison.Ordinal))
                {
                    break;
                }

                Assert.True(deadline.Elapsed < StartupLimit, $"the kernel was not up after {StartupLimit.TotalSeconds:0} s; it listened on [{string.Join(", ", listening)}]:\n{Text(output)}");
                Thread.Sleep(PollInterval);
            }

            var exposed = listening.Where(s => !s.IsLoopback).ToList();
            Assert.True(exposed.Count == 0, $"the kernel started by {string.Join(' ', argv)} listens on non-loopback addresses: {string.Join(", ", exposed)}");
            Assert.Contains(listening, s => !connection.Ports.Contains(s.Port));
        }
        finally
        {
            kernel.Kill(entireProcessTree: true);
            kernel.WaitForExit();
        }
    }

    [LinuxFact]
    public async Task Runner_kernel_opens_no_listening_socket_while_it_runs_a_notebook()
    {
        var path = Path.GetFullPath(series.Runner.Notebooks[0]);
        var notebook = Path.GetFileName(path);
        var run = Task.Run(() => series.Run(notebook[..2], label: "no-listening-socket"));
        var samplesWithKernel = 0;
        var listening = new List<ListeningSocket>();
        while (!run.IsCompleted)
        {
            // The runner starts "dotnet repl --run <full path of the notebook> ..." from this test process; sample that process and its children.
            var kernels = ListeningSockets.Tree(Environment.ProcessId)
                .Where(pid => ListeningSockets.CommandLine(pid).Contains($"--run {path}", StringComparison.Ordinal))
                .ToList();
            if (kernels.Count > 0)
            {
                samplesWithKernel++;
                listening.AddRange(ListeningSockets.HeldBy(kernels.SelectMany(ListeningSockets.Tree).ToHashSet()));
            }

            await Task.Delay(PollInterval);
        }

        var result = await run;
        Assert.True(result.Succeeded, $"{notebook} failed: {string.Join("; ", result.Errors.Select(e => e.Message))}");
        Assert.True(samplesWithKernel >= 3, $"only {samplesWithKernel} sample(s) saw the runner's kernel: the check did not watch the run.");
        Assert.True(listening.Count == 0, $"the runner's kernel listened on: {string.Join(", ", listening.Distinct())}");
    }

    [LinuxFact]
    public void Socket_reader_finds_a_listener_on_every_interface_and_one_on_loopback()
    {
        using var everywhere = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        everywhere.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        everywhere.Listen();
        var loopback = new TcpListener(IPAddress.Loopback, 0);
        loopback.Start();
        try
        {
            var listening = ListeningSockets.HeldBy([Environment.ProcessId]);
            var any = Assert.Single(listening, s => s.Port == ((IPEndPoint)everywhere.LocalEndPoint!).Port);
            Assert.Equal(IPAddress.IPv6Any, any.Address);
            Assert.False(any.IsLoopback);
            var local = Assert.Single(listening, s => s.Port == ((IPEndPoint)loopback.LocalEndpoint).Port);
            Assert.Equal(IPAddress.Loopback, local.Address);
            Assert.True(local.IsLoopback);
        }
        finally
        {
            loopback.Stop();
        }
    }

    [Theory]
    [InlineData("0100007F:0800", "127.0.0.1", 2048)]
    [InlineData("020200C0:1F90", "192.0.2.2", 8080)]
    [InlineData("00000000000000000000000001000000:0801", "::1", 2049)]
    [InlineData("0000000000000000FFFF00000100007F:0050", "::ffff:127.0.0.1", 80)]
    [InlineData("000000FD000000000000000002000000:0800", "fd00::2", 2048)]
    public void Proc_endpoints_are_read_in_the_kernel_byte_order(string endpoint, string address, int port)
    {
        Assert.Equal((IPAddress.Parse(address), port), ListeningSockets.ParseEndpoint(endpoint));
    }

    [Fact]
    public void Patch_adds_the_loopback_option_once_and_refuses_other_kernels()
    {
        var spec = JsonNode.Parse("""{"argv": ["dotnet", "interactive", "jupyter", "{connection_file}", "--http-port-range", "2048-3000"]}""")!.AsObject();
        Assert.True(KernelSpec.Patch(spec));
        Assert.False(KernelSpec.Patch(spec));
        Assert.Equal(1, spec["argv"]!.AsArray().Count(a => (string?)a == KernelSpec.LoopbackOnlyOption));
        var globalTool = JsonNode.Parse("""{"argv": ["/home/me/.dotnet/tools/dotnet-interactive", "jupyter", "--default-kernel", "csharp", "{connection_file}"]}""")!.AsObject();
        Assert.True(KernelSpec.Patch(globalTool));
        Assert.Equal(KernelSpec.LoopbackOnlyOption, (string?)globalTool["argv"]!.AsArray()[^1]);
        var python = JsonNode.Parse("""{"argv": ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"]}""")!.AsObject();
        var error = Assert.Throws<InvalidDataException>(() => KernelSpec.Patch(python));
        Assert.Contains("dotnet interactive jupyter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_kernel_option_takes_an_optional_folder()
    {
        var plain = RunnerOptions.Parse(["--install-kernel"]);
        Assert.True(plain.InstallKernel);
        Assert.Null(plain.KernelFolder);
        Assert.Equal("kernels", RunnerOptions.Parse(["--install-kernel", "kernels"]).KernelFolder);
        var followed = RunnerOptions.Parse(["--install-kernel", "--only", "03"]);
        Assert.Null(followed.KernelFolder);
        Assert.Equal(["03"], followed.Only);
        Assert.False(RunnerOptions.Parse([]).InstallKernel);
    }

    // The runner built beside these tests: the same program as `dotnet run --project notebooks/runner`.
    private static string RunnerDll => Path.Combine(AppContext.BaseDirectory, "NotebookAttention.Runner.dll");

    private (string Path, IReadOnlyList<int> Ports) WriteConnectionFile()
    {
        // As Jupyter does: free loopback ports, found by binding port 0.
        var listeners = Enumerable.Range(0, 5).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        listeners.ForEach(l => l.Stop());
        var connection = new JsonObject
        {
            ["shell_port"] = ports[0],
            ["iopub_port"] = ports[1],
            ["stdin_port"] = ports[2],
            ["control_port"] = ports[3],
            ["hb_port"] = ports[4],
            ["ip"] = "127.0.0.1",
            ["key"] = Guid.NewGuid().ToString(),
            ["transport"] = "tcp",
            ["signature_scheme"] = "hmac-sha256",
            ["kernel_name"] = KernelSpec.SeriesKernelName,
        };
        var path = Path.Combine(folder, "kernel-connection.json");
        File.WriteAllText(path, connection.ToJsonString());
        return (path, ports);
    }

    private static Process Start(List<string> argv, string workingDirectory, StringBuilder output)
    {
        var start = new ProcessStartInfo(argv[0])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in argv.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}

/// <summary>A fact that reads Linux's /proc: reported as skipped, with the reason, on other systems.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    /// <summary>Marks the test skipped unless it runs on Linux.</summary>
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "reads /proc to see which sockets a process tree listens on: Linux only (CI runs it).";
        }
    }
}
