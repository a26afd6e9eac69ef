using CsCheck;
using NotebookAttention.Cost;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>The cost of a whole transformer layer: attention's core against the projections and the FFN (notebook 08).</summary>
public class LayerCostTests
{
    [Fact]
    public void MiniLm_layer_parts_follow_the_formulas_and_cross_at_six_d_model()
    {
        // d = 384, FFN 1536 = 4d: core 4 n^2 d, projections 8 n d^2, FFN 4 n d f = 16 n d^2.
        var layer = AttentionCost.Layer(256, 384, 1536);
        Assert.Equal(4.0 * 256 * 256 * 384, layer.AttentionCore);
        Assert.Equal(8.0 * 256 * 384 * 384, layer.Projections);
        Assert.Equal(4.0 * 256 * 384 * 1536, layer.FeedForward);
        Assert.Equal(24.0 * 256 * 384 * 384, layer.Linear);
        Assert.Equal(256.0 / (256 + 2304), layer.AttentionShare, 15);   // n / (n + 6d)
        Assert.Equal(2304, AttentionCost.AttentionCrossover(384, 1536));
        Assert.Equal(6 * 768, AttentionCost.AttentionCrossover(768, 3072));
        Assert.Equal(0.5, AttentionCost.Layer(2304, 384, 1536).AttentionShare, 15);
        Assert.Equal(
            "d_model = 384, FFN width 1536: attention's core costs as much as the projections and FFN at n = 2304; at the limit of 256 tokens it is 0.100 of a layer's FLOPs, so in this model the projections and FFN take more FLOPs than attention's core at every length it reads.",
            AttentionCost.CrossoverSummary(384, 1536, 256));
        Assert.EndsWith("so at its longest inputs attention's core takes more FLOPs than the rest of the layer.", AttentionCost.CrossoverSummary(384, 1536, 4096), StringComparison.Ordinal);
    }

    [Fact]
    public void Attention_dominates_exactly_above_the_crossover()
    {
        var gen = Gen.Int[1, 2048].Select(Gen.Int[1, 8192], Gen.Int[1, 6], (d, n, widthFactor) => (d, n: (long)n, f: d * widthFactor));
        Property.Holds(gen, c =>
        {
            var layer = AttentionCost.Layer(c.n, c.d, c.f);
            var crossover = AttentionCost.AttentionCrossover(c.d, c.f);
            Assert.Equal(c.n > crossover, layer.AttentionCore > layer.Linear);
            Assert.Equal(c.n == crossover, layer.AttentionCore == layer.Linear);
            Assert.Equal(layer.AttentionCore + layer.Projections + layer.FeedForward, layer.Total);
        });
    }

    [Fact]
    public void The_block_cost_table_shows_each_part_and_the_share_from_the_formulas()
    {
        var table = NotebookAttention.Notebooks.LayerPlots.BlockCost([256, 2304], 384, 1536);
        Assert.StartsWith("One layer with d = 384 and an FFN of width f = 1536: the core's share of the FLOPs passes one half above n = 2d + f = 2304. FLOPs only:", table.Title, StringComparison.Ordinal);
        var cells = System.Text.RegularExpressions.Regex.Replace(table.Html, " style=\"[^\"]*\"", string.Empty);
        Assert.Contains("<th>256</th><td>100.7</td><td>302.0</td><td>604.0</td><td>0.100</td>", cells, StringComparison.Ordinal);
        Assert.Contains("<th>2304</th><td>8,153.7</td><td>2,717.9</td><td>5,435.8</td><td>0.500</td>", cells, StringComparison.Ordinal);
        Assert.DoesNotContain("hypothetical", cells, StringComparison.Ordinal);
        var marked = System.Text.RegularExpressions.Regex.Replace(NotebookAttention.Notebooks.LayerPlots.BlockCost([512, 513], 384, 1536, positions: 512).Html, " style=\"[^\"]*\"", string.Empty);
        Assert.Contains("<td>yes</td></tr>", marked, StringComparison.Ordinal);
        Assert.Contains("<th>513</th><td>404.2</td><td>605.2</td><td>1,210.3</td><td>0.182</td><td>no: hypothetical, past its 512 positions</td>", marked, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_sizes_are_refused_with_the_size_named()
    {
        var n = Assert.Throws<ArgumentOutOfRangeException>(() => AttentionCost.Layer(0, 384, 1536));
        Assert.Contains("sequence length n", n.Message, StringComparison.Ordinal);
        var d = Assert.Throws<ArgumentOutOfRangeException>(() => AttentionCost.AttentionCrossover(0, 1536));
        Assert.Contains("d_model", d.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionCost.Layer(16, 384, 0));
    }
}
