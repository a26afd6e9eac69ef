using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>The committed notebooks are clean, carry Jupyter and Polyglot metadata, and follow the series' shape.</summary>
public partial class NotebookFilesTests
{
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
    public void Notebook_has_one_sentence_cell_or_says_it_takes_none_and_has_goals(string name)
    {
        var notebook = Load(name);
        var sources = notebook.CodeCells.Select(NotebookFile.Source).ToList();
        if (sources.Any(s => s.Contains("Learner.Sentence(", StringComparison.Ordinal)))
        {
            Assert.Single(sources, s => s.Contains("✎ YOUR SENTENCE", StringComparison.Ordinal) && s.Contains("Learner.Sentence(", StringComparison.Ordinal));
        }
        else
        {
            // A notebook that trains on generated tasks never reads the sentence: it must tell the learner so at the
            // top, and the kernel tests then run it once instead of with every sentence (KernelTests.TakesSentence).
            Assert.DoesNotContain(sources, s => s.Contains("✎ YOUR SENTENCE", StringComparison.Ordinal));
            var first = NotebookFile.Source(notebook.Cells.OfType<JsonObject>().First(c => (string?)c["cell_type"] == "markdown"));
            Assert.True(first.Contains(NoSentence, StringComparison.Ordinal), $"{name} reads no sentence: its first cell must say \"{NoSentence}\" (and why).");
        }

        var markdown = string.Concat(notebook.Cells.OfType<JsonObject>().Where(c => (string?)c["cell_type"] == "markdown").Select(NotebookFile.Source));
        Assert.Contains("you will learn", markdown, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Exercises_are_laid_out_with_folded_solutions_that_run_only_when_asked(string name)
    {
        var notebook = Load(name);
        var exercises = ExerciseLayout.Read(notebook);
        Assert.InRange(exercises.Count, 2, 4);
        Assert.Equal(exercises.Count, notebook.CodeCells.Count(c => NotebookFile.Source(c).Contains(ExerciseLayout.AnswerMarker, StringComparison.Ordinal)));
        Assert.DoesNotContain(notebook.CodeCells, c => c["metadata"]?["tags"]?.AsArray().Any(t => (string?)t == "solution") == true);
        Assert.DoesNotContain(notebook.CodeCells, c => NotebookFile.Source(c).Contains("Solutions:", StringComparison.Ordinal));
        Assert.Equal(exercises.Count, exercises.Select(e => e.Check).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_ends_with_references_that_cover_every_work_it_cites(string name)
    {
        var markdown = Load(name).Cells.OfType<JsonObject>().Where(c => (string?)c["cell_type"] == "markdown").Select(NotebookFile.Source).ToList();
        var references = markdown[^1];
        Assert.StartsWith("## References", references, StringComparison.Ordinal);
        var entries = references.Split('\n').Where(l => l.StartsWith("- ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(entries);
        Assert.All(entries, e => Assert.Matches(ReferenceYear(), e));
        var cited = markdown[..^1].SelectMany(text => Citation().Matches(text)).Select(m => (Name: m.Groups["name"].Value, Year: m.Groups["year"].Value)).Distinct().ToList();
        var missing = cited.Where(c => !entries.Any(e => e.Contains(c.Name, StringComparison.Ordinal) && e.Contains($"({c.Year}", StringComparison.Ordinal))).ToList();
        Assert.True(missing.Count == 0, $"{name} cites {string.Join(", ", missing.Select(c => $"{c.Name} ({c.Year})"))} without a full reference in its References cell.");
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

    /// <summary>What a notebook that reads no sentence says in its first cell.</summary>
    public const string NoSentence = "does not use your sentence";

    private static NotebookFile Load(string name) => NotebookFile.Load(Path.Combine(Series.NotebooksFolder, name));

    /// <summary>A citation in the text: "Surname et al. (2017", "Surname and Surname (2013" or "Surname (1991".</summary>
    [GeneratedRegex(@"(?<name>\p{Lu}[\p{L}'’-]+)(?: et al\.| and \p{Lu}[\p{L}'’-]+)? \((?<year>(?:19|20)\d\d)[a-z]?[,;)]")]
    private static partial Regex Citation();

    /// <summary>A full reference gives its year in parentheses.</summary>
    [GeneratedRegex(@"\((?:19|20)\d\d[a-z]?\)")]
    private static partial Regex ReferenceYear();

    [GeneratedRegex(@"(/root/|/home/|/work/|/tmp/|[A-Za-z]:\\\\)")]
    private static partial Regex MachinePath();
}
