using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Runner;

/// <summary>One engine's run of the series: every notebook executed, slimmed and turned into pages, plus its index.</summary>
/// <param name="Engine">The engine that ran it.</param>
/// <param name="Output">The folder with the executed notebooks and pages.</param>
/// <param name="Runs">Each notebook's run, in series order.</param>
/// <param name="Seconds">Wall-clock time of the whole series on this engine (preparation excluded), pages included.</param>
public sealed record EngineRun(RunnerEngine Engine, string Output, IReadOnlyList<NotebookRun> Runs, double Seconds)
{
    /// <summary>Number of notebooks that did not run to the end.</summary>
    public int Failed => Runs.Count(r => !r.Succeeded);

    /// <summary>The engine's name on the command line and in summaries: "kernel" or "scripting".</summary>
    /// <param name="engine">A single engine.</param>
    /// <returns>Its name.</returns>
    public static string Name(RunnerEngine engine) => engine == RunnerEngine.Kernel ? "kernel" : "scripting";

    /// <summary>
    /// Where an engine writes: <paramref name="output"/> when given (with both engines, its <c>series</c> and
    /// <c>scripting</c> subfolders), else artifacts/series for the kernel and artifacts/scripting for the scripting
    /// engine, so both sets can sit side by side.
    /// </summary>
    /// <param name="root">The repository root.</param>
    /// <param name="engine">A single engine.</param>
    /// <param name="output">The --output folder, or null.</param>
    /// <param name="both">Whether both engines run.</param>
    /// <returns>The full path.</returns>
    public static string OutputFolder(string root, RunnerEngine engine, string? output, bool both)
    {
        var folder = engine == RunnerEngine.Kernel ? "series" : "scripting";
        return Path.GetFullPath(output is null ? Path.Combine(root, "artifacts", folder) : both ? Path.Combine(output, folder) : output);
    }

    /// <summary>Runs every notebook with <paramref name="execute"/>, printing one line per notebook, then writes the pages and the index.</summary>
    /// <param name="engine">The engine, for the index page and the summary.</param>
    /// <param name="notebooks">The notebooks, in series order.</param>
    /// <param name="output">The output folder (created; plotly.js is copied into it).</param>
    /// <param name="log">Where progress goes.</param>
    /// <param name="execute">Runs one notebook into <paramref name="output"/>.</param>
    /// <returns>What happened.</returns>
    public static EngineRun Run(RunnerEngine engine, IReadOnlyList<string> notebooks, string output, TextWriter log, Func<string, NotebookRun> execute)
    {
        ArgumentNullException.ThrowIfNull(notebooks);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(execute);
        var stopwatch = Stopwatch.StartNew();
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, OfflinePlotly.FileName), OfflinePlotly.Script());
        var runs = new List<NotebookRun>();
        for (var i = 0; i < notebooks.Count; i++)
        {
            log.Write($"[{i + 1}/{notebooks.Count}] {Path.GetFileName(notebooks[i])} ... ");
            log.Flush();
            var run = execute(notebooks[i]);
            if (File.Exists(run.ExecutedPath))
            {
                ExecutedNotebook.Slim(run.ExecutedPath);
            }

            runs.Add(run);
            var summaries = File.Exists(run.ExecutedPath) ? ExecutedNotebook.Summaries(run.ExecutedPath) : [];
            log.WriteLine((run.Succeeded
                ? string.Create(CultureInfo.InvariantCulture, $"ok ({run.CodeCells} cells, {run.Seconds:0.0} s, {PageWriter.Size(run.ExecutedPath)})")
                : string.Create(CultureInfo.InvariantCulture, $"FAILED ({run.Errors.Count} error(s), {run.Seconds:0.0} s)")) + string.Concat(summaries.Select(s => $" · {s}")));
            foreach (var error in run.Errors)
            {
                log.WriteLine($"    cell {error.Cell}: {error.Message}");
            }
        }

        for (var i = 0; i < runs.Count; i++)
        {
            if (File.Exists(runs[i].ExecutedPath))
            {
                PageWriter.WriteNotebookPage(
                    runs[i].ExecutedPath,
                    Path.Combine(output, Path.ChangeExtension(runs[i].Name, ".html")),
                    i > 0 ? Path.ChangeExtension(runs[i - 1].Name, ".html") : null,
                    i < runs.Count - 1 ? Path.ChangeExtension(runs[i + 1].Name, ".html") : null);
            }
        }

        PageWriter.WriteIndex(output, runs, engine == RunnerEngine.Kernel ? "the .NET Interactive kernel" : "Roslyn scripting in the series runner (no kernel)");
        var result = new EngineRun(engine, output, runs, stopwatch.Elapsed.TotalSeconds);
        File.WriteAllText(Path.Combine(output, TimesFile), new JsonObject
        {
            ["engine"] = Name(engine),
            ["seconds"] = Math.Round(result.Seconds, 1),
            ["notebooks"] = new JsonObject([.. runs.Select(r => KeyValuePair.Create(r.Name, (JsonNode?)Math.Round(r.Seconds, 1)))]),
        }.ToJsonString() + "\n");
        return result;
    }

    /// <summary>The file beside the pages with the engine's name and times, read by <see cref="ReadTotal"/> for --compare.</summary>
    public const string TimesFile = "engine-times.json";

    /// <summary>The engine name and total seconds an earlier run wrote into <paramref name="output"/>, or null when it wrote none.</summary>
    /// <param name="output">A folder the runner wrote.</param>
    /// <returns>"kernel" or "scripting" with its seconds, or null.</returns>
    public static (string Engine, double Seconds)? ReadTotal(string output)
    {
        var path = Path.Combine(output, TimesFile);
        return File.Exists(path) && JsonNode.Parse(File.ReadAllText(path)) is JsonObject times && (string?)times["engine"] is { } engine && times["seconds"] is { } seconds
            ? (engine, (double)seconds)
            : null;
    }

    /// <summary>The engine's summary line: engine, notebooks, code cells, total time, failures and the index page.</summary>
    /// <returns>One line.</returns>
    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"summary ({Name(Engine)} engine): {Runs.Count} notebooks, {Runs.Sum(r => r.CodeCells)} code cells, {Runs.Sum(r => r.Seconds):0.0} s in notebooks, {Seconds:0.0} s in total, {Failed} failed; pages: {Path.Combine(Output, "index.html")}");
}
