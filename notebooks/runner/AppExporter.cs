using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace NotebookAttention.Runner;

/// <summary>
/// Writes each notebook of the series as a .NET 10 file-based app (<c>NN-name.cs</c>): the markdown as comments,
/// the code cells in order as top-level statements (see <see cref="CellProgram"/>), runnable with
/// <c>dotnet run NN-name.cs</c>, which writes the lesson's page and executed notebook beside the app.
/// </summary>
/// <param name="root">The repository root (the folder with NotebookAttention.sln).</param>
/// <param name="references">What the cells compile against; by default every assembly of this process.</param>
public sealed partial class AppExporter(string root, IReadOnlyList<MetadataReference>? references = null)
{
    /// <summary>
    /// The types whose static members the cells may use, as the kernel's globals: <c>display</c> and <c>HTML</c>
    /// (imported by the app with <c>using static</c>). The app calls <see cref="LessonApp"/>'s <c>Start</c>,
    /// <c>Cell</c>, <c>Show</c> and <c>Finish</c> fully qualified (<see cref="LessonApp.Qualified"/>) and does not import
    /// them, so no cell can capture or call them.
    /// </summary>
    public static readonly IReadOnlyList<string> Runtime = [typeof(Lesson).FullName!];

    /// <summary>The library project every app references: the cells' runtime, which brings the series' library along.</summary>
    public const string RuntimeProject = "lib/NotebookAttention.Lessons/NotebookAttention.Lessons.csproj";

    private const string ShowMethod = LessonApp.Qualified + "Show";

    private readonly IReadOnlyList<MetadataReference> references = references ?? CellProgram.ProcessReferences();

    /// <summary>The repository root.</summary>
    public string Root { get; } = root;

    /// <summary>
    /// <c>--export-apps DIR</c>: writes every notebook (or those <paramref name="only"/> names) as an app in DIR and
    /// prints one line per app. A notebook that cannot be exported is named with its cell and the reason.
    /// </summary>
    /// <param name="runner">The series.</param>
    /// <param name="folder">DIR.</param>
    /// <param name="only">File-name prefixes; empty for all.</param>
    /// <param name="force">Overwrite apps the learner edited since their export (<c>--force</c>).</param>
    /// <returns>The exit code: 0 when every notebook was exported, 1 otherwise, 2 when none matched or DIR is the notebooks folder.</returns>
    public static int Command(SeriesRunner runner, string folder, IReadOnlyList<string> only, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(only);
        try
        {
            OutputGuard.RefuseNotebooksFolder(folder, runner.NotebooksFolder, "--export-apps");
        }
        catch (ArgumentException error)
        {
            Console.Error.WriteLine(error.Message);
            return 2;
        }

        var notebooks = runner.Notebooks.Where(n => only.Count == 0 || only.Any(o => Path.GetFileName(n).StartsWith(o, StringComparison.Ordinal))).ToList();
        if (notebooks.Count == 0)
        {
            Console.Error.WriteLine($"no notebook matches {string.Join(", ", only)} in {runner.NotebooksFolder}: use the number at the start of a file name, e.g. --only 03.");
            return 2;
        }

        var exporter = new AppExporter(runner.Root);
        folder = Path.GetFullPath(folder);
        Console.WriteLine($"exporting {notebooks.Count} notebook(s) as file-based apps -> {folder}");
        if (!exporter.IsInsideRepository(folder))
        {
            Console.WriteLine($"  {folder} is outside the repository: the apps name the library and the notebooks folder by absolute path, so they run on this machine while the clone stays at {runner.Root}; export inside a clone to get apps that move with it.");
        }

        var failed = 0;
        foreach (var notebook in notebooks)
        {
            try
            {
                var app = exporter.Export(notebook, folder, force);
                Console.WriteLine($"  {Path.GetFileName(app)}: {File.ReadAllLines(app).Length} lines; run it with: dotnet run {Shortest(app)}");
            }
            catch (Exception error) when (error is AppExportException or IOException)
            {
                failed++;
                Console.Error.WriteLine($"  not exported: {error.Message}");
            }
        }

        return failed == 0 ? 0 : 1;
    }

    private static string Shortest(string path)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }

    /// <summary>Exports one notebook into <paramref name="folder"/>.</summary>
    /// <param name="notebookPath">The .ipynb.</param>
    /// <param name="folder">Where the app goes (created when missing).</param>
    /// <returns>The path of the app.</returns>
    /// <param name="force">Overwrite an app that was edited since its export.</param>
    /// <exception cref="AppExportException">A cell cannot be exported; nothing is written.</exception>
    /// <exception cref="IOException">The app there was changed since its export and <paramref name="force"/> is false; it is kept.</exception>
    /// <exception cref="ArgumentException"><paramref name="folder"/> is the notebook's own folder.</exception>
    /// <remarks>
    /// The app's first line holds the SHA-256 of the rest as exported (<see cref="ExportHashPrefix"/>). An app whose
    /// text no longer matches its hash, or that has none, was written or edited by someone else: README invites
    /// learners to change cells and run again, so a second export keeps their work unless told otherwise.
    /// </remarks>
    public string Export(string notebookPath, string folder, bool force = false)
    {
        folder = Path.GetFullPath(folder);
        OutputGuard.RefuseSourceFolder(notebookPath, folder, "--export-apps");
        var text = Convert(notebookPath, folder);
        Directory.CreateDirectory(folder);
        var app = Path.Combine(folder, Path.ChangeExtension(Path.GetFileName(notebookPath), ".cs"));
        if (!force && File.Exists(app) && !IsUnedited(File.ReadAllText(app)))
        {
            throw new IOException($"{app} was changed since it was exported, so it is kept: move it away, or export again with --force to overwrite it.");
        }

        File.WriteAllText(app, WithExportHash(text));
        return app;
    }

    /// <summary>How an exported app's first line starts; the SHA-256 (hex) of the rest of the file follows.</summary>
    public const string ExportHashPrefix = "// exported app, sha256 of the lines below as written: ";

    /// <summary>An app's text with its first line holding the hash of the rest (see <see cref="Export"/>).</summary>
    /// <param name="app">The app's text.</param>
    /// <returns>The line, then the text.</returns>
    public static string WithExportHash(string app) => $"{ExportHashPrefix}{Hash(app)}\n{app}";

    /// <summary>Whether an app's text is as exported: its first line's hash matches the rest.</summary>
    /// <param name="app">The text of an app file.</param>
    /// <returns>False when the hash line is missing or the rest was changed.</returns>
    public static bool IsUnedited(string app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var newline = app.IndexOf('\n', StringComparison.Ordinal);
        return newline > 0 && app.StartsWith(ExportHashPrefix, StringComparison.Ordinal)
            && app[ExportHashPrefix.Length..newline] == Hash(app[(newline + 1)..]);
    }

    private static string Hash(string text) => System.Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>Whether <paramref name="folder"/> lies inside the repository, so apps there name the library by a relative path.</summary>
    /// <param name="folder">A folder.</param>
    /// <returns>True when inside.</returns>
    public bool IsInsideRepository(string folder)
    {
        var relative = Path.GetRelativePath(Root, Path.GetFullPath(folder));
        return relative == "." || (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative));
    }

    /// <summary>The app's text for a notebook, compiled in-process before it is returned.</summary>
    /// <param name="notebookPath">The .ipynb.</param>
    /// <param name="folder">The folder the app will be in (relative paths in it start there).</param>
    /// <returns>The app.</returns>
    /// <exception cref="AppExportException">A cell cannot be exported, or the program does not compile.</exception>
    public string Convert(string notebookPath, string folder)
    {
        var name = Path.GetFileName(notebookPath);
        var notebook = NotebookFile.Load(notebookPath);
        var projects = new List<string> { RuntimeProject };
        var scriptCells = new List<ScriptCell>();
        var removedLines = new Dictionary<int, List<string>>();
        for (var i = 0; i < notebook.Cells.Count; i++)
        {
            if (notebook.Cells[i] is JsonObject cell && (string?)cell["cell_type"] == "code")
            {
                scriptCells.Add(new ScriptCell(i, KernelLines(name, i, NotebookFile.Source(cell), projects, removedLines)));
            }
        }

        var series = CellProgram.Convert(name, scriptCells, references, Runtime, ShowMethod);
        var text = Compose(name, notebook, series, projects, removedLines, folder);
        var errors = CellProgram.ProgramErrors(CompilerView(text), references);
        if (errors.Length > 0)
        {
            var line = errors[0].Location.GetLineSpan().StartLinePosition.Line;
            throw new AppExportException(name, CellAt(text, line), $"the exported app would not compile: {errors[0].Id}: {errors[0].GetMessage(CultureInfo.InvariantCulture)} (line {line + 1} of the app)");
        }

        return text;
    }

    /// <summary>
    /// Takes the kernel's own lines (<c>#r</c>, <c>#!</c> magics, <c>#i</c>, <c>#load</c>) out of a cell:
    /// <c>#r "nuget: NotebookAttention.X, V"</c> becomes the project <c>lib/NotebookAttention.X</c>; anything else stops the export.
    /// </summary>
    private static string KernelLines(string notebook, int cell, string source, List<string> projects, Dictionary<int, List<string>> removed)
    {
        var kept = new List<string>();
        foreach (var line in source.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var trimmed = line.TrimStart();
            if (!KernelDirective().IsMatch(trimmed))
            {
                kept.Add(line);
                continue;
            }

            var package = LibraryPackage().Match(trimmed);
            if (!package.Success)
            {
                throw new AppExportException(notebook, cell, $"'{trimmed}' is a kernel command a file-based app cannot run: only #r \"nuget: NotebookAttention.*\" (the series' own library) is exported. Add a package with a #:package line in the app instead, or move the code into the library.");
            }

            var project = $"lib/{package.Groups[1].Value}/{package.Groups[1].Value}.csproj";
            if (!projects.Contains(project, StringComparer.Ordinal))
            {
                projects.Add(project);
            }

            (removed.TryGetValue(cell, out var list) ? list : removed[cell] = []).Add(trimmed);
        }

        return string.Join("\n", kept);
    }

    private string Compose(string name, NotebookFile notebook, CellSeries series, List<string> projects, Dictionary<int, List<string>> removed, string folder)
    {
        var title = PageWriter.TitleOf(notebook, Path.GetFileNameWithoutExtension(name));
        var app = Path.ChangeExtension(name, ".cs");
        var inside = IsInsideRepository(folder);
        string PathTo(string repositoryPath) =>
            (inside ? Path.GetRelativePath(folder, Path.Combine(Root, repositoryPath)) : Path.GetFullPath(Path.Combine(Root, repositoryPath))).Replace('\\', '/');
        var sentenceCell = series.Cells.FirstOrDefault(c => c.Statements.Contains("Learner.Sentence(", StringComparison.Ordinal));

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""
            // {app}: the lesson "{title}" ({PathTo("notebooks/" + name)}) as a .NET 10 file-based app.
            // Run it with `dotnet run {app}` (it needs the .NET 10 SDK, and NuGet on the first build, which takes a minute; the library is
            // compiled optimized in every configuration, so the measurements of 06 and 07 run at full speed). It runs the
            // notebook's cells below in order, in the notebooks folder as the kernel does, and writes the lesson's page
            // {Path.ChangeExtension(name, ".html")} (open it in a browser; charts work offline) and the executed notebook {name} beside this file.
            // {(sentenceCell is null ? "Change any cell" : $"Type your own sentence in cell {sentenceCell.Index}, or change any cell")}, then run it again. Written by
            // `dotnet run --project notebooks/runner -- --export-apps DIR`; the markers `// ── cell N ──` are the notebook's cell numbers.

            """);
        foreach (var project in projects)
        {
            text.Append(CultureInfo.InvariantCulture, $"#:project {PathTo(project)}\n");
        }

        // As in the kernel: its default usings only, no nullable context, no analyzers, warnings stay warnings (the
        // repository's Directory.Build.props would make them errors for an app inside the clone).
        text.Append("""
            #:property ImplicitUsings=disable
            #:property Nullable=disable
            #:property RunAnalyzers=false
            #:property TreatWarningsAsErrors=false
            #:property PublishAot=false

            """);
        foreach (var directive in CellProgram.KernelUsings.Concat(series.Usings))
        {
            text.Append(directive).Append('\n');
        }

        text.Append(CultureInfo.InvariantCulture, $"using static {Runtime[0]};      // display and HTML, as in the kernel\n");
        text.Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"{LessonApp.Qualified}Start(\"{name}\", workingFolder: \"{PathTo("notebooks")}\");   // Start, Cell, Show, Finish record each cell for the page\n");

        var cells = series.Cells.ToDictionary(c => c.Index);
        for (var i = 0; i < notebook.Cells.Count; i++)
        {
            if (notebook.Cells[i] is not JsonObject cell)
            {
                continue;
            }

            text.Append('\n');
            if (!cells.TryGetValue(i, out var code))
            {
                text.Append(LessonApp.MarkdownMarker(i)).Append('\n');
                foreach (var line in NotebookFile.Source(cell).TrimEnd().Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
                {
                    text.Append(line.Length == 0 ? "//" : "// " + line).Append('\n');
                }

                continue;
            }

            text.Append(LessonApp.CodeMarker(i)).Append('\n');
            text.Append(CultureInfo.InvariantCulture, $"{LessonApp.Qualified}Cell({i});\n");
            foreach (var line in removed.GetValueOrDefault(i, []))
            {
                text.Append(CultureInfo.InvariantCulture, $"// {line}: the library comes from the #:project lines at the top\n");
            }

            foreach (var note in code.Notes)
            {
                text.Append(note).Append('\n');
            }

            if (code.Statements.Length == 0 && series.Usings.Count > 0 && !removed.ContainsKey(i))
            {
                text.Append("// this cell's usings are at the top of the file\n");
            }
            else if (code.Statements.Length > 0)
            {
                text.Append(code.Statements).Append('\n');
            }
        }

        text.Append('\n').Append(LessonApp.FinishLine).Append('\n');
        foreach (var code in series.Cells.Where(c => c.Types.Length > 0))
        {
            text.Append(CultureInfo.InvariantCulture, $"\n// ── cell {code.Index}: its types (C# wants them after the statements) ──\n").Append(code.Types).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The app as the compiler sees it: the <c>#:</c> lines of file-based apps blanked, line numbers kept.</summary>
    /// <param name="app">The app's text.</param>
    /// <returns>The text without directives.</returns>
    public static string CompilerView(string app) =>
        string.Join("\n", app.Split('\n').Select(line => line.StartsWith("#:", StringComparison.Ordinal) ? string.Empty : line));

    /// <summary>The cell a line of an app belongs to: the last marker at or above it.</summary>
    /// <param name="app">The app's text.</param>
    /// <param name="line">Zero-based line number.</param>
    /// <returns>The cell index, or -1 above the first cell.</returns>
    public static int CellAt(string app, int line)
    {
        var lines = app.Split('\n');
        for (var i = Math.Min(line, lines.Length - 1); i >= 0; i--)
        {
            var marker = Marker().Match(lines[i]);
            if (marker.Success)
            {
                return int.Parse(marker.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    [GeneratedRegex(@"^#(?:r\b|i\b|load\b|!)")]
    private static partial Regex KernelDirective();

    [GeneratedRegex("""^#r\s+"nuget:\s*(NotebookAttention(?:\.[A-Za-z]+)*)\s*(?:,\s*[^"]*)?"\s*$""")]
    private static partial Regex LibraryPackage();

    [GeneratedRegex(@"^// ── cell (\d+)")]
    private static partial Regex Marker();
}
