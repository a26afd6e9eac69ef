using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Batches;
using NotebookAttention.Runner;
using NotebookAttention.Tokens;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// Notebooks 03, 04 and 05 write their equation out by hand in cells and compare it with the library (issue 13): the
/// largest differences they print must be within <see cref="ByHandBound"/>, read from the executed notebooks.
/// </summary>
public partial class KernelTests
{
    /// <summary>
    /// How far, over every entry in fp64, the by-hand computation may be from the library's: the same sums in another
    /// order differ in the last bits (about 1e-16 relative on entries of order 1), far below this.
    /// </summary>
    public const double ByHandBound = 1e-12;

    [Theory]
    [InlineData("03", 1)]
    [InlineData("04", 2)]
    [InlineData("05", 1)]
    public void Notebook_prints_how_far_its_by_hand_equation_is_from_the_library_within_1e_12(string prefix, int checks)
    {
        var printed = ByHandDifferences(prefix);

        // The checks see NaN: a cell that stops on a difference computes it with Differences.Largest (NaN when any entry
        // is NaN or infinite; Enumerable.Max skips NaN) and stops unless it is <= allowed (NaN > allowed is false).
        var guards = NotebookFile.Load(series.Run(prefix).ExecutedPath).CodeCells.Select(NotebookFile.Source).Where(s => s.Contains("throw new InvalidOperationException", StringComparison.Ordinal)).ToList();
        Assert.Equal(checks, guards.Count);
        Assert.All(guards, s => Assert.Matches(@"Differences\.Largest\(", s));
        Assert.All(guards, s => Assert.Matches(@"if \(!\(\w+ <= allowed\)\) throw", s));
        Assert.All(guards, s => Assert.DoesNotContain("Max(Math.Abs)", s, StringComparison.Ordinal));
        Assert.Equal(checks, printed.Count);
        Assert.All(printed, p => Assert.Equal(ByHandBound, p.Allowed));   // the tolerance the notebook printed is the one it checked
        Assert.All(printed, p => Assert.True(p.Difference <= ByHandBound, $"notebook {prefix}: largest difference{p.What} is {p.Difference:E2}, more than {ByHandBound:E0}"));
    }

    [Fact]
    public void Notebook_04_masks_by_hand_before_the_library_and_its_padding_rows_attend_to_nothing()
    {
        var run = series.Run("04");
        AssertRan(run);
        var sources = NotebookFile.Load(run.ExecutedPath).CodeCells.Select(NotebookFile.Source).ToList();
        var byHand = sources.FindIndex(s => s.Contains("double.NegativeInfinity", StringComparison.Ordinal) && s.Contains("batch.PaddingMask(0)", StringComparison.Ordinal));
        var library = sources.FindIndex(s => s.Contains("head.Forward(", StringComparison.Ordinal));
        Assert.True(byHand >= 0 && byHand < library, $"the mask by hand is in code cell {byHand}, the first head.Forward in code cell {library}: the equation comes first");

        var sentences = new[] { TypedSentence("04"), DataLine("sentences.en.txt", 1), DataLine("sentences.be.txt", 5) };
        var batch = PaddedBatch.FromSentences(sentences, new Embeddings(dimension: 16, seed: 1), positions: true);
        var line = PaddingRowsLine().Match(PrintedTexts(run));
        Assert.True(line.Success, "notebook 04 printed no line about the padding rows of the sentence masked by hand");
        Assert.Equal(batch.PaddedLength - batch.ValidLengths[0], int.Parse(line.Groups["rows"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(0, double.Parse(line.Groups["largest"].Value, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    private List<(string What, double Difference, double Allowed)> ByHandDifferences(string prefix)
    {
        var run = series.Run(prefix);
        AssertRan(run);
        return [.. ByHandLine().Matches(PrintedTexts(run))
            .Select(m => (m.Groups["what"].Value, double.Parse(m.Groups["difference"].Value, NumberStyles.Float, CultureInfo.InvariantCulture), double.Parse(m.Groups["allowed"].Value, NumberStyles.Float, CultureInfo.InvariantCulture)))];
    }

    private static string PrintedTexts(NotebookRun run) =>
        string.Join("\n", NotebookFile.Load(run.ExecutedPath).CodeCells
            .SelectMany(c => (c["outputs"] as JsonArray ?? []).OfType<JsonObject>())
            .Select(o => NotebookFile.Text((o["data"] as JsonObject)?["text/plain"])));

    [GeneratedRegex(@"largest difference(?<what>[^:\n]*): (?<difference>[-+0-9.E]+|NaN|∞|-∞) \(allowed: (?<allowed>[-+0-9.E]+)\)")]
    private static partial Regex ByHandLine();

    [GeneratedRegex(@"padding rows of your sentence: (?<rows>\d+); largest \|weight\| or \|output\| in them, by hand: (?<largest>\S+)")]
    private static partial Regex PaddingRowsLine();
}
