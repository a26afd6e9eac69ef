using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using NotebookAttention.Recurrence;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>Notebook 07's gradient comparison, checked in the executed notebook (kept apart so it merges easily).</summary>
public partial class KernelTests
{
    /// <summary>
    /// The gradient sentences notebook 07 printed follow from the numbers it printed: the comparison is rebuilt from the
    /// tables' exact values (which must match the rounded values shown) and must give the same sentences, and each
    /// verdict (vanished, exploded, held; distance; dilution like 1/n) is also checked against the numbers directly.
    /// </summary>
    [Fact]
    public void Notebook_07_gradient_conclusions_follow_from_its_printed_tables()
    {
        var run = series.Run("07");
        AssertRan(run);
        var html = string.Concat(NotebookFile.Load(run.ExecutedPath).CodeCells.Select(Html));
        var tables = GradientTables().Match(html);
        Assert.True(tables.Success, "notebook 07 printed no gradient tables");
        var recurrent = RecurrentRow().Matches(tables.Groups["rnn"].Value).Select(m =>
        {
            var row = new RecurrentGradientRow(Number(m, "radius"), Number(m, "singular"), Number(m, "state"), Number(m, "rate"), int.Parse(m.Groups["steps"].Value, CultureInfo.InvariantCulture), Number(m, "one"));
            Assert.Contains(Shown($"<td style=\"padding:2px 6px;text-align:right\">x{row.RatePerStep:0.000}</td>"), m.Value, StringComparison.Ordinal);
            return row;
        }).ToList();
        var attention = AttentionRow().Matches(tables.Groups["attention"].Value).Select(m =>
        {
            var row = new AttentionGradientRow(int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture), Number(m, "rate"), Number(m, "mean"), Number(m, "self"), Number(m, "one"));
            Assert.Contains(Shown($"<td style=\"padding:2px 6px;text-align:right\">x{row.RatePerStep:0.0000}</td>"), m.Value, StringComparison.Ordinal);
            return row;
        }).ToList();
        Assert.True(recurrent.Count >= 2 && attention.Count >= 2, $"notebook 07 printed {recurrent.Count} RNN rows and {attention.Count} attention rows");
        var printed = Sentence().Matches(tables.Groups["conclusions"].Value).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
        var rebuilt = new GradientComparison(recurrent, attention, double.Parse(tables.Groups["scale"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(rebuilt.Conclusions, printed);

        // Each verdict, from the printed numbers alone.
        for (var i = 0; i < recurrent.Count; i++)
        {
            var change = Math.Pow(recurrent[i].RatePerStep, recurrent[i].Steps);
            Assert.Equal(change < 1 / GradientComparison.Decisive, printed[i].Contains("the gradient vanished", StringComparison.Ordinal));
            Assert.Equal(change > GradientComparison.Decisive, printed[i].Contains("the gradient exploded", StringComparison.Ordinal));
            Assert.Equal(recurrent[i].SpectralRadius > 1 && change <= GradientComparison.Decisive, printed[i].Contains("necessary for exploding, not sufficient", StringComparison.Ordinal));
        }

        var longest = attention[^1];
        var distanceChange = Math.Pow(longest.RatePerStep, longest.N - 2);
        Assert.Equal(distanceChange is >= 1 / GradientComparison.Decisive and <= GradientComparison.Decisive, printed[recurrent.Count].Contains("did not vanish with distance", StringComparison.Ordinal));
        var x = attention.Select(r => Math.Log(r.N)).ToArray();
        var y = attention.Select(r => Math.Log(r.MeanOtherNorm)).ToArray();
        var slope = x.Zip(y).Sum(p => (p.First - x.Average()) * (p.Second - y.Average())) / x.Sum(v => (v - x.Average()) * (v - x.Average()));
        Assert.Contains(Shown($"as n^{slope:0.00}:"), printed[recurrent.Count + 1], StringComparison.Ordinal);
        Assert.Equal(Math.Abs(slope + 1) <= GradientComparison.DilutionTolerance, printed[recurrent.Count + 1].Contains("close to 1/n", StringComparison.Ordinal));
    }

    private static double Number(Match row, string group) => double.Parse(row.Groups[group].Value, CultureInfo.InvariantCulture);

    private static string Shown(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("""<table class="na-table na-gradients" data-input-scale="(?<scale>[^"]+)".*?<tbody>(?<rnn>.*?)</tbody></table><table class="na-table na-gradients".*?<tbody>(?<attention>.*?)</tbody></table><ul class="na-conclusions"[^>]*>(?<conclusions>.*?)</ul>""", RegexOptions.Singleline)]
    private static partial Regex GradientTables();

    [GeneratedRegex("""<tr data-radius="(?<radius>[^"]+)" data-singular="(?<singular>[^"]+)" data-state="(?<state>[^"]+)" data-rate="(?<rate>[^"]+)" data-steps="(?<steps>\d+)" data-distance-one="(?<one>[^"]+)">.*?</tr>""", RegexOptions.Singleline)]
    private static partial Regex RecurrentRow();

    [GeneratedRegex("""<tr data-n="(?<n>\d+)" data-rate="(?<rate>[^"]+)" data-mean="(?<mean>[^"]+)" data-self="(?<self>[^"]+)" data-distance-one="(?<one>[^"]+)">.*?</tr>""", RegexOptions.Singleline)]
    private static partial Regex AttentionRow();
}
