using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Analysis;
using NotebookAttention.Cost;
using NotebookAttention.Pretrained;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>Notebook 08's printed conclusions, rebuilt from the numbers it printed (kept apart so it merges easily).</summary>
public partial class KernelTests
{
    private static readonly Lazy<MiniLm> MiniLmModel = new(MiniLm.Load);

    [Fact]
    public void Notebook_08_it_probe_scans_every_head_by_a_rule_fixed_in_advance_and_its_findings_follow_from_its_tables()
    {
        var printed = PrintedBy("08", "ReferentProbe.Run(");
        var sections = printed.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        // The report may be printed in more than one format (plain text and HTML): read the first copy of each section.
        var scan = sections.First(s => s.Contains("All 72 heads, one rule fixed in advance: a head follows the referent when \"it\" sends more weight to \"animal\" than to \"street\" in the tired sentence, more to \"street\" than to \"animal\" in the wide sentence, and the larger weight is at least 0.05 in each.", StringComparison.Ordinal));
        var chosen = sections.First(s => s.StartsWith("Same head in both sentences: in each layer, the head that sends \"it\" the most weight to \"animal\" in the tired sentence", StringComparison.Ordinal));
        var mirror = sections.First(s => s.StartsWith("Mirror rule: in each layer, the head that sends \"it\" the most weight to \"street\" in the wide sentence", StringComparison.Ordinal));

        // The scan, rebuilt from its printed rows: each listed head flips (more to animal in tired, more to street in
        // wide), "yes" exactly when both preferred weights reach the threshold, and the count lines match the rows.
        var flips = Rows(scan);
        var verdicts = ScanVerdict().Matches(scan).Select(m => m.Groups[1].Value == "yes").ToList();
        Assert.Equal(flips.Count, verdicts.Count);
        Assert.All(flips, r => Assert.True(r[2] > r[3] - 0.0005 && r[5] > r[4] - 0.0005, string.Join(" ", r)));
        foreach (var (r, follows) in flips.Zip(verdicts))
        {
            if (Math.Abs(r[2] - ReferentProbe.MinimumWeight) > 0.0005 && Math.Abs(r[5] - ReferentProbe.MinimumWeight) > 0.0005)
            {
                Assert.Equal(r[2] >= ReferentProbe.MinimumWeight && r[5] >= ReferentProbe.MinimumWeight, follows);
            }
        }

        var followers = flips.Zip(verdicts).Where(p => p.Second).Select(p => $"layer {(int)p.First[0]}, head {(int)p.First[1]}").ToList();
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{flips.Count} of 72 heads flip their preference between the sentences; by the rule, {followers.Count} of them {(followers.Count == 1 ? "follows" : "follow")} the referent."), scan, StringComparison.Ordinal);
        Assert.Contains(followers.Count == 0 ? "No head follows the referent by this rule" : $"Following the referent: {string.Join("; ", followers)}.", scan, StringComparison.Ordinal);

        // The scan and both tables are the library's probe of the two sentences: no flipping head is left out.
        var tired = MiniLmModel.Value.Encode("The animal didn't cross the street because it was too tired.");
        var wide = MiniLmModel.Value.Encode("The animal didn't cross the street because it was too wide.");
        var probe = ReferentProbe.Run(tired, wide, "it", "animal", "street", "tired", "wide");
        AssertSameRows(probe.AllHeads.Where(r => r.Flips), flips);
        AssertSameRows(probe.Rows, Rows(chosen));
        AssertSameRows(probe.MirrorRows, Rows(mirror));

        // Each table's findings, rebuilt from its printed numbers alone.
        foreach (var (table, isMirror) in new[] { (chosen, false), (mirror, true) })
        {
            var rows = Rows(table);
            Assert.Equal([0, 1, 2, 3, 4, 5], rows.Select(r => (int)r[0]));
            if (!isMirror)
            {
                var drop = rows.MaxBy(r => r[2] - r[4])!;
                Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"Largest drop: layer {drop[0]}, head {drop[1]} sends \"it\" {drop[2]:0.00} to \"animal\" in the tired sentence and {drop[4]:0.00} in the wide one."), table, StringComparison.Ordinal);
            }
            else
            {
                var rise = rows.MaxBy(r => r[5] - r[3])!;
                Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"Largest rise: layer {rise[0]}, head {rise[1]} sends \"it\" {rise[3]:0.00} to \"street\" in the tired sentence and {rise[5]:0.00} in the wide one."), table, StringComparison.Ordinal);
            }

            var flipped = rows.Where(r => r[2] > r[3] && r[5] > r[4]).Select(r => (int)r[0]).ToList();
            Assert.Contains(flipped.Count == 0 ? "In no layer does the chosen head's preference flip" : $"flips between the sentences in layer(s) {string.Join(", ", flipped)}.", table, StringComparison.Ordinal);
            var both = rows.Where(r => r[2] >= ReferentProbe.BothThreshold && r[4] >= ReferentProbe.BothThreshold).ToList();
            Assert.Equal(both.Select(r => (int)r[0]), BothLine().Matches(table).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
            foreach (var r in both)
            {
                Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"Layer {r[0]}, head {r[1]} sends {r[2]:0.00} / {r[4]:0.00} to \"animal\" in both sentences"), table, StringComparison.Ordinal);
            }
        }

        // The mean-over-heads lines above the charts: the library's sentence, and each piece it names per layer is the
        // one with the largest mean weight from "it", at the weight printed.
        var means = PrintedBy("08", "ReferentProbe.MeanSummary(");
        foreach (var (sentence, label) in new[] { (tired, "tired"), (wide, "wide") })
        {
            var line = ReferentProbe.MeanSummary(sentence, "it", "animal", "street", label);
            Assert.Contains(line, means, StringComparison.Ordinal);
            var fromIt = sentence.AttentionFrom(sentence.Position("it"));
            var named = MeanTop().Matches(line[..line.IndexOf(';', StringComparison.Ordinal)]).ToList();
            Assert.Equal(6, named.Count);
            foreach (var m in named)
            {
                var layer = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                var top = Enumerable.Range(0, fromIt.ColumnCount).MaxBy(k => fromIt[layer, k]);
                Assert.Equal(sentence.Tokens[top], m.Groups[2].Value);
                Assert.True(Math.Abs(fromIt[layer, top] - double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)) <= 0.005 + 1e-12, m.Value);
            }
        }
    }

    private static List<double[]> Rows(string section) =>
        [.. ProbeRow().Matches(section).Select(m => m.Groups.Cast<Group>().Skip(1).Take(6).Select(g => double.Parse(g.Value, CultureInfo.InvariantCulture)).ToArray())];

    private static void AssertSameRows(IEnumerable<ReferentProbeRow> expected, IReadOnlyList<double[]> printed)
    {
        var rows = expected.ToList();
        Assert.Equal(rows.Select(r => (r.Layer, r.Head)), printed.Select(p => ((int)p[0], (int)p[1])));
        foreach (var (row, p) in rows.Zip(printed))
        {
            Assert.Equal([row.FirstToA, row.FirstToB, row.SecondToA, row.SecondToB], p[2..], (a, b) => Math.Abs(a - b) <= 0.0005 + 1e-12);
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
        Assert.Equal(limit < crossover, match.Groups["verdict"].Value.StartsWith("so in this model the projections and FFN take more FLOPs", StringComparison.Ordinal));
        foreach (Match row in BlockCostRow().Matches(Regex.Replace(printed, " style=\"[^\"]*\"", string.Empty)))
        {
            var n = int.Parse(row.Groups["n"].Value, CultureInfo.InvariantCulture);
            Assert.Equal(n > MiniLmTokenizer.PositionLimit, row.Groups["fits"].Value.StartsWith("no: hypothetical", StringComparison.Ordinal));
        }

        Assert.Equal([16, 128, 256, 2304, 4096], BlockCostRow().Matches(Regex.Replace(printed, " style=\"[^\"]*\"", string.Empty)).Select(m => int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture)).Distinct());
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

        // Which special piece the sentence names follows from the two mean shares it prints.
        var sink = SinkLine().Match(printed);
        Assert.True(sink.Success, printed);
        var (cls, sep) = (double.Parse(sink.Groups["cls"].Value, CultureInfo.InvariantCulture), double.Parse(sink.Groups["sep"].Value, CultureInfo.InvariantCulture));
        Assert.NotEqual(cls, sep);
        Assert.Equal(cls > sep, sink.Groups["verdict"].Value.StartsWith("so here the heads park their weight on [CLS], not on [SEP] as Clark et", StringComparison.Ordinal));
        Assert.Equal(sep > cls, sink.Groups["verdict"].Value.StartsWith("so here the heads park more weight on [SEP] than on [CLS]", StringComparison.Ordinal));
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

    [GeneratedRegex(@"^\s*(\d)\s+(\d+)\s+(\d\.\d{3})\s+(\d\.\d{3})\s+(\d\.\d{3})\s+(\d\.\d{3})(?:\s+(yes|no \(below [\d.]+\)))?\s*$", RegexOptions.Multiline)]
    private static partial Regex ProbeRow();

    [GeneratedRegex(@"^\s*\d\s+\d+(?:\s+\d\.\d{3}){4}\s+(yes|no) ?", RegexOptions.Multiline)]
    private static partial Regex ScanVerdict();

    [GeneratedRegex(@"the mean share is (?<cls>\d\.\d{3}) on \[CLS\] and (?<sep>\d\.\d{3}) on \[SEP\], (?<verdict>so here [^.]+)")]
    private static partial Regex SinkLine();

    [GeneratedRegex(@"<tr><th>(?<n>\d+)</th>(?:<td>[^<]*</td>){4}<td>(?<fits>[^<]*)</td></tr>")]
    private static partial Regex BlockCostRow();

    [GeneratedRegex(@"(?:by layer: |, )(\d) (\S+) (\d\.\d\d)")]
    private static partial Regex MeanTop();

    [GeneratedRegex(@"Layer (\d), head \d+ sends [\d.]+ / [\d.]+ to ""animal"" in both sentences")]
    private static partial Regex BothLine();

    [GeneratedRegex(@"d_model = (?<d>\d+), FFN width (?<f>\d+): attention's core costs as much as the projections and FFN at n = (?<n>\d+); at the limit of (?<limit>\d+) tokens it is (?<share>[\d.]+) of a layer's FLOPs, (?<verdict>[^.]+)\.")]
    private static partial Regex CrossoverLine();
}
