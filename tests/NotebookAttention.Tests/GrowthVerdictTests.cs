using NotebookAttention.Cost;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Tests;

/// <summary>Notebook 06's sentence about how time grows follows from the fitted numbers of the same run.</summary>
public class GrowthVerdictTests
{
    private static IReadOnlyList<CostPoint> Sweep(double exponent, params int[] lengths) =>
        [.. lengths.Select(n => new CostPoint(n, 1e-9 * Math.Pow(n, exponent), 0))];

    [Theory]
    [InlineData(2.0, "close to n^2")]
    [InlineData(2.25, "close to n^2")]
    [InlineData(2.4, "steeper than n^2")]
    [InlineData(1.6, "flatter than n^2")]
    public void The_sentence_follows_the_fitted_exponent(double exponent, string expected)
    {
        var line = CostSweeps.Growth(2, ("tiled", Sweep(exponent, 64, 128, 256, 512, 1024, 2048)));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.StartsWith(FormattableString.Invariant($"tiled: n^{exponent:0.00} from 3 lengths"), line, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_points_are_never_called_a_power_law()
    {
        // The longer half of a 4-length sweep is 2 lengths: R² is 1 through any two points, so it says nothing.
        var line = CostSweeps.Growth(2, ("reference", Sweep(2, 64, 128, 256, 512)));
        Assert.Contains("cannot tell a power law from noise", line, StringComparison.Ordinal);
        Assert.DoesNotContain("close to", line, StringComparison.Ordinal);
        Assert.Equal("reference ~ n^2.00 (through 2 points)", CostSweeps.TimeCurve("reference", Sweep(2, 64, 128, 256, 512)).Name);
    }

    [Fact]
    public void Scattered_points_are_not_read_as_a_slope()
    {
        IReadOnlyList<CostPoint> noisy = [new(1000, 1.0, 0), new(2000, 0.01, 0), new(4000, 5.0, 0), new(8000, 0.02, 0), new(16000, 9.0, 0), new(32000, 0.5, 0)];
        var fit = CostSweeps.TimeFit(noisy);
        Assert.True(fit.RSquared < PowerLawFit.LeastRSquared, $"R² {fit.RSquared}");
        var line = CostSweeps.Growth(2, ("materialized", noisy));
        Assert.Contains("the points scatter", line, StringComparison.Ordinal);
        Assert.DoesNotContain("close to", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Linear_growth_is_judged_against_n_to_the_first()
    {
        var line = CostSweeps.Growth(1, ("linear", Sweep(1.1, 256, 512, 1024, 2048, 4096, 8192)));
        Assert.Contains("close to n^1, within", line, StringComparison.Ordinal);
        Assert.Contains("steeper than n^1", CostSweeps.Growth(1, ("window", Sweep(2, 256, 512, 1024, 2048, 4096, 8192))), StringComparison.Ordinal);
    }

    [Fact]
    public void Each_sweep_gets_its_own_line_in_order()
    {
        var lines = CostSweeps.Growth(2, ("a", Sweep(2, 8, 16, 32, 64, 128, 256)), ("b", Sweep(1, 8, 16, 32, 64, 128, 256))).Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("a: n^2.00", lines[0], StringComparison.Ordinal);
        Assert.Contains("flatter than n^2", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void The_cache_line_names_every_level_or_says_they_are_unknown()
    {
        var summary = Machine.CacheSummary();
        var caches = Machine.Caches();
        if (caches.Count == 0)
        {
            Assert.StartsWith("unknown", summary, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(caches.Select(c => $"{c.Name} {c.Bytes / 1024} KiB"), summary.Split(", "));
        }
    }
}
