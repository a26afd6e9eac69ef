using System.Text.Json.Nodes;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>Every notebook runs top to bottom in the real .NET Interactive kernel (dotnet-repl), with several sentences.</summary>
[Collection(SeriesGroup.Name)]
public class KernelTests(SeriesFixture series)
{
    public const string Belarusian = "Увага да сябе дазваляе мадэлі ўзважваць словы";
    public const string SingleWord = "увага";

    private static readonly string Paragraph = File.ReadAllText(Path.Combine(SeriesRunner.FindRoot(), "data", "paragraph.en.txt")).Trim();

    public static TheoryData<string> Notebooks() =>
        [.. new SeriesRunner(SeriesRunner.FindRoot()).Notebooks.Select(n => Path.GetFileName(n)[..2])];

    public static TheoryData<string, string> NotebooksAndSentences()
    {
        var data = new TheoryData<string, string>();
        foreach (var notebook in Notebooks())
        {
            foreach (var kind in new[] { "belarusian", "single-word", "paragraph" })
            {
                data.Add(notebook, kind);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_runs_top_to_bottom_and_its_solutions_pass(string prefix)
    {
        var run = series.Run(prefix);
        AssertRan(run);
        var executed = NotebookFile.Load(run.ExecutedPath);
        // dotnet-repl drops cell tags from the executed notebook, so the solutions cell is found by its first line.
        var solution = executed.CodeCells.Single(c => NotebookFile.Source(c).StartsWith(NotebookFilesTests.SolutionsLine, StringComparison.Ordinal));
        var verdicts = Html(solution);
        Assert.DoesNotContain("na-wrong", verdicts, StringComparison.Ordinal);
        Assert.DoesNotContain("na-notanswered", verdicts, StringComparison.Ordinal);
        Assert.True(CountOf(verdicts, "na-correct") >= 2, $"the solutions of {run.Name} showed {CountOf(verdicts, "na-correct")} ✅");
    }

    [Theory]
    [MemberData(nameof(NotebooksAndSentences))]
    public void Notebook_runs_with_a_sentence_passed_in_from_outside(string prefix, string kind)
    {
        var sentence = kind switch
        {
            "belarusian" => Belarusian,
            "single-word" => SingleWord,
            _ => Paragraph,
        };
        var run = series.Run(prefix, sentence, kind);
        AssertRan(run);
        var html = string.Concat(NotebookFile.Load(run.ExecutedPath).CodeCells.Select(Html));
        if (kind == "belarusian" && prefix != "00")
        {
            Assert.Contains("ўзважваць", html, StringComparison.Ordinal);
        }
    }

    private static void AssertRan(NotebookRun run)
    {
        Assert.True(run.Succeeded, $"{run.Name} failed:\n{string.Join("\n", run.Errors.Select(e => $"cell {e.Cell}: {e.Message}"))}");
        var html = string.Concat(NotebookFile.Load(run.ExecutedPath).CodeCells.Select(Html));
        Assert.Contains("na-plotly-loader", html, StringComparison.Ordinal);
        Assert.True(CountOf(html, "class=\"na-chart\"") >= 1, $"{run.Name} drew no chart");
    }

    private static string Html(JsonObject cell) =>
        string.Concat((cell["outputs"] as JsonArray ?? []).OfType<JsonObject>().Select(o => NotebookFile.Text(o["data"]?["text/html"])));

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;
}
