using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Attention;
using NotebookAttention.Cost;
using NotebookAttention.Pretrained;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>Notebook 08's printed conclusions, rebuilt from the numbers it printed (kept apart so it merges easily).</summary>
public partial class KernelTests
{
    private static readonly Lazy<MiniLm> MiniLmModel = new(MiniLm.Load);

    [Fact]
    public void Notebook_08_it_probe_compares_one_head_across_both_sentences_and_its_findings_follow_from_its_table()
    {
        var printed = PrintedBy("08", "ReferentProbe.Run(");
        var rows = ProbeRow().Matches(printed).Select(m => m.Groups.Cast<Group>().Skip(1).Select(g => double.Parse(g.Value, CultureInfo.InvariantCulture)).ToArray())
            .GroupBy(v => (int)v[0]).Select(g => g.First()).OrderBy(v => v[0]).ToList();
        Assert.Equal([0, 1, 2, 3, 4, 5], rows.Select(r => (int)r[0]));
        Assert.Contains("Same head in both sentences: in each layer, the head that sends \"it\" the most weight to \"animal\" in the tired sentence", printed, StringComparison.Ordinal);

        // The printed table is the library's probe of the two sentences (heads and weights to 3 decimals).
        var tired = MiniLmModel.Value.Encode("The animal didn't cross the street because it was too tired.");
        var wide = MiniLmModel.Value.Encode("The animal didn't cross the street because it was too wide.");
        var probe = ReferentProbe.Run(tired, wide, "it", "animal", "street", "tired", "wide");
        foreach (var (row, printedRow) in probe.Rows.Zip(rows))
        {
            Assert.Equal(row.Head, (int)printedRow[1]);
            Assert.Equal([row.FirstToA, row.FirstToB, row.SecondToA, row.SecondToB], printedRow[2..], (a, b) => Math.Abs(a - b) <= 0.0005 + 1e-12);
        }

        // Each finding rebuilt from the printed numbers alone.
        var largest = rows.MaxBy(r => r[2] - r[4])!;
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"Largest difference: layer {largest[0]}, head {largest[1]} sends \"it\" {largest[2]:0.00} to \"animal\" in the tired sentence and {largest[4]:0.00} in the wide one."), printed, StringComparison.Ordinal);
        var switched = rows.Where(r => r[5] > r[4]).ToList();
        Assert.Equal(switched.Count == 0, printed.Contains("none switches over", StringComparison.Ordinal));
        var both = rows.Where(r => r[2] >= ReferentProbe.BothThreshold && r[4] >= ReferentProbe.BothThreshold).ToList();
        Assert.Equal(both.Select(r => (int)r[0]), BothLine().Matches(printed).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().Order());
        foreach (var r in both)
        {
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"Layer {r[0]}, head {r[1]} sends {r[2]:0.00} / {r[4]:0.00} to \"animal\" in both sentences"), printed, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Notebook_08_block_cost_sentence_follows_from_the_formulas_and_the_model_it_loads()
    {
        var printed = PrintedBy("08", "AttentionCost.CrossoverSummary(");
        var match = CrossoverLine().Match(printed);
        Assert.True(match.Success, printed);
        var (d, f) = (int.Parse(match.Groups["d"].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups["f"].Value, CultureInfo.InvariantCulture));
        var crossover = long.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
        var limit = long.Parse(match.Groups["limit"].Value, CultureInfo.InvariantCulture);
        var share = double.Parse(match.Groups["share"].Value, CultureInfo.InvariantCulture);
        Assert.Equal((2L * d) + f, crossover);                                  // 4n²d = 8nd² + 4ndf
        Assert.Equal((double)limit / (limit + crossover), share, 3);           // the core's share n / (n + 2d + f)
        Assert.Equal(limit < crossover, share < 0.5);
        Assert.Equal(limit < crossover, match.Groups["verdict"].Value.StartsWith("so in this model the projections and FFN cost more", StringComparison.Ordinal));
        Assert.Equal(MiniLmTokenizer.MaxTokens, limit);
        var model = PrintedBy("08", "MiniLm.Load()");
        Assert.Contains($"hidden size {d}, FFN width {f},", model, StringComparison.Ordinal);
    }

    [Fact]
    public void Notebook_08_special_token_line_is_measured_on_the_typed_sentence()
    {
        var printed = PrintedBy("08", "HeadTraits.SpecialTokenSummary(");
        var traits = MiniLmModel.Value.Encode(TypedSentence("08"), truncate: true).HeadTraits();
        Assert.Contains(HeadTraits.SpecialTokenSummary(traits), printed, StringComparison.Ordinal);
        Assert.All(traits, t => Assert.Equal(1.0, t.Shares.Sum(), 12));
        Assert.Contains(HeadTraits.ShareDefinition, printed, StringComparison.Ordinal);
    }

    /// <summary>The text (all formats, HTML decoded) that the code cell whose source contains <paramref name="call"/> printed.</summary>
    private string PrintedBy(string prefix, string call)
    {
        var run = series.Run(prefix);
        AssertRan(run);
        var cell = NotebookFile.Load(run.ExecutedPath).CodeCells.Single(c => NotebookFile.Source(c).Contains(call, StringComparison.Ordinal));
        return WebUtility.HtmlDecode(string.Concat((cell["outputs"] as JsonArray ?? []).OfType<JsonObject>()
            .SelectMany(o => (o["data"] as JsonObject ?? []).Select(d => NotebookFile.Text(d.Value)))));
    }

    [GeneratedRegex(@"^\s*(\d)\s+(\d+)\s+(\d\.\d{3})\s+(\d\.\d{3})\s+(\d\.\d{3})\s+(\d\.\d{3})\s*$", RegexOptions.Multiline)]
    private static partial Regex ProbeRow();

    [GeneratedRegex(@"Layer (\d), head \d+ sends [\d.]+ / [\d.]+ to ""animal"" in both sentences")]
    private static partial Regex BothLine();

    [GeneratedRegex(@"d_model = (?<d>\d+), FFN width (?<f>\d+): attention's core costs as much as the projections and FFN at n = (?<n>\d+); at the limit of (?<limit>\d+) tokens it is (?<share>[\d.]+) of a layer's FLOPs, (?<verdict>[^.]+)\.")]
    private static partial Regex CrossoverLine();
}
