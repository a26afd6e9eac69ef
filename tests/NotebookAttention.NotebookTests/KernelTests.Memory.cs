using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using NotebookAttention.Cost;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>Notebook 06's memory legend, rebuilt from the points its chart plotted in the executed notebook.</summary>
public partial class KernelTests
{
    [Fact]
    public void Notebook_06_memory_legend_follows_from_the_bytes_it_plotted()
    {
        var run = series.Run("06");
        AssertRan(run);
        var cell = NotebookFile.Load(run.ExecutedPath).CodeCells.Single(c => NotebookFile.Source(c).TrimStart().StartsWith("Plots.Curves(\"Memory allocated", StringComparison.Ordinal));
        var traces = MemoryTrace().Matches(WebUtility.HtmlDecode(Html(cell))).ToList();
        Assert.Equal(3, traces.Count);
        foreach (var trace in traces)
        {
            static double[] Numbers(string list) => [.. list.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
            var lengths = Numbers(trace.Groups["x"].Value);
            var bytes = Numbers(trace.Groups["y"].Value).Select(mib => (long)Math.Round(mib * 1048576)).ToArray();
            var name = trace.Groups["name"].Value;
            var variant = Regex.Match(name, @"^[^:~]+").Value.Trim();
            List<CostPoint> points = [.. lengths.Zip(bytes, (n, b) => new CostPoint((int)n, 0, b))];
            Assert.Equal(CostSweeps.MemoryCurve(variant, points).Name, name);
        }

        // What the text expects of the tiled path, against this run's numbers.
        Assert.Contains(traces, t => t.Groups["name"].Value.StartsWith("tiled: does not grow with n", StringComparison.Ordinal));
    }

    [GeneratedRegex("\"name\":\"(?<name>[^\"]*)\",\"mode\":\"[^\"]*\",\"x\":\\[(?<x>[^\\]]*)\\],\"y\":\\[(?<y>[^\\]]*)\\]")]
    private static partial Regex MemoryTrace();
}
