using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>The committed notebooks are clean, carry Jupyter and Polyglot metadata, and follow the series' shape.</summary>
public partial class NotebookFilesTests
{
    /// <summary>The first line of every notebook's hidden solutions cell.</summary>
    public const string SolutionsLine = "// Solutions: these must all show ✅.";

    private static readonly SeriesRunner Series = new(SeriesRunner.FindRoot());

    public static TheoryData<string> Notebooks() => [.. Series.Notebooks.Select(Path.GetFileName).OfType<string>()];

    [Fact]
    public void The_series_is_numbered_from_00_without_gaps()
    {
        var numbers = Series.Notebooks.Select(n => int.Parse(Path.GetFileName(n)[..2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(numbers.Count >= 6, $"expected at least 6 notebooks, found {numbers.Count}");
        Assert.Equal(Enumerable.Range(0, numbers.Count), numbers);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_is_committed_clean(string name)
    {
        var notebook = Load(name);
        Assert.Equal(4, (int?)notebook.Root["nbformat"]);
        foreach (var cell in notebook.CodeCells)
        {
            Assert.Empty(cell["outputs"]!.AsArray());
            Assert.Null((int?)cell["execution_count"]);
        }

        var text = File.ReadAllText(Path.Combine(Series.NotebooksFolder, name));
        Assert.DoesNotMatch(MachinePath(), text);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_carries_jupyter_and_polyglot_metadata(string name)
    {
        var notebook = Load(name);
        var metadata = notebook.Root["metadata"]!;
        Assert.Equal(".net-csharp", (string?)metadata["kernelspec"]?["name"]);
        Assert.Equal("csharp", (string?)metadata["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]);
        var ids = notebook.Cells.OfType<JsonObject>().Select(c => (string?)c["id"]).ToList();
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var cell in notebook.CodeCells)
        {
            Assert.Equal("csharp", (string?)cell["metadata"]?["polyglot_notebook"]?["kernelName"]);
            Assert.Equal("csharp", (string?)cell["metadata"]?["dotnet_interactive"]?["language"]);
        }
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_loads_the_packed_library_version_in_its_first_code_cell(string name)
    {
        var project = XDocument.Load(Path.Combine(Series.Root, "lib", "NotebookAttention.Notebooks", "NotebookAttention.Notebooks.csproj"));
        var version = project.Descendants("Version").Single().Value;
        var first = NotebookFile.Source(Load(name).CodeCells.First()).Trim();
        Assert.Equal($"#r \"nuget: NotebookAttention.Notebooks, {version}\"", first);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_has_one_sentence_cell_goals_and_checked_exercises(string name)
    {
        var notebook = Load(name);
        var sources = notebook.CodeCells.Select(NotebookFile.Source).ToList();
        Assert.Single(sources, s => s.Contains("✏️ YOUR SENTENCE", StringComparison.Ordinal) && s.Contains("Learner.Sentence(", StringComparison.Ordinal));
        var markdown = string.Concat(notebook.Cells.OfType<JsonObject>().Where(c => (string?)c["cell_type"] == "markdown").Select(NotebookFile.Source));
        Assert.Contains("you will learn", markdown, StringComparison.Ordinal);
        var exercises = sources.Count(s => s.Contains("Exercises.", StringComparison.Ordinal) && s.Contains("// ✏️ your answer", StringComparison.Ordinal));
        Assert.InRange(exercises, 2, 4);
        var solutions = notebook.CodeCells.Where(c => c["metadata"]?["tags"]?.AsArray().Any(t => (string?)t == "solution") == true).ToList();
        Assert.Single(solutions);
        Assert.True((bool?)solutions[0]["metadata"]?["jupyter"]?["source_hidden"]);
        Assert.StartsWith(SolutionsLine, NotebookFile.Source(solutions[0]), StringComparison.Ordinal);
        Assert.Equal(exercises, Regex.Count(NotebookFile.Source(solutions[0]), @"display\(Exercises\."));
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Code_cells_stay_short(string name)
    {
        foreach (var cell in Load(name).CodeCells)
        {
            var lines = NotebookFile.Source(cell).Split('\n').Length;
            Assert.True(lines <= 12, $"a code cell of {name} has {lines} lines; keep cells short and move logic into lib/.");
        }
    }

    private static NotebookFile Load(string name) => NotebookFile.Load(Path.Combine(Series.NotebooksFolder, name));

    [GeneratedRegex(@"(/root/|/home/|/work/|/tmp/|[A-Za-z]:\\\\)")]
    private static partial Regex MachinePath();
}
