using System.Globalization;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Notebooks;
using NotebookAttention.PageCheck;
using NotebookAttention.Pretrained;
using NotebookAttention.Recurrence;
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

    public static TheoryData<string> Notebooks() => [.. SeriesPrefixes()];

    /// <summary>The two-digit prefix of every notebook of the series, in order.</summary>
    public static IReadOnlyList<string> SeriesPrefixes() =>
        [.. new SeriesRunner(SeriesRunner.FindRoot()).Notebooks.Select(n => Path.GetFileName(n)[..2])];

    /// <summary>
    /// The notebooks that read the learner's sentence, with each of the four sentences. A notebook that never calls
    /// <c>Learner.Sentence(...)</c> (09 and 10 train on generated tasks) would run exactly as with its defaults, so it
    /// is left out here; <see cref="NotebookFilesTests"/> checks it says so to the learner.
    /// </summary>
    public static TheoryData<string, string> NotebooksAndSentences()
    {
        var data = new TheoryData<string, string>();
        foreach (var notebook in SeriesPrefixes().Where(TakesSentence))
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
    public void Notebook_runs_top_to_bottom_with_every_exercise_left_for_the_learner(string prefix)
    {
        var run = series.Run(prefix);
        AssertRan(run);
        var executed = NotebookFile.Load(run.ExecutedPath);
        var exercises = ExerciseLayout.Read(executed);
        var verdicts = executed.CodeCells.SelectMany(c => ExerciseLayout.Verdicts(Html(c))).ToList();
        Assert.Equal(Enumerable.Repeat("notanswered", exercises.Count), verdicts);
        foreach (var exercise in exercises)
        {
            Assert.Equal(["notanswered"], ExerciseLayout.Verdicts(Html((JsonObject)executed.Cells[exercise.AnswerCell]!)));
        }

        if (TakesSentence(prefix))
        {
            AssertShowsSentence(prefix, run, TypedSentence(prefix));
        }

        AssertWithinBudget(run);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Every_solution_passes_its_check_in_the_kernel(string prefix)
    {
        var (run, exercises) = series.RunWithSolutions(prefix);
        AssertRan(run);
        var executed = NotebookFile.Load(run.ExecutedPath);
        foreach (var exercise in exercises)
        {
            var verdicts = ExerciseLayout.Verdicts(Html((JsonObject)executed.Cells[exercise.AnswerCell]!));
            Assert.True(verdicts.SequenceEqual(["correct"]), $"the solution to exercise {exercise.Number} of {run.Name} showed [{string.Join(", ", verdicts)}], not one ✓");
        }
    }

    /// <summary>
    /// Notebook 07's parallelism conclusions follow from the numbers it printed: the report is rebuilt from the executed
    /// table (exact seconds in each cell, which must match the milliseconds shown) and must give the same sentences; the
    /// crossing and attention's speedup are also checked against the table directly.
    /// </summary>
    [Fact]
    public void Notebook_07_parallelism_conclusions_follow_from_its_printed_table()
    {
        var run = series.Run("07");
        AssertRan(run);
        var html = string.Concat(NotebookFile.Load(run.ExecutedPath).CodeCells.Select(Html));
        var table = ParallelismTable().Match(html);
        Assert.True(table.Success, "notebook 07 printed no parallelism table");
        var rows = RowOfTimes().Matches(table.Groups["rows"].Value).Select(row =>
        {
            var cells = TimeCell().Matches(row.Groups["cells"].Value);
            Assert.Equal(4, cells.Count);
            var seconds = cells.Select(c => double.Parse(c.Groups["seconds"].Value, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(seconds.Select(s => (s * 1e3).ToString("0.000", CultureInfo.InvariantCulture)), cells.Select(c => c.Groups["shown"].Value));
            return new ParallelismRow(int.Parse(row.Groups["n"].Value, CultureInfo.InvariantCulture), seconds[0], seconds[1], seconds[2], seconds[3]);
        }).ToList();
        Assert.True(rows.Count >= 2, $"notebook 07 measured {rows.Count} lengths");
        var printed = Sentence().Matches(table.Groups["conclusions"].Value).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
        var rebuilt = new ParallelismReport(rows, int.Parse(table.Groups["width"].Value, CultureInfo.InvariantCulture), int.Parse(table.Groups["cores"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(rebuilt.Conclusions, printed);

        var crossing = Crossing().Match(printed[0]);
        if (crossing.Success)
        {
            var from = int.Parse(crossing.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
            var confirming = rows.Where(r => r.N >= from).ToList();
            Assert.True(confirming.Count >= 2 && confirming.All(r => r.AttentionBest > r.RecurrentBest), $"notebook 07 says attention becomes slower at n = {from}, but its table does not show it slower there and at every longer length");
        }

        var speedup = rows[^1].AttentionOneCore / rows[^1].AttentionTwoCores;
        Assert.Contains($"x{speedup.ToString("0.00", CultureInfo.InvariantCulture)}", printed[1], StringComparison.Ordinal);
        var claimsGain = printed[1].StartsWith("Attention on 2 cores was x", StringComparison.Ordinal);
        Assert.Equal(rebuilt.Cores >= 2 && speedup >= ParallelismReport.GainThreshold && speedup <= ParallelismReport.MostTwoCoresGive, claimsGain);
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

    /// <summary>
    /// The page of each notebook is drawn offline within budget: with the long paragraph where the notebook reads a
    /// sentence (the heaviest pictures), with its own defaults where it does not.
    /// </summary>
    [ChromiumTheory]
    [MemberData(nameof(Notebooks))]
    public async Task Page_with_the_long_paragraph_where_a_sentence_applies_is_drawn_in_chromium_within_budget(string prefix)
    {
        var run = TakesSentence(prefix) ? series.Run(prefix, LongParagraph, "long-paragraph") : series.Run(prefix);
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

    /// <summary>Whether the notebook reads the learner's sentence: some code cell calls <c>Learner.Sentence(...)</c>.</summary>
    public static bool TakesSentence(string prefix)
    {
        var runner = new SeriesRunner(SeriesRunner.FindRoot());
        var notebook = runner.Notebooks.Single(n => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal));
        return NotebookFile.Load(notebook).CodeCells.Any(c => SentenceCall().IsMatch(NotebookFile.Source(c)));
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

    [GeneratedRegex("""<table class="na-table na-parallelism" data-width="(?<width>\d+)" data-cores="(?<cores>\d+)".*?<tbody>(?<rows>.*?)</tbody></table><ul class="na-conclusions"[^>]*>(?<conclusions>.*?)</ul>""", RegexOptions.Singleline)]
    private static partial Regex ParallelismTable();

    [GeneratedRegex("""<tr data-n="(?<n>\d+)">(?<cells>.*?)</tr>""", RegexOptions.Singleline)]
    private static partial Regex RowOfTimes();

    [GeneratedRegex("""data-seconds="(?<seconds>[^"]+)">(?<shown>[^<]+)</td>""")]
    private static partial Regex TimeCell();

    [GeneratedRegex("<li\\b[^>]*>(.*?)</li>", RegexOptions.Singleline)]
    private static partial Regex Sentence();

    [GeneratedRegex(@"^Attention becomes slower than the RNN at n = ([\d,]+):")]
    private static partial Regex Crossing();
}
