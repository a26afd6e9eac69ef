using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace NotebookAttention.PageCheck;

/// <summary>
/// A classic Jupyter Notebook server (Debian's <c>jupyter-notebook</c>) on 127.0.0.1, on a free port, with a random
/// token, reading its configuration, data and kernelspecs only from folders the live check made. Disposing it shuts
/// its kernels and itself down, and ends any process it started that is still alive.
/// </summary>
public sealed class JupyterServer : IAsyncDisposable
{
    /// <summary>The program.</summary>
    public const string Program = "jupyter-notebook";

    /// <summary>The Debian package that holds <see cref="Program"/>.</summary>
    public const string AptPackage = "jupyter-notebook";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private readonly Process process;
    private readonly StringBuilder log = new();
    private readonly string logPath;
    private readonly HttpClient http;

    private JupyterServer(Process process, int port, string token, string logPath)
    {
        this.process = process;
        this.logPath = logPath;
        Port = port;
        Token = token;
        Origin = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        http = new HttpClient { BaseAddress = Origin, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("token", token);
        Processes = new ProcessWatch(process.Id);
    }

    /// <summary>The port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The random token every request must carry.</summary>
    public string Token { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>: the one origin the browser may reach.</summary>
    public Uri Origin { get; }

    /// <summary>The server and every process under it (the kernels), watched for listening sockets.</summary>
    public ProcessWatch Processes { get; }

    /// <summary>After <see cref="DisposeAsync"/>: the processes that outlived the server's shutdown and had to be killed.</summary>
    public IReadOnlyList<WatchedProcess> Survivors { get; private set; } = [];

    /// <summary>
    /// Finds a program the way a shell does: the first executable file of that name in a folder of PATH.
    /// </summary>
    /// <param name="name">The program's file name.</param>
    /// <param name="path">The PATH variable's value (folders separated by ':'), or null.</param>
    /// <returns>Its full path, or null when no folder holds it.</returns>
    public static string? Find(string name, string? path) =>
        (path ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(file => File.Exists(file) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(file) & UnixFileMode.UserExecute) != 0));

    /// <summary>How to get <see cref="Program"/>.</summary>
    public static string InstallHint =>
        $"install Debian's package {AptPackage} (apt-get install --no-install-recommends {AptPackage}; classic Notebook 6.4) or pass --jupyter PATH.";

    /// <summary>What to do when <see cref="Program"/> is not on PATH.</summary>
    public static string MissingMessage => $"{Program} is not on PATH: {InstallHint}";

    /// <summary>The last lines of a log, for an error message.</summary>
    /// <param name="text">The whole log.</param>
    /// <param name="lines">How many lines at most.</param>
    /// <returns>The tail, or "(the log is empty)".</returns>
    public static string Tail(string text, int lines = 25)
    {
        ArgumentNullException.ThrowIfNull(text);
        var all = text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        return text.Trim().Length == 0 ? "(the log is empty)" : string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    /// <summary>
    /// Starts the server and waits until it answers. The token goes through the environment (JUPYTER_TOKEN), so it
    /// is not on the command line that every local user can read.
    /// </summary>
    /// <param name="program">Path of <see cref="Program"/>.</param>
    /// <param name="notebookFolder">The folder it serves; its kernels start there.</param>
    /// <param name="jupyterFolder">Its own Jupyter folders: <c>config</c>, <c>data</c> (kernelspecs in <c>data/kernels</c>), <c>runtime</c>.</param>
    /// <param name="logPath">Where its output goes.</param>
    /// <param name="startLimit">How long it may take to answer.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="InvalidOperationException">It exited or did not answer in time; the message holds its log tail.</exception>
    public static async Task<JupyterServer> StartAsync(string program, string notebookFolder, string jupyterFolder, string logPath, TimeSpan startLimit)
    {
        var port = FreeLoopbackPort();
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = notebookFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            "--no-browser", "--ip=127.0.0.1", $"--port={port.ToString(CultureInfo.InvariantCulture)}", "--port-retries=0",
            $"--notebook-dir={notebookFolder}", "--NotebookApp.allow_remote_access=False", "--NotebookApp.terminals_enabled=False",
            "--KernelManager.ip=127.0.0.1",
        ];
        arguments.ToList().ForEach(start.ArgumentList.Add);
        if (Environment.IsPrivilegedProcess)
        {
            // CI runs as root in a container; the server refuses root without this.
            start.ArgumentList.Add("--allow-root");
        }

        start.Environment["JUPYTER_TOKEN"] = token;
        start.Environment["JUPYTER_CONFIG_DIR"] = Path.Combine(jupyterFolder, "config");
        start.Environment["JUPYTER_DATA_DIR"] = Path.Combine(jupyterFolder, "data");
        start.Environment["JUPYTER_RUNTIME_DIR"] = Path.Combine(jupyterFolder, "runtime");
        start.Environment["JUPYTER_PATH"] = Path.Combine(jupyterFolder, "data");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var folder in new[] { "config", "data", "runtime" })
        {
            Directory.CreateDirectory(Path.Combine(jupyterFolder, folder));
        }

        var process = new Process { StartInfo = start };
        var server = (JupyterServer?)null;
        try
        {
            process.Start();
            server = new JupyterServer(process, port, token, logPath);
            process.OutputDataReceived += (_, e) => server.Append(e.Data);
            process.ErrorDataReceived += (_, e) => server.Append(e.Data);
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await server.WaitUntilUpAsync(startLimit);
            return server;
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
            else
            {
                process.Dispose();
            }

            throw;
        }
    }

    /// <summary>The server's output so far.</summary>
    /// <returns>The log text.</returns>
    public string Log()
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    /// <summary>
    /// Asks the server how it will start kernelspec <paramref name="name"/> and checks that the command carries the
    /// loopback-only option. Its own data folder (where the series installed the kernelspec) comes first in Jupyter's
    /// search order, so no other install of that name can be chosen instead.
    /// </summary>
    /// <param name="name">The kernelspec the notebooks name (<c>.net-csharp</c>).</param>
    /// <param name="loopbackOption">The option its argv must carry (<c>--http-local-only</c>).</param>
    /// <returns>A line for the report.</returns>
    /// <exception cref="InvalidOperationException">The server knows no such kernelspec, or starts it without the option.</exception>
    public async Task<string> CheckKernelSpecAsync(string name, string loopbackOption)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/kernelspecs", UriKind.Relative)));
        if (!document.RootElement.GetProperty("kernelspecs").TryGetProperty(name, out var found))
        {
            throw new InvalidOperationException($"the server knows no kernelspec {name}: the series' install into its data folder did not write it; read the install's output above.");
        }

        var argv = found.GetProperty("spec").GetProperty("argv").EnumerateArray().Select(a => a.GetString()).ToList();
        return argv.Contains(loopbackOption)
            ? $"kernelspec {name}: {string.Join(' ', argv)}"
            : throw new InvalidOperationException($"the server would start kernelspec {name} as [{string.Join(' ', argv)}], without {loopbackOption}: its HTTP server would listen on every interface.");
    }

    /// <summary>Shuts down every kernel the server runs (what Close and Halt does for each notebook).</summary>
    /// <returns>How many kernels it shut down.</returns>
    public async Task<int> ShutdownKernelsAsync()
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/kernels", UriKind.Relative)));
        var ids = document.RootElement.EnumerateArray().Select(k => k.GetProperty("id").GetString()!).ToList();
        foreach (var id in ids)
        {
            using var response = await http.DeleteAsync(new Uri($"api/kernels/{id}", UriKind.Relative));
        }

        return ids.Count;
    }

    /// <summary>
    /// Shuts the kernels and the server down through its API, kills what is left of its process tree after 15 s, and
    /// then ends any process it started (seen by <see cref="Processes"/>) that outlived it.
    /// </summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        Processes.Sample();
        try
        {
            if (!process.HasExited)
            {
                await ShutdownKernelsAsync();
                using var response = await http.PostAsync(new Uri("api/shutdown", UriKind.Relative), content: null);
            }
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException or JsonException)
        {
            Append($"[live check] the server did not take the shutdown request ({error.Message}); stopping it.");
        }

        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                Append("[live check] the server had not exited 15 s after the shutdown request; killing its process tree.");
                Processes.Sample();
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        Survivors = Processes.EndSurvivors();
        http.Dispose();
        process.Dispose();
        File.WriteAllText(logPath, Log());
    }

    /// <summary>Stops the server at once (Ctrl+C or an exception that bypasses <see cref="DisposeAsync"/>).</summary>
    public void Kill()
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has already exited.
        }

        Processes.EndSurvivors();
    }

    private static int FreeLoopbackPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        try
        {
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        finally
        {
            probe.Stop();
        }
    }

    private async Task WaitUntilUpAsync(TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Program} exited with code {process.ExitCode} before it answered on {Origin}. Its log (also in {logPath}):\n{Tail(Log())}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("api/status", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > limit)
            {
                throw new InvalidOperationException($"{Program} did not answer on {Origin} within {limit.TotalSeconds:0} s. Its log (also in {logPath}):\n{Tail(Log())}");
            }

            await Task.Delay(PollInterval);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line.Replace(Token, "<token>", StringComparison.Ordinal));
        }
    }
}
