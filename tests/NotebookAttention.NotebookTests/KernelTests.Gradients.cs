using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Recurrence;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>Notebook 07's gradient comparison, checked in the executed notebook (kept apart so it merges easily).</summary>
public partial class KernelTests
{
    /// <summary>
    /// The gradient sentences notebook 07 printed follow from the numbers it printed: the comparison is rebuilt from the
    /// tables' exact values (which must match the rounded values shown) and must give the same sentences; then each
    /// claim is checked against the printed numbers by criteria of this test's own, not GradientComparison's: a
    /// vanished gradient needs every printed rate below 1, an exploded one every printed rate (far half included) above
    /// 1, saturation may be named only where the printed largest |h| is at least 0.5, σ_max claims need every printed
    /// σ_max on that side of 1, dilution needs the largest gradient and the largest weight to fall at least as n^-0.5.
    /// </summary>
    [Fact]
    public void Notebook_07_gradient_conclusions_follow_from_its_printed_tables()
    {
        var run = series.Run("07");
        AssertRan(run);
        var executed = NotebookFile.Load(run.ExecutedPath);
        var html = string.Concat(executed.CodeCells.Select(Html));
        var tables = GradientTables().Match(html);
        Assert.True(tables.Success, "notebook 07 printed no gradient tables");
        var recurrent = RecurrentRow().Matches(tables.Groups["rnn"].Value).Select(m =>
        {
            var seeds = m.Groups["seeds"].Value.Split(';').Select(s => s.Split(':')).Select(f => new RecurrentSeedRow(
                int.Parse(f[0], CultureInfo.InvariantCulture), Parse(f[1]), Parse(f[2]), Parse(f[3]), Parse(f[4]), Parse(f[5]), Parse(f[6]))).ToList();
            var row = new RecurrentGradientRow(Number(m, "radius"), int.Parse(m.Groups["steps"].Value, CultureInfo.InvariantCulture), seeds);
            Assert.Contains(Shown($"x{row.MedianLateRate:0.00} [{seeds.Min(s => s.LateRate):0.00}, {seeds.Max(s => s.LateRate):0.00}]</td>"), m.Value, StringComparison.Ordinal);
            Assert.Contains(Shown($">{row.LargestState:0.00}</td>"), m.Value, StringComparison.Ordinal);
            Assert.Contains(Shown($">{row.SmallestSingularValue:0.00} to {row.LargestSingularValue:0.00}</td>"), m.Value, StringComparison.Ordinal);
            return row;
        }).ToList();
        var attention = AttentionRow().Matches(tables.Groups["attention"].Value).Select(m =>
        {
            var row = new AttentionGradientRow(int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture), Number(m, "rate"), Number(m, "mean"), Number(m, "largest"), Number(m, "weight"), Number(m, "self"), Number(m, "one"));
            Assert.Contains(Shown($"<td style=\"padding:2px 6px;text-align:right\">x{row.RatePerStep:0.0000}</td>"), m.Value, StringComparison.Ordinal);
            Assert.Contains(Shown($">{row.LargestOtherNorm:0.####}</td><td style=\"padding:2px 6px;text-align:right\">{row.LargestOtherWeight:0.###}</td>"), m.Value, StringComparison.Ordinal);
            return row;
        }).ToList();
        Assert.True(recurrent.Count >= 2 && attention.Count >= 2, $"notebook 07 printed {recurrent.Count} RNN rows and {attention.Count} attention rows");
        Assert.All(recurrent, r => Assert.True(r.Seeds.Count >= 5, $"radius {r.SpectralRadius}: only {r.Seeds.Count} seeds printed; the spread needs several"));
        var printed = Sentence().Matches(tables.Groups["conclusions"].Value).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
        var rebuilt = new GradientComparison(recurrent, attention, double.Parse(tables.Groups["scale"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(rebuilt.Conclusions, printed);

        for (var i = 0; i < recurrent.Count; i++)
        {
            RecurrentClaimsHold(recurrent[i], printed[i]);
        }

        var longest = attention[^1];
        var distanceChange = Math.Pow(longest.RatePerStep, longest.N - 2);
        if (printed[recurrent.Count].Contains("did not vanish with distance", StringComparison.Ordinal))
        {
            Assert.True(distanceChange is > 0.05 and < 20, $"'did not vanish with distance' printed, but x{longest.RatePerStep} per step over {longest.N - 2} steps is x{distanceChange}");
        }

        // Dilution: the largest gradient to another token and the largest weight, not the mean (which falls like 1/n anyway).
        var dilution = printed[recurrent.Count + 1];
        var (first, last) = (attention[0], attention[^1]);
        var allowed = Math.Sqrt((double)first.N / last.N);
        var falls = last.LargestOtherNorm <= first.LargestOtherNorm * allowed && last.LargestOtherWeight <= first.LargestOtherWeight * allowed;
        Assert.Equal(falls, dilution.Contains("diluted by length", StringComparison.Ordinal));
        if (dilution.Contains("not diluted", StringComparison.Ordinal))
        {
            Assert.True(last.LargestOtherNorm > first.LargestOtherNorm * allowed, $"'not diluted' printed, but the largest gradient fell from {first.LargestOtherNorm} to {last.LargestOtherNorm}");
        }

        // Sizes: the printed ratio is the ratio of the two printed numbers.
        var size = SizeRatio().Match(printed[recurrent.Count + 2]);
        Assert.True(size.Success, $"the size sentence changed form: {printed[recurrent.Count + 2]}");
        Assert.Equal(Number(size, "rnn") / Number(size, "attention"), Number(size, "ratio"), 0.05 * Number(size, "ratio") + 0.05);

        // The rules that the static text under the tables states are the ones GradientComparison applies.
        var howToRead = executed.Cells.OfType<JsonObject>().Select(NotebookFile.Source).Single(s => s.StartsWith("**How to read it.**", StringComparison.Ordinal)).ReplaceLineEndings(" ");
        Assert.Contains(Shown($"median below x{1 - GradientComparison.Band:0.00} per step, is vanishing"), howToRead, StringComparison.Ordinal);
        Assert.Contains(Shown($"median above x{1 + GradientComparison.Band:0.00}, exploding"), howToRead, StringComparison.Ordinal);
        Assert.Contains("|h| ≥ 0.5", howToRead, StringComparison.Ordinal);
        Assert.Contains(Shown($"{recurrent[0].Seeds.Count} seeds"), howToRead, StringComparison.Ordinal);
    }

    private static void RecurrentClaimsHold(RecurrentGradientRow row, string sentence)
    {
        var rates = row.Seeds.SelectMany(s => new[] { s.NearRate, s.LateRate }).ToList();
        var said = (string part) => sentence.Contains(part, StringComparison.Ordinal);
        string[] verdicts = ["the gradient vanished", "the gradient exploded", "the gradient held", "no single verdict"];
        Assert.Single(verdicts, v => said(v));
        var at = Shown($"radius {row.SpectralRadius}: ");
        if (said("the gradient vanished"))
        {
            Assert.True(rates.Max() < 1, at + $"'vanished' printed, but a printed rate is x{rates.Max()}");
        }

        if (said("the gradient exploded"))
        {
            Assert.True(row.Seeds.All(s => s.LateRate > 1 && s.NearRate > 1), at + $"'exploded' printed, but a printed rate is x{rates.Min()}");
        }

        if (said("the gradient held"))
        {
            Assert.True(rates.Min() >= 0.8 && rates.Max() <= 1.25, at + $"'held' printed, but the printed rates run from x{rates.Min()} to x{rates.Max()}");
        }

        if (said("no single verdict"))
        {
            Assert.True(rates.Max() - rates.Min() >= 0.1, at + $"'no single verdict' printed, but the printed rates only run from x{rates.Min()} to x{rates.Max()}");
        }

        Assert.True(!said("saturation") || row.LargestState >= 0.5, at + $"saturation named, but the printed largest |h| is {row.LargestState}");
        Assert.True(!said("stayed small") || row.LargestState < 0.5, at + $"'stayed small' printed, but the printed largest |h| is {row.LargestState}");
        Assert.True(!said("is close to ρ") || Math.Abs(row.MedianLateRate - row.SpectralRadius) <= 0.15 * row.SpectralRadius, at + $"'close to ρ' printed, but the far-half median is x{row.MedianLateRate}");
        Assert.True(!said("σ_max < 1 at every seed") || row.Seeds.All(s => s.LargestSingularValue < 1), at + "'σ_max < 1 at every seed' printed, but a printed σ_max is not");
        Assert.True(!said("σ_max > 1 at every seed") || row.Seeds.All(s => s.LargestSingularValue > 1), at + "'σ_max > 1 at every seed' printed, but a printed σ_max is not");
        Assert.True(!said("start-up effect") || (row.MedianStartRate > 1 && row.MedianStartRate > rates.Max()), at + $"a start-up effect printed, but the start rate x{row.MedianStartRate} is not above every settled rate (up to x{rates.Max()})");
    }

    private static double Number(Match row, string group) => Parse(row.Groups[group].Value);

    private static double Parse(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    private static string Shown(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("""<table class="na-table na-gradients" data-input-scale="(?<scale>[^"]+)".*?<tbody>(?<rnn>.*?)</tbody></table><table class="na-table na-gradients".*?<tbody>(?<attention>.*?)</tbody></table><ul class="na-conclusions"[^>]*>(?<conclusions>.*?)</ul>""", RegexOptions.Singleline)]
    private static partial Regex GradientTables();

    [GeneratedRegex("""<tr data-radius="(?<radius>[^"]+)" data-steps="(?<steps>\d+)" data-seeds="(?<seeds>[^"]+)">.*?</tr>""", RegexOptions.Singleline)]
    private static partial Regex RecurrentRow();

    [GeneratedRegex("""<tr data-n="(?<n>\d+)" data-rate="(?<rate>[^"]+)" data-mean="(?<mean>[^"]+)" data-largest="(?<largest>[^"]+)" data-weight="(?<weight>[^"]+)" data-self="(?<self>[^"]+)" data-distance-one="(?<one>[^"]+)">.*?</tr>""", RegexOptions.Singleline)]
    private static partial Regex AttentionRow();

    [GeneratedRegex("""gradient x(?<ratio>[0-9.]+) attention's \((?<rnn>[0-9.]+) against (?<attention>[0-9.]+),""")]
    private static partial Regex SizeRatio();
}
