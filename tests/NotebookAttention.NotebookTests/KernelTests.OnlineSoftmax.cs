using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;
using NotebookAttention.Tokens;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// Notebook 06's walk through the online softmax, checked in the executed notebook: every line of the printed table
/// follows from the numbers printed on it and above it (m, the rescale factor, the block sum, l), for the open row and
/// for a causal row whose later blocks are fully masked; each table is the trace of the notebook's sentence, and the
/// verdicts "equal" follow from the printed largest differences and the printed fp64 bounds, which are the derived ones.
/// </summary>
public partial class KernelTests
{
    [Fact]
    public void Notebook_06_online_softmax_table_follows_from_its_printed_numbers_and_the_tiled_output_equals_the_reference()
    {
        var run = series.Run("06");
        AssertRan(run);
        var cells = NotebookFile.Load(run.ExecutedPath).CodeCells.ToList();
        var tables = cells.Where(c => NotebookFile.Source(c).Contains("OnlineSoftmaxView.Steps(", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, tables.Count);   // the open row, then a causal row

        // The tables are the traces of the notebook's own sentence and head (its seeds), recomputed here.
        var tokens = Tokenizer.Words(TypedSentence("06"));
        var x = PositionalEncoding.AddTo(new Embeddings(dimension: 16, seed: 1).Embed(tokens));
        var (q, k, v) = QkvProjections.Create(dModel: 16, dK: 8, dV: 8, seed: 2).Project(x);
        var blockSize = CheckTable(PlainText(tables[0]), tokens, q, k, v, mask: null);
        var causal = Mask.Causal(tokens.Count);
        var causalBlockSize = CheckTable(PlainText(tables[1]), tokens, q, k, v, causal);
        Assert.Equal(blockSize, causalBlockSize);
        var causalQuery = Math.Min(1, tokens.Count - 1);
        Assert.StartsWith($"query {causalQuery} ", PlainText(tables[1]), StringComparison.Ordinal);

        // The whole sentence: the verdict printed is the one its two printed differences and printed bound give, it says
        // equal, and the printed bound is the one derived for these inputs.
        var comparison = PlainText(cells.Single(c => NotebookFile.Source(c).TrimStart().StartsWith("OnlineSoftmaxView.CompareWithReference(", StringComparison.Ordinal)));
        var both = Regex.Matches(comparison, @"(\S+) with(?:out a| the causal) mask").Select(m => Read(m.Groups[1].Value)).ToList();
        var bound = Regex.Match(comparison, @"fp64 rounding bound for these inputs (\S+):");
        Assert.Equal(2, both.Count);
        Assert.True(bound.Success, comparison);
        var printedBound = Read(bound.Groups[1].Value);
        var derived = TiledAttention.RoundingBound(q, k, v, blockSize);
        Assert.True(Math.Abs(printedBound - derived) <= 5e-3 * derived, $"printed bound {printedBound} but the inputs give {derived:E2}");
        Assert.EndsWith(OnlineSoftmaxView.Verdict(both[0], both[1], printedBound), comparison.TrimEnd(), StringComparison.Ordinal);
        Assert.True(both.All(d => d <= printedBound), comparison);
        Assert.Contains($"blocks of {blockSize} keys", comparison, StringComparison.Ordinal);
    }

    /// <summary>
    /// Checks one printed trace table: every block line follows from its own printed numbers and the line above, the
    /// table is the trace recomputed from <paramref name="tokens"/>, <paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/> and
    /// <paramref name="mask"/>, and the last line's differences are within the bounds it prints, which are the derived
    /// ones. Returns the block size the table states.
    /// </summary>
    private static int CheckTable(string table, IReadOnlyList<string> tokens, Matrix<double> q, Matrix<double> k, Matrix<double> v, Mask? mask)
    {
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = Regex.Match(lines[0], @"^query (\d+) .*, keys in blocks of (\d+):$");
        Assert.True(header.Success, table);
        var (query, blockSize) = (int.Parse(header.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(header.Groups[2].Value, CultureInfo.InvariantCulture));

        // Each block line, rebuilt from its own printed numbers and the line above: scores have 4 decimals (each off by
        // at most 5e-5, so each e^(s - m) by a factor within e^(±1e-4)), rescale, block sum and l 6 decimals (5e-7).
        // Columns: block, keys, block max, m before, m after, rescale, block sum, l after, scores.
        var rows = lines.Skip(2).TakeWhile(l => Regex.IsMatch(l, @"^\d+\s")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.True(rows.Count >= 2, $"notebook 06 traced {rows.Count} blocks; the walk needs at least two:\n{table}");
        var previousMax = double.NegativeInfinity;
        var previousSum = 0.0;
        foreach (var row in rows)
        {
            var (blockMax, before, after, rescale, blockSum, sum) = (Read(row[2]), Read(row[3]), Read(row[4]), Read(row[5]), Read(row[6]), Read(row[7]));
            var complete = !row.Any(s => s.StartsWith("(+", StringComparison.Ordinal));   // every score of the block printed
            var scores = row.Skip(8).TakeWhile(s => !s.StartsWith('(')).Select(Read).ToList();
            Assert.Equal(previousMax, before);
            Assert.Equal(Math.Max(before, blockMax), after);
            Assert.True(complete ? scores.Max() == blockMax : scores.Max() <= blockMax, $"block {row[0]}: block max {blockMax}, printed scores up to {scores.Max()}\n{table}");

            // e^(m_old - m_new) from the printed maxima: 1 while no allowed key was seen (both -inf), 0 for the first
            // allowed block (m_old = -inf), else the exponential.
            var factor = double.IsNegativeInfinity(after) ? 1.0 : double.IsNegativeInfinity(before) ? 0.0 : Math.Exp(before - after);
            Assert.True(Math.Abs(rescale - factor) <= (factor * 2e-4) + 5e-7, $"block {row[0]}: rescale {rescale} but e^({before} - {after}) = {factor}\n{table}");
            if (complete)
            {
                var expectedBlockSum = double.IsNegativeInfinity(after) ? 0.0 : scores.Sum(s => Math.Exp(s - after));   // rowsum e^(s - m_new)
                Assert.True(Math.Abs(blockSum - expectedBlockSum) <= (expectedBlockSum * 3e-4) + 5e-7, $"block {row[0]}: block sum {blockSum} but its printed scores give {expectedBlockSum}\n{table}");
            }

            var expected = (factor * previousSum) + blockSum;   // l = c l_old + block sum
            Assert.True(Math.Abs(sum - expected) <= (expected * 3e-4) + 2e-6, $"block {row[0]}: l = {sum} but the printed numbers give {expected}\n{table}");
            (previousMax, previousSum) = (after, sum);
        }

        var reference = ScaledDotProductAttention.Compute(q, k, v, mask);
        var recomputed = OnlineSoftmaxView.Steps(TiledAttention.Trace(q, k, v, query, blockSize, mask), tokens, reference).Split('\n');
        Assert.Equal(recomputed.Take(2 + rows.Count), lines.Take(2 + rows.Count));

        // The last line: final m and l are the last block's, and the printed differences from the reference are within
        // the printed fp64 bounds (for the weights: V replaced by ones), which are the derived ones.
        var last = lines[2 + rows.Count];
        Assert.StartsWith($"after the last block: m = {rows[^1][4]}, l = {rows[^1][7]};", last, StringComparison.Ordinal);
        var checks = Regex.Matches(last, @"largest difference (\S+) \(fp64 bound ([^)]+)\)").Select(m => (Difference: Read(m.Groups[1].Value), Bound: Read(m.Groups[2].Value))).ToList();
        Assert.Equal(2, checks.Count);
        var ones = Matrix<double>.Build.Dense(k.RowCount, 1, 1.0);
        var derived = new[] { TiledAttention.RoundingBound(q, k, ones, blockSize), TiledAttention.RoundingBound(q, k, v, blockSize) };
        for (var i = 0; i < 2; i++)
        {
            Assert.True(checks[i].Difference <= checks[i].Bound, $"printed difference {checks[i].Difference} above its printed bound {checks[i].Bound}\n{last}");
            Assert.True(Math.Abs(checks[i].Bound - derived[i]) <= 5e-3 * derived[i], $"printed bound {checks[i].Bound} but the inputs give {derived[i]:E2}");
        }

        return blockSize;
    }

    private static double Read(string printed) =>
        printed == "-inf" ? double.NegativeInfinity : double.Parse(printed, CultureInfo.InvariantCulture);

    private static string PlainText(JsonObject cell) =>
        string.Concat((cell["outputs"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(o => (o["data"] as JsonObject)?["text/plain"]).Select(NotebookFile.Text)).Replace("\r", string.Empty, StringComparison.Ordinal);
}
