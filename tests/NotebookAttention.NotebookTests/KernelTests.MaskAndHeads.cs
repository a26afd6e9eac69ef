using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;
using NotebookAttention.Tokens;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// Notebooks 04 and 05 (issue 11), checked in the executed notebooks: each printed conclusion is rebuilt from the numbers
/// of the table printed under it, and must also be what the library concludes from the notebook's own data.
/// </summary>
public partial class KernelTests
{
    private static readonly int[] HeadCounts = [1, 2, 4, 8, 16];

    [Fact]
    public void Notebook_04_says_what_its_padding_table_shows_keys_only_against_queries_and_keys()
    {
        var run = series.Run("04");
        AssertRan(run);
        var (title, rows) = PrintedTable(run, "PaddingConventions.Compare");

        // The notebook's batch, head and sentence, recomputed here.
        var sentences = new[] { TypedSentence("04"), DataLine("sentences.en.txt", 1), DataLine("sentences.be.txt", 5) };
        var batch = PaddedBatch.FromSentences(sentences, new Embeddings(dimension: 16, seed: 1), positions: true);
        var shortest = batch.ValidLengths.ToList().IndexOf(batch.ValidLengths.Min());
        var measured = PaddingConventions.Compare(new SelfAttention(dModel: 16, dK: 8, dV: 8, seed: 2), batch, shortest);
        Assert.Contains(measured.Conclusion, title, StringComparison.Ordinal);

        // The conclusion, rebuilt from the printed numbers alone.
        var padded = batch.PaddedLength - batch.ValidLengths[shortest];
        Assert.Equal(Math.Min(batch.ValidLengths[shortest], PaddingConventions.RowsShown) + Math.Min(padded, PaddingConventions.RowsShown), rows.Count);
        var real = rows.Where(r => r[0] == "real").ToList();
        var padding = rows.Where(r => r[0] == "padding").ToList();
        Assert.All(real, r => Assert.True(Number(r[5]) <= PaddingConventions.SameOutput, $"real row differs: {string.Join(" | ", r)}"));
        Assert.Contains("the same outputs under both masks", title, StringComparison.Ordinal);
        Assert.NotEmpty(padding);
        Assert.All(padding, r =>
        {
            Assert.Equal(0, Number(r[1]));
            Assert.Equal(0, Number(r[2]));
            Assert.Equal(1, Number(r[3]), 1e-4);
            Assert.True(Number(r[4]) > 0, string.Join(" | ", r));
        });
        Assert.Contains("they attend to nothing: weights and output 0", title, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"they attend to the {batch.ValidLengths[shortest]} real tokens: weights sum to 1"), title, StringComparison.Ordinal);
    }

    [Fact]
    public void Notebook_04_says_what_its_fully_masked_row_shows_empty_with_minus_infinity_uniform_with_the_fp32_minimum()
    {
        var run = series.Run("04");
        AssertRan(run);
        var (title, rows) = PrintedTable(run, "FullyMaskedRow.Of");

        var tokens = Tokenizer.Words(TypedSentence("04"));
        var x = PositionalEncoding.AddTo(new Embeddings(16, seed: 1).Embed(tokens));
        var blind = Mask.FromFunction(tokens.Count, tokens.Count, (query, _) => query != 0);
        var measured = FullyMaskedRow.Of(new SelfAttention(dModel: 16, dK: 8, dV: 8, seed: 2).Forward(x, blind, tokens: tokens), 0);
        Assert.Contains(measured.Conclusion, title, StringComparison.Ordinal);

        Assert.Equal(2, rows.Count);
        var empty = rows[0].Select(Number).ToList();   // weights of every key, then |output|
        var finite = rows[1].Select(Number).ToList();
        Assert.Equal(LongInput.Shown(tokens.Count) + 1, empty.Count);
        Assert.All(empty, value => Assert.Equal(0, value));
        Assert.Contains("With −∞ the row is empty", title, StringComparison.Ordinal);
        Assert.All(finite.Take(LongInput.Shown(tokens.Count)), w => Assert.Equal(1.0 / tokens.Count, w, 1e-4));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"the row is uniform: all {tokens.Count} weights are"), title, StringComparison.Ordinal);
    }

    [Fact]
    public void Notebook_05_says_what_its_parameter_table_shows_4_d_model_squared_for_every_h()
    {
        var run = series.Run("05");
        AssertRan(run);
        var (title, rows) = PrintedTable(run, "ParameterCounts.Of");

        var wide = new MultiHeadAttention(QkvProjections.Create(dModel: 16, dK: 24, dV: 24, seed: 5), LinearProjection.Create(24, 16, seed: 6), heads: 3);
        var layers = HeadCounts.Select(h => ($"h = {h}", new MultiHeadAttention(dModel: 16, heads: h, seed: 3))).ToList();
        layers.Add(("3 heads of 8", wide));
        Assert.Contains(ParameterCounts.Of(layers).Conclusion, title, StringComparison.Ordinal);

        // Columns: d_model, h, d_k per head, W_Q shape, W_O shape, parameters. Rebuild the counts from the printed shapes.
        Assert.Equal(6, rows.Count);
        foreach (var row in rows)
        {
            var dModel = (long)Number(row[0]);
            var (qRows, qColumns) = Shape(row[3]);
            var (oRows, oColumns) = Shape(row[4]);
            Assert.Equal(dModel, qRows);
            Assert.Equal((long)(Number(row[1]) * Number(row[2])), qColumns);
            Assert.Equal((3 * qRows * qColumns) + (oRows * oColumns), (long)Number(row[5]));
        }

        var split = rows.Where(r => Number(r[1]) * Number(r[2]) == Number(r[0])).ToList();
        Assert.Equal(5, split.Count);
        Assert.All(split, r => Assert.Equal(4 * Number(r[0]) * Number(r[0]), Number(r[5])));
        Assert.Contains("every layer has 4·d_model² = 1024 parameters, whatever h is.", title, StringComparison.Ordinal);
    }

    private static (string Title, List<List<string>> Rows) PrintedTable(NotebookRun run, string call)
    {
        var cell = NotebookFile.Load(run.ExecutedPath).CodeCells.Single(c => NotebookFile.Source(c).Contains(call, StringComparison.Ordinal));
        var html = Html(cell);
        var title = WebUtility.HtmlDecode(TableTitle().Match(html).Groups[1].Value);
        var body = TableBody().Match(html).Groups[1].Value;
        var rows = TableRow().Matches(body)
            .Select(row => TableCell().Matches(row.Groups[1].Value).Select(c => WebUtility.HtmlDecode(c.Groups[1].Value)).ToList())
            .ToList();
        Assert.False(string.IsNullOrEmpty(title), $"no table title printed by the cell calling {call}");
        return (title, rows);
    }

    private static string DataLine(string file, int line) => File.ReadAllLines(Path.Combine(SeriesRunner.FindRoot(), "data", file))[line];

    private static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static (long Rows, long Columns) Shape(string text)
    {
        var match = ShapeText().Match(text);
        Assert.True(match.Success, $"not a shape: {text}");
        return (long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex("""^<div style="font:13px sans-serif;margin:2px 0 6px">(.*?)</div>""", RegexOptions.Singleline)]
    private static partial Regex TableTitle();

    [GeneratedRegex("<tbody>(.*?)</tbody>", RegexOptions.Singleline)]
    private static partial Regex TableBody();

    [GeneratedRegex("<tr>(.*?)</tr>", RegexOptions.Singleline)]
    private static partial Regex TableRow();

    [GeneratedRegex("<td[^>]*>(.*?)</td>", RegexOptions.Singleline)]
    private static partial Regex TableCell();

    [GeneratedRegex(@"^\[(\d+) x (\d+)\]$")]
    private static partial Regex ShapeText();
}
