using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Notebooks;
using NotebookAttention.PageCheck;
using NotebookAttention.Pretrained;
using NotebookAttention.Runner;
using NotebookAttention.Tokens;

namespace NotebookAttention.NotebookTests;

/// <summary>Every notebook runs top to bottom in the real .NET Interactive kernel (dotnet-repl), with several sentences.</summary>
[Collection(SeriesGroup.Name)]
public partial class KernelTests(SeriesFixture series)
{
    public const string Belarusian = "Увага да сябе дазваляе мадэлі ўзважваць словы";
    public const string SingleWord = "увага";

    /// <summary>An executed notebook may take at most this many bytes, plotly.js loader included, for any sentence.</summary>
    public const long NotebookBudgetBytes = 10_000_000;

    /// <summary>Seconds headless Chromium may take from navigation until every chart of a page is drawn.</summary>
    public const double PageBudgetSeconds = 10;

    /// <summary>Tokens at the start of the sentence that every notebook's pictures must show in order.</summary>
    private const int LeadingTokens = 32;

    private static readonly string Paragraph = File.ReadAllText(Path.Combine(SeriesRunner.FindRoot(), "data", "paragraph.en.txt")).Trim();

    private static readonly string LongParagraph = File.ReadAllText(Path.Combine(SeriesRunner.FindRoot(), "data", "paragraph-long.en.txt")).Trim();

    private static readonly JsonSerializerOptions PlotlyJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly Lazy<MiniLmTokenizer> Pieces = new(MiniLmTokenizer.Load);

    public static TheoryData<string> Notebooks() =>
        [.. new SeriesRunner(SeriesRunner.FindRoot()).Notebooks.Select(n => Path.GetFileName(n)[..2])];

    public static TheoryData<string, string> NotebooksAndSentences()
    {
        var data = new TheoryData<string, string>();
        foreach (var notebook in Notebooks())
        {
            foreach (var kind in new[] { "belarusian", "single-word", "paragraph", "long-paragraph" })
            {
                data.Add(notebook, kind);
            }
        }

        return data;
    }

    [Fact]
    public void The_long_paragraph_has_at_least_1000_words()
    {
        var words = LongParagraph.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.True(words >= 1000, $"data/paragraph-long.en.txt has {words} words");
        Assert.True(Tokenizer.Words(LongParagraph).Count > 2 * LongInput.TokensShown, "the long paragraph must be long enough for every picture to be cut");
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
        AssertShowsSentence(prefix, run, TypedSentence(prefix));
        AssertWithinBudget(run);
    }

    [Theory]
    [MemberData(nameof(NotebooksAndSentences))]
    public void Notebook_runs_with_a_sentence_passed_in_from_outside_shows_it_and_stays_small(string prefix, string kind)
    {
        var sentence = kind switch
        {
            "belarusian" => Belarusian,
            "single-word" => SingleWord,
            "paragraph" => Paragraph,
            _ => LongParagraph,
        };
        var run = series.Run(prefix, sentence, kind);
        AssertRan(run);
        AssertShowsSentence(prefix, run, sentence);
        AssertWithinBudget(run);
    }

    [ChromiumTheory]
    [MemberData(nameof(Notebooks))]
    public async Task Page_of_the_long_paragraph_is_drawn_in_chromium_within_budget(string prefix)
    {
        var run = series.Run(prefix, LongParagraph, "long-paragraph");
        AssertRan(run);
        var report = await series.CheckPageAsync(run, PageBudgetSeconds);
        Assert.True(report.Passed, report.ToString());
    }

    /// <summary>
    /// The notebook's pictures name the sentence's first tokens in order (as the tick labels of a chart): the learner's
    /// words, not the default sentence. Notebook 08 shows the model's word pieces, [CLS] first.
    /// </summary>
    private static void AssertShowsSentence(string prefix, NotebookRun run, string sentence)
    {
        IReadOnlyList<string> tokens = prefix == "08" ? Pieces.Value.Encode(sentence, truncate: true).Tokens : Tokenizer.Words(sentence);
        var leading = tokens.Take(LeadingTokens).Select(LongInput.Label).ToList();
        var ticks = "\"ticktext\":" + JsonSerializer.Serialize(leading, PlotlyJson)[..^1];
        var html = string.Concat(NotebookFile.Load(run.ExecutedPath).CodeCells.Select(Html));
        Assert.True(html.Contains(ticks, StringComparison.Ordinal), $"{run.Name} shows no chart labelled with the sentence's first {leading.Count} tokens: {ticks}");
    }

    private static void AssertWithinBudget(NotebookRun run)
    {
        var bytes = new FileInfo(run.ExecutedPath).Length;
        Assert.True(bytes <= NotebookBudgetBytes, $"{run.Name} is {bytes / 1e6:0.00} MB executed; at most {NotebookBudgetBytes / 1e6:0} MB");
    }

    private string TypedSentence(string prefix)
    {
        var notebook = series.Runner.Notebooks.Single(n => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal));
        var typed = NotebookFile.Load(notebook).CodeCells.Select(c => SentenceCall().Match(NotebookFile.Source(c))).Single(m => m.Success);
        return Regex.Unescape(typed.Groups[1].Value);
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

    [GeneratedRegex("""Learner\.Sentence\("((?:[^"\\]|\\.)*)"\)""")]
    private static partial Regex SentenceCall();
}
