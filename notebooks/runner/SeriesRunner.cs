using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Runner;

/// <summary>How one notebook ran.</summary>
/// <param name="Name">File name, e.g. 03-weighted-sum.ipynb.</param>
/// <param name="CodeCells">Number of code cells.</param>
/// <param name="Seconds">Wall-clock time of the kernel run.</param>
/// <param name="Errors">Cell errors, empty when every cell ran.</param>
/// <param name="ExecutedPath">The executed notebook (outputs included).</param>
/// <param name="Log">What the kernel printed.</param>
public sealed record NotebookRun(string Name, int CodeCells, double Seconds, IReadOnlyList<CellError> Errors, string ExecutedPath, string Log)
{
    /// <summary>True when every cell ran without error.</summary>
    public bool Succeeded => Errors.Count == 0;
}

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
    public NotebookRun Execute(string notebook, string outputFolder, TimeSpan timeout, string? sentence = null)
    {
        Directory.CreateDirectory(outputFolder);
        var name = Path.GetFileName(notebook);
        var executed = Path.Combine(outputFolder, name);
        File.Delete(executed);
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

    /// <summary>
    /// Makes an executed notebook small and portable: the 1.4 MB plotly.js loader in the setup cell's output
    /// becomes a reference to <see cref="OfflinePlotly.FileName"/> beside it, and the kernel's progress lines and machine paths are removed.
    /// </summary>
    /// <param name="executedPath">The executed notebook, rewritten in place.</param>
    public static void Slim(string executedPath)
    {
        var notebook = NotebookFile.Load(executedPath);
        foreach (var cell in notebook.CodeCells)
        {
            if (cell["outputs"] is not JsonArray outputs)
            {
                continue;
            }

            for (var i = outputs.Count - 1; i >= 0; i--)
            {
                if (outputs[i] is not JsonObject output || output["data"] is not JsonObject data)
                {
                    continue;
                }

                var html = NotebookFile.Text(data["text/html"]);
                var plain = NotebookFile.Text(data["text/plain"]);
                if (html.Contains(OfflinePlotly.LoaderId, StringComparison.Ordinal))
                {
                    data["text/html"] = PlotlyReference;
                }
                else if (plain.StartsWith("Loading extension script from", StringComparison.Ordinal)
                    || html.Contains("<strong>Installing Packages</strong>", StringComparison.Ordinal))
                {
                    outputs.RemoveAt(i);
                }
            }
        }

        notebook.Save(executedPath);
    }

    /// <summary>
    /// The one-line summaries of the finished live lines in an executed notebook (<see cref="LiveOutput.SummaryAttribute"/>),
    /// e.g. each training's last step, loss and accuracy, for the notebook's line on the console.
    /// </summary>
    /// <param name="executedPath">The executed notebook.</param>
    /// <returns>The summaries in cell order.</returns>
    public static IReadOnlyList<string> Summaries(string executedPath)
    {
        var summary = new Regex(LiveOutput.SummaryAttribute + "=\"([^\"]*)\"");
        return [.. NotebookFile.Load(executedPath).CodeCells
            .SelectMany(cell => (cell["outputs"] as JsonArray ?? []).OfType<JsonObject>())
            .SelectMany(output => summary.Matches(NotebookFile.Text(output["data"]?["text/html"])))
            .Select(match => WebUtility.HtmlDecode(match.Groups[1].Value))];
    }

    /// <summary>Loads plotly.js from the file the runner puts beside executed notebooks and pages.</summary>
    public static string PlotlyReference =>
        $"<div id=\"{OfflinePlotly.LoaderId}\" style=\"font:12px sans-serif;color:#667\">plotly.js {OfflinePlotly.Version} comes from {OfflinePlotly.FileName} beside this file.</div>" +
        $"<script type=\"text/javascript\">if (!window.Plotly && !window.naPlotly) {{ window.naPlotly = new Promise(function (resolve, reject) {{ var s = document.createElement(\"script\"); s.src = \"{OfflinePlotly.FileName}\"; s.onload = function () {{ resolve(window.Plotly); }}; s.onerror = reject; document.head.appendChild(s); }}); }}</script>";

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
