using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Runner;

/// <summary>
/// Executes the notebook series on the real .NET Interactive kernel (through dotnet-repl, from the local tool
/// manifest) after packing the library into the feed the notebooks load it from.
/// </summary>
public sealed class SeriesRunner
{
    /// <summary>Packages the notebooks load; their cached copies are cleared before each run.</summary>
    public static readonly IReadOnlyList<string> LocalPackages = ["NotebookAttention", "NotebookAttention.Notebooks", "NotebookAttention.Pretrained"];

    /// <summary>Creates a runner for the repository at <paramref name="root"/>.</summary>
    /// <param name="root">The folder with NotebookAttention.sln.</param>
    public SeriesRunner(string root)
    {
        Root = root;
    }

    /// <summary>The repository root.</summary>
    public string Root { get; }

    /// <summary>The notebooks folder; the kernel runs here, as in VS Code and Jupyter.</summary>
    public string NotebooksFolder => Path.Combine(Root, "notebooks");

    /// <summary>The numbered notebooks of the series, in order.</summary>
    public IReadOnlyList<string> Notebooks =>
        [.. Directory.GetFiles(NotebooksFolder, "*.ipynb").Where(p => char.IsDigit(Path.GetFileName(p)[0])).Order(StringComparer.Ordinal)];

    /// <summary>Finds the repository root above the current folder or this program.</summary>
    /// <returns>The root folder.</returns>
    /// <exception cref="DirectoryNotFoundException">No NotebookAttention.sln was found.</exception>
    public static string FindRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "NotebookAttention.sln")))
                {
                    return folder.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("no NotebookAttention.sln above this folder: run the series from a clone of the repository.");
    }

    /// <summary>
    /// Restores the pinned tools, packs the library into notebooks/local-packages and clears cached copies of
    /// those packages, so every run loads the library as it is now.
    /// </summary>
    /// <param name="log">Progress lines.</param>
    public void Prepare(Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var minutes = TimeSpan.FromMinutes(10);
        log("restoring the pinned tools (dotnet tool restore)");
        Commands.RunOrThrow("dotnet tool restore", "dotnet", ["tool", "restore"], Root, minutes);
        var feed = Path.Combine(NotebooksFolder, "local-packages");
        foreach (var package in LocalPackages)
        {
            log($"packing {package} into notebooks/local-packages");
            Commands.RunOrThrow($"packing {package}", "dotnet", ["pack", Path.Combine(Root, "lib", package, package + ".csproj"), "-c", "Release", "-o", feed, "--nologo"], Root, minutes);
        }

        ClearCachedPackages();
    }

    /// <summary>
    /// Executes one notebook top to bottom on the real kernel and reads the result. The kernel always starts in the
    /// notebooks folder (its NuGet.config and tool manifest), wherever the notebook file is.
    /// </summary>
    /// <param name="notebook">Path of the .ipynb.</param>
    /// <param name="outputFolder">Where the executed notebook is written.</param>
    /// <param name="timeout">Time limit for the whole notebook.</param>
    /// <param name="sentence">A sentence that replaces the one typed in the notebook, or null.</param>
    /// <returns>How it went.</returns>
    /// <exception cref="ArgumentException"><paramref name="outputFolder"/> is the notebook's own folder (checked before anything is deleted).</exception>
    public NotebookRun Execute(string notebook, string outputFolder, TimeSpan timeout, string? sentence = null)
    {
        var executed = OutputGuard.FreshExecutedPath(notebook, outputFolder);
        var name = Path.GetFileName(notebook);
        var environment = new Dictionary<string, string>();
        if (sentence is not null)
        {
            environment[Learner.SentenceVariable] = sentence;
        }

        var codeCells = NotebookFile.Load(notebook).CodeCells.Count();
        var stopwatch = Stopwatch.StartNew();
        var result = Commands.Run(
            "dotnet",
            ["repl", "--run", Path.GetFullPath(notebook), "--exit-after-run", "--output-format", "ipynb", "--output-path", executed],
            NotebooksFolder,
            timeout,
            environment);
        var seconds = stopwatch.Elapsed.TotalSeconds;

        var errors = new List<CellError>();
        if (File.Exists(executed))
        {
            errors.AddRange(NotebookFile.Load(executed).Errors());
        }
        else
        {
            errors.Add(new CellError(-1, $"the kernel wrote no executed notebook (exit code {result.ExitCode}): {Tail(result.Output)}"));
        }

        if (result.TimedOut)
        {
            errors.Add(new CellError(-1, $"stopped after {timeout.TotalSeconds:0} s: the notebook took too long."));
        }
        else if (result.ExitCode != 0 && errors.Count == 0)
        {
            errors.Add(new CellError(-1, $"the kernel exited with code {result.ExitCode}: {Tail(result.Output)}"));
        }

        return new NotebookRun(name, codeCells, seconds, errors, executed, result.Output);
    }

    private static void ClearCachedPackages()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var configured = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        var packages = string.IsNullOrWhiteSpace(configured) ? Path.Combine(home, ".nuget", "packages") : configured;
        foreach (var package in LocalPackages)
        {
            var folder = Path.Combine(packages, package.ToLowerInvariant());
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        // The kernel caches what each #r "nuget: ..." resolved to; drop the entries that name our packages.
        var kernelCache = Path.Combine(home, ".packagemanagement", "nuget", "Cache");
        if (Directory.Exists(kernelCache))
        {
            foreach (var file in Directory.GetFiles(kernelCache))
            {
                if (File.ReadAllText(file).Contains("notebookattention", StringComparison.OrdinalIgnoreCase))
                {
                    File.Delete(file);
                }
            }
        }
    }

    private static string Tail(string output) => output.Length <= 2000 ? output : "…" + output[^2000..];
}
