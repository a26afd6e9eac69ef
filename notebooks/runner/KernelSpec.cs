using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookAttention.Runner;

/// <summary>
/// Installs the Jupyter kernelspecs of the pinned .NET Interactive kernel so that the kernel listens on loopback only.
/// </summary>
/// <remarks>
/// <c>dotnet interactive jupyter</c> always starts an HTTP/SignalR server (port 2048 and up) next to Jupyter's own
/// sockets: its <c>--http-port-range</c> option defaults to 2048-3000 and cannot be turned off. Without
/// <c>--http-local-only</c> that server listens on every network interface and runs code sent to it with no
/// authentication. <c>dotnet interactive jupyter install</c> has no such option, so the kernelspecs it writes are
/// patched here.
/// </remarks>
public static class KernelSpec
{
    /// <summary>The kernel option that keeps its HTTP server on 127.0.0.1.</summary>
    public const string LoopbackOnlyOption = "--http-local-only";

    /// <summary>The kernelspec the notebooks name (<c>metadata.kernelspec.name</c>).</summary>
    public const string SeriesKernelName = ".net-csharp";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Jupyter's per-user kernelspec folder on this machine: <see cref="DefaultFolder(JupyterPlatform, Func{string, string?}, string, string)"/>
    /// for the running operating system, its environment and its user folders.
    /// </summary>
    /// <returns>The folder path.</returns>
    public static string DefaultFolder() =>
        DefaultFolder(
            OperatingSystem.IsWindows() ? JupyterPlatform.Windows : OperatingSystem.IsMacOS() ? JupyterPlatform.MacOS : JupyterPlatform.Linux,
            Environment.GetEnvironmentVariable,
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
            Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData));

    /// <summary>
    /// Jupyter's per-user kernelspec folder, found by the rules of <c>jupyter_core.paths.jupyter_data_dir</c> (what
    /// <c>jupyter --data-dir</c> prints) plus <c>kernels</c>: <c>$JUPYTER_DATA_DIR</c> when set; otherwise on Linux
    /// <c>$XDG_DATA_HOME/jupyter</c> or <c>~/.local/share/jupyter</c>, on macOS <c>~/Library/Jupyter</c>, on Windows
    /// <c>%APPDATA%\jupyter</c> (or <c>%JUPYTER_CONFIG_DIR%\data</c>, else <c>~\.jupyter\data</c>, when there is no
    /// APPDATA folder).
    /// </summary>
    /// <param name="platform">The operating system whose rules apply (paths are joined with its separator).</param>
    /// <param name="environment">Reads an environment variable; null or blank means unset.</param>
    /// <param name="home">The user's home folder.</param>
    /// <param name="appData">The roaming application-data folder (Windows' <c>%APPDATA%</c>), or empty.</param>
    /// <returns>The folder path.</returns>
    /// <exception cref="ArgumentException">No data-dir variable is set and <paramref name="home"/> is blank.</exception>
    public static string DefaultFolder(JupyterPlatform platform, Func<string, string?> environment, string home, string appData)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var separator = platform == JupyterPlatform.Windows ? '\\' : '/';
        string Join(params string[] parts) => string.Join(separator, parts.Select((p, i) => i == 0 ? p.TrimEnd('/', '\\') : p));
        string? Variable(string name) => environment(name) is { } value && !string.IsNullOrWhiteSpace(value) ? value : null;

        var data = Variable("JUPYTER_DATA_DIR");
        if (data is null)
        {
            if (string.IsNullOrWhiteSpace(home) && (platform != JupyterPlatform.Windows || string.IsNullOrWhiteSpace(appData)))
            {
                throw new ArgumentException("the user's home folder is unknown, so Jupyter's kernels folder cannot be found: pass the folder to --install-kernel DIR (jupyter --data-dir prints Jupyter's data folder; add kernels to it).", nameof(home));
            }

            data = platform switch
            {
                JupyterPlatform.Windows when !string.IsNullOrWhiteSpace(appData) => Join(appData, "jupyter"),
                JupyterPlatform.Windows => Join(Variable("JUPYTER_CONFIG_DIR") ?? Join(home, ".jupyter"), "data"),
                JupyterPlatform.MacOS => Join(home, "Library", "Jupyter"),
                _ => Join(Variable("XDG_DATA_HOME") ?? Join(home, ".local", "share"), "jupyter"),
            };
        }

        return Join(data, "kernels");
    }

    /// <summary>
    /// Restores the pinned tools, runs <c>dotnet interactive jupyter install --path</c> into
    /// <paramref name="kernelsFolder"/>, adds <see cref="LoopbackOnlyOption"/> to every .NET Interactive kernelspec
    /// there (also ones left by an earlier, unpatched install) and checks the result.
    /// </summary>
    /// <param name="root">The repository root (where the tool manifest is).</param>
    /// <param name="kernelsFolder">A Jupyter <c>kernels</c> folder; created when missing.</param>
    /// <param name="log">Progress lines.</param>
    /// <returns>The kernel.json files now in place, each starting the kernel loopback-only.</returns>
    /// <exception cref="InvalidOperationException">A command failed, or the result is not loopback-only.</exception>
    public static IReadOnlyList<string> Install(string root, string kernelsFolder, Action<string> log)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        ArgumentException.ThrowIfNullOrWhiteSpace(kernelsFolder);
        ArgumentNullException.ThrowIfNull(log);
        var minutes = TimeSpan.FromMinutes(10);
        var folder = Path.GetFullPath(kernelsFolder);
        Directory.CreateDirectory(folder);
        log("restoring the pinned tools (dotnet tool restore)");
        Commands.RunOrThrow("dotnet tool restore", "dotnet", ["tool", "restore"], root, minutes);
        log($"installing the .NET Interactive kernelspecs into {folder}");
        Commands.RunOrThrow("dotnet interactive jupyter install", "dotnet", ["interactive", "jupyter", "install", "--path", folder], root, minutes);

        var installed = KernelJsonFiles(folder);
        foreach (var file in installed)
        {
            var spec = Load(file);
            if (Patch(spec))
            {
                File.WriteAllText(file, spec.ToJsonString(Indented) + "\n");
                log($"{Path.GetFileName(Path.GetDirectoryName(file))}: the kernel now listens on 127.0.0.1 only ({LoopbackOnlyOption})");
            }
        }

        if (!installed.Any(f => Path.GetFileName(Path.GetDirectoryName(f)) == SeriesKernelName))
        {
            throw new InvalidOperationException($"dotnet interactive jupyter install wrote no {SeriesKernelName} kernelspec into {folder}: check its output and that the folder is writable.");
        }

        foreach (var file in installed)
        {
            if (!Argv(file).Contains(LoopbackOnlyOption))
            {
                throw new InvalidOperationException($"{file} still starts the kernel without {LoopbackOnlyOption}: its HTTP server would listen on every network interface. Delete that folder and run --install-kernel again.");
            }
        }

        return installed;
    }

    /// <summary>
    /// Adds <see cref="LoopbackOnlyOption"/> to a .NET Interactive kernelspec's <c>argv</c> unless it is there.
    /// </summary>
    /// <param name="kernelJson">The parsed kernel.json, changed in place.</param>
    /// <returns>True when it was changed.</returns>
    /// <exception cref="InvalidDataException">The kernelspec does not start <c>dotnet interactive jupyter</c>.</exception>
    public static bool Patch(JsonObject kernelJson)
    {
        ArgumentNullException.ThrowIfNull(kernelJson);
        if (kernelJson["argv"] is not JsonArray argv || !StartsTheKernel(argv))
        {
            throw new InvalidDataException($"this kernel.json does not start \"dotnet interactive jupyter\" (argv is {kernelJson["argv"]?.ToJsonString() ?? "missing"}): only .NET Interactive kernelspecs can be made loopback-only.");
        }

        if (argv.Any(a => (string?)a == LoopbackOnlyOption))
        {
            return false;
        }

        argv.Add(LoopbackOnlyOption);
        return true;
    }

    /// <summary>The command line a kernelspec starts, with <c>{connection_file}</c> still in it.</summary>
    /// <param name="kernelJsonPath">A kernel.json file.</param>
    /// <returns>Its <c>argv</c>.</returns>
    /// <exception cref="InvalidDataException">The file has no <c>argv</c> array of strings.</exception>
    public static IReadOnlyList<string> Argv(string kernelJsonPath)
    {
        var argv = Load(kernelJsonPath)["argv"] as JsonArray ?? throw new InvalidDataException($"{kernelJsonPath} has no \"argv\" array: it is not a Jupyter kernelspec.");
        return [.. argv.Select(a => (string?)a ?? throw new InvalidDataException($"{kernelJsonPath} has a non-string entry in \"argv\"."))];
    }

    private static List<string> KernelJsonFiles(string folder) =>
        [.. Directory.GetDirectories(folder)
            .Select(d => Path.Combine(d, "kernel.json"))
            .Where(f => File.Exists(f) && TryLoad(f)?["argv"] is JsonArray argv && StartsTheKernel(argv))
            .Order(StringComparer.Ordinal)];

    // Other kernels' files in the same folder are none of our business, even when they are not valid JSON.
    private static JsonObject? TryLoad(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // "dotnet interactive jupyter ..." (the local tool, as installed here) or "dotnet-interactive jupyter ..." (the
    // global tool's kernelspec, which an earlier install may have left in the same folder).
    private static bool StartsTheKernel(JsonArray argv) =>
        argv.Count >= 3 && argv.All(a => a?.GetValueKind() == JsonValueKind.String)
        && (((string?)argv[1] == "interactive" && (string?)argv[2] == "jupyter")
            || (Path.GetFileNameWithoutExtension((string?)argv[0]) == "dotnet-interactive" && (string?)argv[1] == "jupyter"));

    private static JsonObject Load(string path) =>
        JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path} is not a JSON object, so not a kernelspec.");
}

/// <summary>The operating systems whose Jupyter folder rules <see cref="KernelSpec.DefaultFolder(JupyterPlatform, Func{string, string?}, string, string)"/> knows.</summary>
public enum JupyterPlatform
{
    /// <summary>Linux and other Unix systems (XDG folders).</summary>
    Linux,

    /// <summary>macOS.</summary>
    MacOS,

    /// <summary>Windows.</summary>
    Windows,
}
