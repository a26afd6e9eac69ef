using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Cost;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// Notebook 06's measured conclusions, checked in the executed notebook: the crossover of the approximations with
/// exact attention and the materialized path's biggest step are rebuilt from the numbers the notebook printed.
/// </summary>
public partial class KernelTests
{
    [Fact]
    public void Notebook_06_crossover_conclusions_follow_from_its_printed_times()
    {
        var printed = PrintedText("06", "CostSweeps.CrossoverReport(");
        var lines = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var names = Regex.Split(lines[0].Trim(), @"\s{2,}").Skip(1).Select(h => h.EndsWith(" (s)", StringComparison.Ordinal) ? h[..^4] : h).ToList();
        Assert.Equal(["exact tiled", "sliding window w = 128", "linear"], names);
        var rows = lines.Skip(1).Where(l => RowOfNumbers().IsMatch(l)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.True(rows.Count >= 4, $"notebook 06 printed {rows.Count} lengths:\n{printed}");
        List<CostPoint> Column(int index) => [.. rows.Where(r => r[index] != "-").Select(r => new CostPoint(int.Parse(r[0], CultureInfo.InvariantCulture), double.Parse(r[index], CultureInfo.InvariantCulture), 0))];
        var exact = Column(1);
        for (var a = 1; a < names.Count; a++)
        {
            var approximate = Column(a + 1);
            var conclusion = lines.Single(l => l.StartsWith(names[a] + ":", StringComparison.Ordinal));
            Assert.Equal(CostSweeps.CrossoverConclusion(names[a], exact, approximate), conclusion);

            // The claim itself, against the table: faster from the crossing on (at least two lengths), not just before it.
            var common = approximate.Where(p => exact.Any(e => e.N == p.N)).OrderBy(p => p.N).Select(p => (p.N, Faster: p.Seconds < exact.Single(e => e.N == p.N).Seconds)).ToList();
            var crossing = Regex.Match(conclusion, @"from n = ([\d,]+) on");
            if (conclusion.Contains("no crossing in this range", StringComparison.Ordinal))
            {
                Assert.True(common.Count >= 2 && common.All(c => c.Faster), $"{names[a]}: the notebook says faster at every length, but its table does not show it:\n{printed}");
            }
            else if (crossing.Success)
            {
                var from = int.Parse(crossing.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
                var after = common.Where(c => c.N >= from).ToList();
                Assert.True(after.Count >= 2 && after.All(c => c.Faster), $"{names[a]}: the notebook says faster from n = {from}, but its table does not show it faster there and at every longer length:\n{printed}");
                Assert.True(common.Any(c => c.N < from), $"{names[a]}: the notebook names a crossing at the shortest common length, where nothing crossed:\n{printed}");
                Assert.DoesNotContain(common.Where(c => c.N < from).TakeLast(1), c => c.Faster);
            }
            else
            {
                Assert.Contains("this run shows no crossing", conclusion, StringComparison.Ordinal);
                Assert.False(common.Count >= 2 && common[^1].Faster && common[^2].Faster, $"{names[a]}: the notebook says no crossing, but its table shows one:\n{printed}");
            }
        }

        // The padding of the exact kernel at short lengths is stated for the lengths in the table.
        Assert.EndsWith(CostSweeps.TiledPadding(exact.Select(p => p.N)), printed.TrimEnd(), StringComparison.Ordinal);
        Assert.Equal(exact.Min(p => p.N) < FastAttentionQueryBlock, printed.Contains("score slots for pairs", StringComparison.Ordinal));
    }

    [Fact]
    public void Notebook_06_explains_the_materialized_step_from_its_printed_table()
    {
        var printed = PrintedText("06", "CostSweeps.ScoreMatrixStep(");
        var lines = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var caches = Regex.Matches(lines[0], @"(?<name>L\d) (?<kib>\d+) KiB").Select(m => new CacheLevel(m.Groups["name"].Value, 1024 * long.Parse(m.Groups["kib"].Value, CultureInfo.InvariantCulture))).ToList();
        var rows = lines.Where(l => RowOfNumbers().IsMatch(l)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.True(rows.Count >= 3, $"notebook 06 printed {rows.Count} lengths:\n{printed}");
        var materialized = rows.Select(r => new CostPoint(int.Parse(r[0], CultureInfo.InvariantCulture), double.Parse(r[1], CultureInfo.InvariantCulture), 0)).ToList();
        var tiled = rows.Where(r => r[3] != "-").Select(r => new CostPoint(int.Parse(r[0], CultureInfo.InvariantCulture), double.Parse(r[3], CultureInfo.InvariantCulture), 0)).ToList();
        var fresh = rows.Where(r => r.Length > 6 && r[6] != "-").Select(r => new CostPoint(int.Parse(r[0], CultureInfo.InvariantCulture), double.Parse(r[6], CultureInfo.InvariantCulture), 0)).ToList();
        Assert.True(fresh.Count >= 2, $"notebook 06 printed {fresh.Count} fresh-buffer times:\n{printed}");
        Assert.EndsWith(CostSweeps.ScoreMatrixStepConclusion(materialized, tiled, caches, fresh), printed.TrimEnd(), StringComparison.Ordinal);

        // The step it names is the largest factor in the table, and the sizes it names are the table's.
        var step = Regex.Match(printed, @"n = ([\d,]+) to ([\d,]+), x([\d.]+)");
        Assert.True(step.Success, printed);
        var largest = Enumerable.Range(1, rows.Count - 1).Where(i => rows[i][3] != "-" && rows[i - 1][3] != "-").MaxBy(i => materialized[i].Seconds / materialized[i - 1].Seconds);
        Assert.Equal(materialized[largest].N, int.Parse(step.Groups[2].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture));
        Assert.Equal(rows[largest][2], step.Groups[3].Value);
        // The share of the step that a fresh allocation explains is the table's own numbers.
        var share = Regex.Match(printed, @"took (\S+) s at n = [\d,]+ against (\S+) s at n = [\d,]+: (-?\d+)% of the");
        if (share.Success)
        {
            var added = materialized[largest].Seconds - materialized[largest - 1].Seconds;
            var freshAdded = double.Parse(share.Groups[1].Value, CultureInfo.InvariantCulture) - double.Parse(share.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.Equal(rows[largest][6], share.Groups[1].Value);
            Assert.Equal(Math.Round(100 * freshAdded / added), double.Parse(share.Groups[3].Value, CultureInfo.InvariantCulture));
        }

        var grew = Regex.Match(printed, @"grew from ([\d,]+) KiB to ([\d,]+) KiB");
        if (grew.Success)
        {
            Assert.Equal(rows[largest - 1][5], grew.Groups[1].Value.Replace(",", string.Empty, StringComparison.Ordinal));
            Assert.Equal(rows[largest][5], grew.Groups[2].Value.Replace(",", string.Empty, StringComparison.Ordinal));
        }
    }

    /// <summary>The text output of the one code cell of an executed notebook whose source starts with <paramref name="call"/>.</summary>
    private string PrintedText(string prefix, string call)
    {
        var run = series.Run(prefix);
        AssertRan(run);
        var cell = NotebookFile.Load(run.ExecutedPath).CodeCells.Single(c => NotebookFile.Source(c).TrimStart().StartsWith(call, StringComparison.Ordinal));
        return string.Concat((cell["outputs"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(o => (o["data"] as JsonObject)?["text/plain"]).Select(NotebookFile.Text)).Replace("\r", string.Empty, StringComparison.Ordinal);
    }

    private const int FastAttentionQueryBlock = NotebookAttention.Fast.FastAttention.QueryBlock;

    [GeneratedRegex(@"^\s*\d+\s+[\d.E+-]+\s")]
    private static partial Regex RowOfNumbers();
}
