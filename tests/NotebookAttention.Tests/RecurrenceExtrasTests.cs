using System.Text.Json.Nodes;
using NotebookAttention.Cost;
using NotebookAttention.Notebooks;
using NotebookAttention.Recurrence;

namespace NotebookAttention.Tests;

[Collection(Support.MeasurementsRunAlone.Name)]
public class RecurrenceExtrasTests
{
    [Fact]
    public void Shortest_path_follows_the_chain_and_matches_the_search_length()
    {
        var graph = DependencyGraph.Build(Architecture.Recurrent, 5);
        Assert.Equal([(0, 1), (1, 1), (1, 2), (1, 3)], graph.ShortestPath(1, 3));
        Assert.Empty(graph.ShortestPath(3, 1));
        var dilated = DependencyGraph.Build(Architecture.DilatedConvolution(2), 16);
        Assert.Equal(dilated.PathLengthsFrom(0)[15], dilated.ShortestPath(0, 15).Count - 1);
        Assert.Equal(dilated.EdgeCount, dilated.Edges().Count());
    }

    [Fact]
    public void Rate_per_step_recovers_a_geometric_decay()
    {
        var norms = Enumerable.Range(0, 20).Select(t => Math.Pow(0.7, 19 - t)).ToArray();
        Assert.Equal(0.7, GradientFlow.RatePerStep(norms), 10);
        Assert.Equal(1.0, GradientFlow.RatePerStep([2.0, 2.0, 2.0]), 12);
        Assert.Throws<ArgumentException>(() => GradientFlow.RatePerStep([1.0, 0.0]));
    }

    [Fact]
    public void Crossover_is_the_length_from_which_the_second_curve_stays_slower()
    {
        CostPoint[] rnn = [new(64, 0.010, 0), new(128, 0.020, 0), new(256, 0.040, 0)];
        CostPoint[] attention = [new(64, 0.001, 0), new(128, 0.030, 0), new(256, 0.200, 0)];
        Assert.Equal(128, Parallelism.Crossover(rnn, attention));
        Assert.Null(Parallelism.Crossover(rnn, attention[..1]));
    }

    [Fact]
    public void Recurrent_and_attention_measurements_cover_the_lengths_asked_and_attention_memory_grows_linearly()
    {
        // How the times grow is a measurement, shown by notebook 07 and checked against its printed table there;
        // a unit test only checks what does not depend on the machine's load: the lengths measured, positive times,
        // and attention's extra memory, which must not grow like n² (x16 from n = 256 to 1024). Since the fast path
        // reads K in place (one attention core, strided), the tiled pass allocates only a few hundred bytes per call,
        // the same at every n; before, it packed K (n d floats), x4.
        foreach (var threads in new[] { 1, 2 })
        {
            var rnn = Parallelism.Recurrent([256, 2048], threads);
            var attention = Parallelism.Attention([256, 1024], threads);
            Assert.Equal([256, 2048], rnn.Select(p => p.N));
            Assert.Equal([256, 1024], attention.Select(p => p.N));
            Assert.All(rnn.Concat(attention), p => Assert.True(p.Seconds > 0, $"{threads} core(s): n = {p.N} took {p.Seconds} s"));
            Assert.InRange(attention[1].AllocatedBytes, 0, 5 * Math.Max(attention[0].AllocatedBytes, 1024));
        }
    }

    [Fact]
    public void Graph_picture_draws_reads_states_and_the_shortest_path()
    {
        string[] tokens = ["a", "b", "c", "d"];
        var figure = RecurrencePlots.Graph(DependencyGraph.Build(Architecture.Recurrent, 4), tokens, 0, 3);
        var data = JsonNode.Parse(figure.Json)!["data"]!.AsArray();
        Assert.Equal(3, data.Count);
        Assert.Equal("shortest path: 4 steps", (string?)data[2]!["name"]);
        Assert.Equal(5, data[2]!["x"]!.AsArray().Count);
        var heatmap = RecurrencePlots.PathLengths(DependencyGraph.Build(Architecture.Recurrent, 4), tokens);
        Assert.Contains("unreachable", heatmap.Json, StringComparison.Ordinal);
        var tableOne = RecurrencePlots.PathLengthCurves([Architecture.Recurrent, Architecture.SelfAttention], [8, 16]);
        Assert.Contains("<td style=\"padding:2px 6px;text-align:right\">16</td>", tableOne.TableHtml, StringComparison.Ordinal);
        Assert.Equal(4, JsonNode.Parse(tableOne.Json)!["data"]!.AsArray().Count);
    }
}
