using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Lessons;

/// <summary>
/// What a lesson exported as a .NET 10 file-based app calls (the runner's <c>--export-apps</c> writes the apps):
/// <c>Start</c> once, <c>Cell(N)</c> where notebook cell N begins, <c>Show(value)</c> for a cell's last value,
/// <c>Finish()</c> at the end. The app's own text is the lesson: its markdown comments and code cells, read back
/// at <see cref="Finish"/>, become the executed notebook and the offline page beside the app, so a learner's edits
/// show up on the page. <c>display</c> and <c>HTML</c> come from <see cref="Lesson"/>.
/// </summary>
public static partial class LessonApp
{
    private static LessonRecorder? recorder;
    private static CellOutputs? running;
    private static string appFolder = string.Empty;
    private static string notebookName = string.Empty;
    private static readonly Stopwatch Clock = new();
    private static readonly Stopwatch CellClock = new();
    private static Dictionary<int, string> codeOf = [];

    /// <summary>The comment line that starts code cell <paramref name="cell"/> in an app.</summary>
    /// <param name="cell">Zero-based index among all cells of the notebook, markdown included.</param>
    /// <returns>The marker line.</returns>
    public static string CodeMarker(int cell) => $"// ── cell {cell} ──";

    /// <summary>The comment line that starts markdown cell <paramref name="cell"/> in an app; its lines follow as <c>// </c> comments.</summary>
    /// <param name="cell">Zero-based index among all cells.</param>
    /// <returns>The marker line.</returns>
    public static string MarkdownMarker(int cell) => $"// ── cell {cell} · markdown ──";

    /// <summary>The line that ends the lesson in an app; nothing after it is part of a cell.</summary>
    public const string FinishLine = Qualified + "Finish();";

    /// <summary>
    /// How an app names this class's methods: fully qualified from the global namespace, so a cell that declares its own
    /// <c>Show</c>, <c>Cell</c>, <c>Start</c> or <c>Finish</c> (or a class named LessonApp) cannot capture the app's calls.
    /// </summary>
    public const string Qualified = "global::NotebookAttention.Lessons.LessonApp.";

    /// <summary>
    /// Begins the lesson: reads the app's own file (its cells), makes <paramref name="workingFolder"/> the current
    /// folder (the notebooks folder, where the kernel runs a notebook, so its relative paths such as
    /// <c>../data/sentences.en.txt</c> mean the same), and records each cell from now on.
    /// </summary>
    /// <param name="notebook">The notebook's file name, e.g. <c>03-weighted-sum.ipynb</c>: the executed notebook and the page are named after it.</param>
    /// <param name="workingFolder">The folder to run in, relative to the app's folder or absolute.</param>
    /// <exception cref="InvalidOperationException">Not started as a file-based app, the working folder is missing, or a
    /// notebook that no lesson app wrote (see <see cref="WrittenByKey"/>) sits where the executed notebook would go.</exception>
    public static void Start(string notebook, string workingFolder)
    {
        var app = AppContext.GetData("EntryPointFilePath") as string
            ?? throw new InvalidOperationException("this lesson runs as a .NET 10 file-based app: start it with `dotnet run NN-name.cs`.");
        appFolder = Path.GetDirectoryName(app)!;
        notebookName = notebook;
        var executed = Path.Combine(appFolder, notebookName);
        if (File.Exists(executed) && !WrittenByApp(NotebookFile.Load(executed)))
        {
            throw new InvalidOperationException($"{executed} is a notebook no lesson app wrote (the lesson itself, or a kernel's executed copy), and this app would overwrite it: it is kept and nothing runs. Run the app from a folder of exported apps (dotnet run --project notebooks/runner -- --export-apps DIR), not from the notebooks folder.");
        }

        var source = Parse(File.ReadAllText(app));
        codeOf = source.Cells.Select((cell, index) => (cell, index))
            .Where(c => (string?)c.cell!["cell_type"] == "code")
            .ToDictionary(c => c.index, c => NotebookFile.Source(c.cell!.AsObject()));
        var folder = Path.GetFullPath(Path.Combine(appFolder, workingFolder));
        if (!Directory.Exists(folder))
        {
            throw new InvalidOperationException($"the lesson runs in {folder}, which does not exist: export the apps again from your clone (dotnet run --project notebooks/runner -- --export-apps DIR).");
        }

        Environment.CurrentDirectory = folder;
        recorder = new LessonRecorder(source);
        AppDomain.CurrentDomain.UnhandledException += (_, e) => Fail(e.ExceptionObject as Exception);
        Clock.Start();
        Console.WriteLine($"{notebook}: {codeOf.Count} code cells, run in {folder}");
    }

    /// <summary>Ends the cell before (if any) and records notebook cell <paramref name="index"/> from here on.</summary>
    /// <param name="index">Zero-based index among all cells, as in the marker above the call.</param>
    /// <exception cref="InvalidOperationException"><see cref="Start"/> was not called.</exception>
    public static void Cell(int index)
    {
        EndRunning();
        var lesson = recorder ?? throw new InvalidOperationException("Cell(...) before Start(...): the app's first statement starts the lesson.");
        running = lesson.BeginCell(index);
        CellClock.Restart();
        var packages = KernelReference().Matches(codeOf.GetValueOrDefault(index, string.Empty)).Select(m => $"{m.Groups[1].Value}, {m.Groups[2].Value}").ToList();
        if (packages.Count > 0)
        {
            running.PackagesLoaded(packages);
        }
    }

    /// <summary>Shows a cell's last value, as the kernel shows the value of a cell that ends with an expression.</summary>
    /// <exception cref="InvalidOperationException">No cell is running.</exception>
    public static void Show(object? value) =>
        (running ?? throw new InvalidOperationException("Show(...) outside a cell: put it after a Cell(N) line.")).Value(value);

    /// <summary>
    /// Ends the last cell and writes the executed notebook and the page beside the app (with plotly.js, so the page
    /// works offline). The exit code is 1 when a cell wrote to Console.Error, which the runner counts as an error too.
    /// </summary>
    public static void Finish()
    {
        EndRunning();
        var page = Write();
        foreach (var summary in ExecutedNotebook.Summaries(Path.Combine(appFolder, notebookName)))
        {
            Console.WriteLine($"  {summary}");
        }

        var errors = recorder!.Errors;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{notebookName}: {codeOf.Count} cells in {Clock.Elapsed.TotalSeconds:0.0} s, {errors.Count} error(s); page: {page}"));
        Environment.ExitCode = errors.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// Reads an app's text back into notebook cells: each marker starts a cell; markdown lines lose their <c>// </c>,
    /// code cells lose their <c>Cell(N);</c> line. A missing cell number becomes an empty markdown cell, so the
    /// numbers keep their meaning.
    /// </summary>
    /// <param name="app">The app's text.</param>
    /// <returns>A notebook (nbformat 4, the series' kernel metadata).</returns>
    public static NotebookFile Parse(string app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var sections = new SortedDictionary<int, (bool Code, List<string> Lines)>();
        List<string>? current = null;
        foreach (var line in app.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var marker = Marker().Match(line);
            if (marker.Success)
            {
                current = [];
                sections[int.Parse(marker.Groups[1].Value, CultureInfo.InvariantCulture)] = (!marker.Groups[2].Success, current);
            }
            else if (line == FinishLine)
            {
                current = null;
            }
            else if (current is not null && !CellCall().IsMatch(line))
            {
                current.Add(line);
            }
        }

        var cells = new JsonArray();
        for (var i = 0; i <= (sections.Count == 0 ? -1 : sections.Keys.Max()); i++)
        {
            var (code, lines) = sections.GetValueOrDefault(i, (false, []));
            var text = string.Join("\n", code ? lines : lines.Select(l => l.StartsWith("// ", StringComparison.Ordinal) ? l[3..] : l.TrimStart('/'))).Trim('\n');
            var cell = new JsonObject { ["cell_type"] = code ? "code" : "markdown", ["id"] = $"cell-{i}", ["metadata"] = new JsonObject(), ["source"] = text };
            if (code)
            {
                cell["metadata"] = new JsonObject { ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" }, ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } };
                cell["execution_count"] = null;
                cell["outputs"] = new JsonArray();
            }

            cells.Add(cell);
        }

        return NotebookFile.Parse(new JsonObject
        {
            ["cells"] = cells,
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
                ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
                ["polyglot_notebook"] = new JsonObject { ["kernelInfo"] = new JsonObject { ["defaultKernelName"] = "csharp" } },
                [WrittenByKey] = AppMark,
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        }.ToJsonString());
    }

    private static void EndRunning()
    {
        if (running is null)
        {
            return;
        }

        var cell = running;
        recorder!.EndCell();
        running = null;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  cell {cell.Cell}: {CellClock.Elapsed.TotalSeconds:0.0} s, {cell.Outputs.Count} output(s)"));
        foreach (var output in cell.Outputs.OfType<JsonObject>())
        {
            var text = (string?)output["output_type"] switch
            {
                "stream" => NotebookFile.Text(output["text"]),
                "error" => $"{(string?)output["ename"]}: {(string?)output["evalue"]}",
                _ => null,
            };
            if (!string.IsNullOrWhiteSpace(text))
            {
                Console.WriteLine(string.Join("\n", text.TrimEnd().Split('\n').Select(l => "    " + l)));
            }
        }
    }

    /// <summary>
    /// The notebook-level metadata key that marks an executed notebook written by a lesson app; an app overwrites only
    /// a notebook that carries it, never the lesson it came from.
    /// </summary>
    public const string WrittenByKey = "notebook_attention_written_by";

    private const string AppMark = "lesson app";

    /// <summary>Whether a lesson app wrote this notebook (it carries <see cref="WrittenByKey"/>).</summary>
    /// <param name="notebook">A notebook.</param>
    /// <returns>True for an app's executed notebook; false for a lesson or a kernel's executed copy.</returns>
    public static bool WrittenByApp(NotebookFile notebook) =>
        (string?)notebook?.Root["metadata"]?[WrittenByKey] == AppMark;

    private static string Write()
    {
        var executed = Path.Combine(appFolder, notebookName);
        var page = Path.ChangeExtension(executed, ".html");
        recorder!.Save(executed);
        ExecutedNotebook.Slim(executed);
        PageWriter.WriteNotebookPage(executed, page, previous: null, next: null, index: null);
        var plotly = Path.Combine(appFolder, OfflinePlotly.FileName);
        if (!File.Exists(plotly))
        {
            File.WriteAllText(plotly, OfflinePlotly.Script(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }

        return page;
    }

    /// <summary>A cell threw: the error goes into that cell's outputs, the page is written up to it, the app exits with 1.</summary>
    private static void Fail(Exception? error)
    {
        if (running is { } cell)
        {
            cell.Error(error?.GetType().Name ?? "Error", error?.Message ?? "the cell failed");
            EndRunning();
            var page = Write();
            Console.Error.WriteLine($"{notebookName}: cell {cell.Cell} failed: {error?.GetType().Name}: {error?.Message}\n  the page up to that cell: {page}");
        }

        Environment.Exit(1);
    }

    [GeneratedRegex(@"^// ── cell (\d+)( · markdown)? ──$")]
    private static partial Regex Marker();

    [GeneratedRegex(@"^global::NotebookAttention\.Lessons\.LessonApp\.Cell\(\d+\);\s*$")]
    private static partial Regex CellCall();

    [GeneratedRegex("""#r\s+"nuget:\s*([\w.]+)\s*,\s*([^"\s]+)\s*"\s*""")]
    private static partial Regex KernelReference();
}
