using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;
using NotebookAttention.Tokens;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// Notebook 06's walk through the online softmax, checked in the executed notebook: every line of the printed table
/// follows from the numbers printed on it and above it (m, the rescale factor, l), the table is the trace of the
/// notebook's sentence, and the verdict "equal" follows from the printed largest differences.
/// </summary>
public partial class KernelTests
{
    [Fact]
    public void Notebook_06_online_softmax_table_follows_from_its_printed_numbers_and_the_tiled_output_equals_the_reference()
    {
        var run = series.Run("06");
        AssertRan(run);
        var cells = NotebookFile.Load(run.ExecutedPath).CodeCells.ToList();
        var table = PlainText(cells.Single(c => NotebookFile.Source(c).Contains("OnlineSoftmaxView.Steps(", StringComparison.Ordinal)));
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = Regex.Match(lines[0], @"^query (\d+) .*, keys in blocks of (\d+):$");
        Assert.True(header.Success, table);
        var (query, blockSize) = (int.Parse(header.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(header.Groups[2].Value, CultureInfo.InvariantCulture));

        // Each block line, rebuilt from its own printed numbers and the line above: scores have 4 decimals (each off by
        // at most 5e-5, so each e^(s - m) by a factor within e^(±1e-4)), rescale and l 6 decimals (5e-7).
        var rows = lines.Skip(2).TakeWhile(l => Regex.IsMatch(l, @"^\d+\s")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.True(rows.Count >= 2, $"notebook 06 traced {rows.Count} blocks; the walk needs at least two:\n{table}");
        var previousMax = double.NegativeInfinity;
        var previousSum = 0.0;
        foreach (var row in rows)
        {
            var (blockMax, before, after, rescale, sum) = (Read(row[2]), Read(row[3]), Read(row[4]), Read(row[5]), Read(row[6]));
            var scores = row.Skip(7).TakeWhile(s => !s.StartsWith('(')).Select(Read).ToList();
            Assert.Equal(previousMax, before);
            Assert.Equal(Math.Max(before, blockMax), after);
            Assert.Equal(scores.Max(), blockMax);
            var factor = double.IsNegativeInfinity(before) ? 0.0 : Math.Exp(before - after);   // e^(m_old - m_new), read from the printed maxima
            Assert.True(Math.Abs(rescale - factor) <= (factor * 2e-4) + 5e-7, $"block {row[0]}: rescale {rescale} but e^({before} - {after}) = {factor}\n{table}");
            if (!row.Any(s => s.StartsWith("(+", StringComparison.Ordinal)))
            {
                var expected = (factor * previousSum) + scores.Sum(s => Math.Exp(s - after));   // l = c l_old + sum e^(s - m_new)
                Assert.True(Math.Abs(sum - expected) <= (expected * 3e-4) + 2e-6, $"block {row[0]}: l = {sum} but the printed numbers give {expected}\n{table}");
            }

            (previousMax, previousSum) = (after, sum);
        }

        // The table is the trace of the notebook's own sentence and head (its seeds), recomputed here.
        var tokens = Tokenizer.Words(TypedSentence("06"));
        var x = PositionalEncoding.AddTo(new Embeddings(dimension: 16, seed: 1).Embed(tokens));
        var (q, k, v) = QkvProjections.Create(dModel: 16, dK: 8, dV: 8, seed: 2).Project(x);
        var reference = ScaledDotProductAttention.Compute(q, k, v);
        var recomputed = OnlineSoftmaxView.Steps(TiledAttention.Trace(q, k, v, query, blockSize), tokens, reference).Split('\n');
        Assert.Equal(recomputed.Take(2 + rows.Count), lines.Take(2 + rows.Count));

        // The last line: final m and l are the last block's, and the printed differences from the reference are within fp64 rounding.
        var last = lines[2 + rows.Count];
        Assert.StartsWith($"after the last block: m = {rows[^1][4]}, l = {rows[^1][6]};", last, StringComparison.Ordinal);
        var differences = Regex.Matches(last, @"largest difference (\S+?)[;:]?(?:\s|$)").Select(m => Read(m.Groups[1].Value)).ToList();
        Assert.Equal(2, differences.Count);
        Assert.All(differences, d => Assert.InRange(d, 0, OnlineSoftmaxView.Tolerance));

        // The whole sentence: the verdict printed is the one its two printed differences give, and it says equal.
        var comparison = PlainText(cells.Single(c => NotebookFile.Source(c).TrimStart().StartsWith("OnlineSoftmaxView.CompareWithReference(", StringComparison.Ordinal)));
        var both = Regex.Matches(comparison, @"(\S+) with(?:out a| the causal) mask").Select(m => Read(m.Groups[1].Value)).ToList();
        Assert.Equal(2, both.Count);
        Assert.EndsWith(OnlineSoftmaxView.Verdict(both[0], both[1]), comparison.TrimEnd(), StringComparison.Ordinal);
        Assert.True(both.All(d => d <= OnlineSoftmaxView.Tolerance), comparison);
        Assert.Contains($"blocks of {blockSize} keys", comparison, StringComparison.Ordinal);
    }

    private static double Read(string printed) =>
        printed == "-inf" ? double.NegativeInfinity : double.Parse(printed, CultureInfo.InvariantCulture);

    private static string PlainText(JsonObject cell) =>
        string.Concat((cell["outputs"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(o => (o["data"] as JsonObject)?["text/plain"]).Select(NotebookFile.Text)).Replace("\r", string.Empty, StringComparison.Ordinal);
}
