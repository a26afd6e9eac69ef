using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Tests.Notebooks;

/// <summary>
/// No chart is drawn wider than <see cref="Figure.MaxWidth"/> (a VS Code output), and a row of charts wraps instead of
/// running past the edge of the page (issue 13: the third chart of <see cref="Plots.Steps"/> was cut in notebook 04).
/// </summary>
public partial class ChartWidthTests
{
    private static readonly string[] RowBreakThenChart = ["|", "c"];

    private static readonly string[] Chart = ["c"];

    public static TheoryData<int> Lengths() => [1, 7, 12, 32, 64];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Heatmaps_bars_steps_heads_and_the_layer_grid_are_at_most_MaxWidth_wide(int tokens)
    {
        var labels = Enumerable.Range(0, tokens).Select(i => $"token{i}").ToList();
        var x = Matrix<double>.Build.Dense(tokens, 16, (i, j) => Math.Sin((i * 16) + j));
        var layer = new MultiHeadAttention(dModel: 16, heads: 4, seed: 3);
        var result = layer.Forward(x, Mask.Causal(tokens), tokens: labels);
        var layers = Enumerable.Range(0, 6).Select(_ => new MultiHeadAttention(dModel: 24, heads: 12, seed: 4).Forward(Matrix<double>.Build.Dense(tokens, 24, (i, j) => Math.Cos(i + j)))).ToList();
        var figures = new List<Figure>
        {
            Plots.Heatmap(x * x.Transpose(), labels, labels, "scores", "score"),
            Plots.Bars("bars", labels, [.. Enumerable.Repeat(1.0 / tokens, tokens)]),
            Plots.Vectors(x, labels, "vectors"),
            LayerPlots.Grid(layers),
        };
        figures.AddRange(Plots.Steps(result.Heads[0]).Figures);
        figures.AddRange(Plots.Heads(result).Figures);
        Assert.All(figures, f =>
        {
            Assert.True(f.Width <= Figure.MaxWidth, $"{f.Title} is {f.Width} px wide, more than {Figure.MaxWidth}");
            Assert.Equal(f.Width, (int)JsonNode.Parse(f.Json)!["layout"]!["width"]!);
        });
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(4, 2)]
    [InlineData(5, 2)]
    [InlineData(2, 1)]
    public void A_grid_wraps_its_rows_and_breaks_after_every_row_of_its_columns(int count, int columns)
    {
        var labels = new[] { "a", "b" };
        var figures = Enumerable.Range(0, count).Select(i => Plots.Heatmap(Matrix<double>.Build.Dense(2, 2, i), labels, labels, $"map {i}", "value")).ToArray();
        var html = Plots.Grid(columns, figures).ToHtml();
        Assert.Contains("display:flex;flex-wrap:wrap", html, StringComparison.Ordinal);
        Assert.DoesNotContain("max-content", html, StringComparison.Ordinal);

        // The charts in document order, with a break before every figure that starts a new row.
        var items = Item().Matches(html).Select(m => m.Value.Contains("na-grid-break", StringComparison.Ordinal) ? "|" : "c").ToList();
        var expected = Enumerable.Range(0, count).SelectMany(i => i > 0 && i % columns == 0 ? RowBreakThenChart : Chart).ToList();
        Assert.Equal(expected, items);
    }

    [GeneratedRegex("""class="na-grid-break"|class="na-chart""")]
    private static partial Regex Item();
}
