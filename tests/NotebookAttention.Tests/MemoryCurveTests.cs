using NotebookAttention.Cost;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Tests;

/// <summary>How notebook 06's memory legend names a curve: a fitted exponent, or "does not grow" when nothing grew.</summary>
public class MemoryCurveTests
{
    [Fact]
    public void A_curve_that_grows_by_a_few_hundred_bytes_does_not_grow_and_says_its_largest_count()
    {
        CostPoint[] tiled = [new(256, 1e-3, 456), new(1024, 1e-2, 456), new(4096, 1e-1, 520)];
        var (name, _, y) = CostSweeps.MemoryCurve("tiled", tiled);
        Assert.Equal("tiled: does not grow with n (at most 520 bytes per call)", name);
        Assert.Equal(520 / 1048576.0, y[2], 15);
    }

    [Fact]
    public void A_quadratic_curve_gets_its_fitted_exponent()
    {
        CostPoint[] materialized = [.. Enumerable.Range(8, 4).Select(power => 1 << power).Select(n => new CostPoint(n, 1e-3, 1000 + (4L * n * n)))];
        var (name, _, _) = CostSweeps.MemoryCurve("materialized", materialized);
        Assert.Matches(@"^materialized ~ n\^(1\.9|2\.[01])\d", name);
        Assert.DoesNotContain("does not grow", name, StringComparison.Ordinal);
    }
}
