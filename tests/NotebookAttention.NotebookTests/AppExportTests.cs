using System.Text.Json.Nodes;
using NotebookAttention.Lessons;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// The notebooks as .NET 10 file-based apps (<c>--export-apps</c>): every notebook exports to an app that compiles
/// (the exporter compiles it in-process against the library before writing it), each rewrite from script cells to
/// a program is shown on a hand-made cell, and what a program cannot say stops the export with the cell's number.
/// </summary>
public sealed class AppExportTests : IDisposable
{
    private static readonly string Root = SeriesRunner.FindRoot();
    private readonly string folder = Directory.CreateTempSubdirectory("app-export-tests-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    public static TheoryData<string> Notebooks() => [.. new SeriesRunner(Root).Notebooks.Select(Path.GetFileName).OfType<string>()];

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Every_notebook_exports_to_an_app_that_compiles_with_every_cell_marked(string name)
    {
        var notebookPath = Path.Combine(Root, "notebooks", name);
        var app = new AppExporter(Root).Convert(notebookPath, Path.Combine(Root, "artifacts", "apps"));

        Assert.Empty(CellProgram.ProgramErrors(AppExporter.CompilerView(app), CellProgram.ProcessReferences()));
        var cells = NotebookFile.Load(notebookPath).Cells;
        for (var i = 0; i < cells.Count; i++)
        {
            var code = (string?)cells[i]!["cell_type"] == "code";
            Assert.Contains((code ? LessonApp.CodeMarker(i) : LessonApp.MarkdownMarker(i)) + "\n", app, StringComparison.Ordinal);
        }

        Assert.Contains("#:project ../../lib/NotebookAttention.Lessons/NotebookAttention.Lessons.csproj\n", app, StringComparison.Ordinal);
        Assert.Contains($"{LessonApp.Qualified}Start(\"{name}\", workingFolder: \"../../notebooks\");", app, StringComparison.Ordinal);
        Assert.DoesNotContain("\n#r ", app, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void An_app_read_back_gives_the_lessons_cells_with_its_prose_unchanged(string name)
    {
        var notebookPath = Path.Combine(Root, "notebooks", name);
        var original = NotebookFile.Load(notebookPath).Cells;
        var readBack = LessonApp.Parse(new AppExporter(Root).Convert(notebookPath, Path.Combine(Root, "artifacts", "apps"))).Cells;

        Assert.Equal(original.Count, readBack.Count);
        for (var i = 0; i < original.Count; i++)
        {
            Assert.Equal((string?)original[i]!["cell_type"], (string?)readBack[i]!["cell_type"]);
            if ((string?)original[i]!["cell_type"] == "markdown")
            {
                Assert.Equal(NotebookFile.Source(original[i]!.AsObject()).Trim(), NotebookFile.Source(readBack[i]!.AsObject()));
            }
            else
            {
                Assert.DoesNotContain($"Cell({i});", NotebookFile.Source(readBack[i]!.AsObject()), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Usings_move_to_the_top_and_the_kernel_reference_becomes_a_project()
    {
        var app = Export(
            "#r \"nuget: NotebookAttention.Notebooks, 0.1.0\"",
            "using System.IO;\nusing NotebookAttention.Tokens;\nvar words = Tokenizer.Words(\"a b\");");

        var lines = app.Split('\n').ToList();
        var firstMarker = lines.FindIndex(l => l.StartsWith("// ── cell", StringComparison.Ordinal));
        Assert.InRange(lines.IndexOf("using System.IO;"), 0, firstMarker);
        Assert.InRange(lines.IndexOf("using NotebookAttention.Tokens;"), 0, firstMarker);
        Assert.InRange(lines.IndexOf("#:project lib/NotebookAttention.Notebooks/NotebookAttention.Notebooks.csproj"), 0, firstMarker);
        Assert.Equal(1, lines.Count(l => l == "using System.IO;"));
        Assert.Contains(LessonApp.Qualified + "Cell(1);\nvar words = Tokenizer.Words(\"a b\");\n", app, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trailing_value_is_shown_and_a_trailing_void_call_stays_a_statement()
    {
        AssertHas(
            Export("var n = 2;\nn * 21 // the answer", "md:Prose between cells.", "Console.WriteLine(n)", "System.Threading.Tasks.Task.FromResult(n)"),
            LessonApp.Qualified + "Show(n * 21); // the answer\n",
            LessonApp.Qualified + "Cell(2);\nConsole.WriteLine(n);\n",
            LessonApp.Qualified + "Show(System.Threading.Tasks.Task.FromResult(n));\n");
    }

    [Fact]
    public void A_name_declared_again_is_renamed_in_the_earlier_cells_with_every_use_the_compiler_bound_to_it()
    {
        var app = Export(
            "var total = new List<int> { 1, 2 };\nint Twice(int total) => 2 * total;",
            "var count = total.Count + Twice(total[0]);\nFunc<int> later = () => total.Sum();",
            "double total = 0.5; // ✎ your answer\ntotal + count + later()");
        AssertHas(
            app,
            LessonApp.Qualified + "Cell(0);\n// total is declared again in cell 2: here it is total_cell0\nvar total_cell0 = new List<int> { 1, 2 };\nint Twice(int total) => 2 * total;\n",
            "var count = total_cell0.Count + Twice(total_cell0[0]);\nFunc<int> later = () => total_cell0.Sum();\n",
            "double total = 0.5; // ✎ your answer\n" + LessonApp.Qualified + "Show(total + count + later());\n");
    }

    [Fact]
    public void Local_functions_and_types_of_cells_keep_working_and_types_move_after_the_statements()
    {
        var app = Export("record Point(int X, int Y);\nint Square(int v) => v * v;", "var p = new Point(3, 4);\nSquare(p.X) + Square(p.Y)");
        AssertHas(app, LessonApp.Qualified + "Cell(0);\nint Square(int v) => v * v;\n", LessonApp.Qualified + "Show(Square(p.X) + Square(p.Y));");
        Assert.True(app.IndexOf("record Point(int X, int Y);", StringComparison.Ordinal) > app.IndexOf(LessonApp.FinishLine, StringComparison.Ordinal));
    }

    [Fact]
    public void A_cell_that_declares_the_apps_own_method_names_cannot_capture_its_calls()
    {
        var app = Export("object Show(object value) => \"swallowed\";\nvoid Cell(int index) { }\nvoid Finish() { }", "21 * 2");
        AssertHas(app, LessonApp.Qualified + "Cell(1);\n" + LessonApp.Qualified + "Show(21 * 2);\n", "\n" + LessonApp.FinishLine + "\n");
        Assert.DoesNotContain("\nShow(", app, StringComparison.Ordinal);
        Assert.DoesNotContain("\nCell(", app, StringComparison.Ordinal);
        Assert.DoesNotContain("using static " + typeof(LessonApp).FullName, app, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("#!time", "kernel command")]
    [InlineData("#r \"nuget: Newtonsoft.Json, 13.0.3\"", "kernel command")]
    [InlineData("#i \"nuget: https://example.invalid/feed\"", "kernel command")]
    [InlineData("if (DateTime.Now.Year > 2000) return;", "top-level 'return'")]
    [InlineData("public int answer = 42;", "'public' on 'answer'")]
    [InlineData("int Answer { get; } = 42;", "PropertyDeclaration")]
    [InlineData("var x = undefinedName + 1;", "does not compile as C# script")]
    public void A_construct_an_app_cannot_express_stops_the_export_naming_the_notebook_and_cell(string cell, string reason)
    {
        var error = Assert.Throws<AppExportException>(() => Export("var fine = 1;", "md:Some prose.", "fine", cell));
        Assert.Equal(3, error.Cell);
        Assert.StartsWith("hand.ipynb, cell 3: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, "hand.cs")));
    }

    [Fact]
    public void A_block_local_named_like_a_top_level_variable_of_another_cell_is_renamed_inside_its_block()
    {
        // Script cells allow it; in one program the top-level step is in scope everywhere (CS0136 without the rename).
        AssertHas(
            Export("var sum = 0;\nfor (var i = 0; i < 3; i++) { var step = i * 2; sum += step; }\nforeach (var step in new[] { 1 }) sum += step;", "var step = 5;\nsum + step"),
            "// step inside this cell is step_inner: the step of cell 1 is in scope in the whole app\n",
            "{ var step_inner = i * 2; sum += step_inner; }\nforeach (var step_inner in new[] { 1 }) sum += step_inner;\n",
            "var step = 5;\n" + LessonApp.Qualified + "Show(sum + step);\n");
    }

    [Fact]
    public void A_program_the_compiler_refuses_stops_the_export_at_the_cell_the_error_is_in()
    {
        // A script field starts at 0; a program's local must be assigned before it is read (CS0165).
        var error = Assert.Throws<AppExportException>(() => Export("int unassigned;", "md:Prose.", "Console.WriteLine(unassigned)"));
        Assert.Equal(2, error.Cell);
        Assert.Contains("would not compile: CS0165", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_using_alias_that_a_later_cell_gives_another_meaning_stops_the_export_at_that_cell()
    {
        var error = Assert.Throws<AppExportException>(() => Export("using M = System.Math;\nM.Abs(-1)", "using M = System.Console;\nM.WriteLine(1)"));
        Assert.Equal(1, error.Cell);
        Assert.Contains("'using M = System.Console;'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Outside_the_repository_an_app_names_the_library_and_the_notebooks_folder_by_absolute_path()
    {
        var notebook = Path.Combine(folder, "hand.ipynb");
        Export("var n = 1;");
        var app = new AppExporter(Root).Convert(notebook, Path.Combine(folder, "apps"));

        Assert.False(new AppExporter(Root).IsInsideRepository(folder));
        Assert.Contains($"#:project {Root.Replace('\\', '/')}/lib/NotebookAttention.Lessons/NotebookAttention.Lessons.csproj\n", app, StringComparison.Ordinal);
        Assert.Contains($"{LessonApp.Qualified}Start(\"hand.ipynb\", workingFolder: \"{Root.Replace('\\', '/')}/notebooks\");", app, StringComparison.Ordinal);
    }

    private static void AssertHas(string app, params string[] fragments)
    {
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, app, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Writes a notebook with one cell per source (markdown for a source that starts with "md:", else code) and exports
    /// it as if into the repository's root, so paths in it are short.
    /// </summary>
    private string Export(params string[] sources)
    {
        var cells = new JsonArray();
        foreach (var source in sources)
        {
            cells.Add(source.StartsWith("md:", StringComparison.Ordinal)
                ? new JsonObject { ["cell_type"] = "markdown", ["metadata"] = new JsonObject(), ["source"] = source[3..] }
                : new JsonObject { ["cell_type"] = "code", ["metadata"] = new JsonObject(), ["outputs"] = new JsonArray(), ["source"] = source });
        }

        var notebook = Path.Combine(folder, "hand.ipynb");
        File.WriteAllText(notebook, new JsonObject { ["cells"] = cells, ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 5 }.ToJsonString());
        return new AppExporter(Root).Convert(notebook, Root);
    }
}
