using System.Text.Json.Nodes;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Analysis;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Tests.Notebooks;

public class LayerPlotsTests
{
    private static List<MultiHeadAttentionResult> Layers(int tokens, int layers, int heads)
    {
        var labels = Enumerable.Range(0, tokens).Select(i => $"t{i}").ToList();
        var x = Matrix<double>.Build.Dense(tokens, 8, (i, j) => Math.Sin((1.3 * i) + j));
        return [.. Enumerable.Range(0, layers).Select(seed => new MultiHeadAttention(8, heads, seed).Forward(x, tokens: labels))];
    }

    [Fact]
    public void Grid_draws_one_heatmap_per_layer_and_head_on_one_scale()
    {
        var figure = JsonNode.Parse(LayerPlots.Grid(Layers(5, 3, 2)).Json)!;
        var traces = figure["data"]!.AsArray();
        Assert.Equal(6, traces.Count);
        Assert.All(traces, t => Assert.Equal("coloraxis", (string?)t!["coloraxis"]));
        Assert.Equal(["x", "x2", "x3", "x4", "x5", "x6"], traces.Select(t => (string?)t!["xaxis"]));
        Assert.Contains("layer 2, head 1", (string?)traces[5]!["hovertemplate"], StringComparison.Ordinal);
        var layout = figure["layout"]!;
        Assert.Equal(0.0, (double?)layout["coloraxis"]!["cmin"]);
        Assert.Equal(1.0, (double?)layout["coloraxis"]!["cmax"]);
        Assert.NotNull(layout["xaxis6"]!["domain"]);
        Assert.Equal("reversed", (string?)layout["yaxis6"]!["autorange"]);
        Assert.Equal(5, traces[0]!["z"]!.AsArray().Count);
        Assert.Equal("t1 (1)", (string?)traces[0]!["x"]![1]);
    }

    [Fact]
    public void Grid_of_a_long_text_says_how_much_it_shows()
    {
        var figure = LayerPlots.Grid(Layers(70, 1, 1));
        Assert.Contains($"the first {LayerPlots.GridTokenLimit} of 70 tokens shown", figure.Title, StringComparison.Ordinal);
        var z = JsonNode.Parse(figure.Json)!["data"]![0]!["z"]!.AsArray();
        Assert.Equal(LayerPlots.GridTokenLimit, z.Count);
        Assert.Throws<ArgumentException>(() => LayerPlots.Grid([]));
        Assert.Throws<ArgumentException>(() => LayerPlots.Grid(Layers(3, 1, 1), validLength: 4));
    }

    [Fact]
    public void Head_view_draws_a_line_per_key_thicker_for_more_weight()
    {
        var head = Layers(6, 1, 2)[0].Heads[1];
        var figure = LayerPlots.HeadView(head, 2, "view");
        var traces = JsonNode.Parse(figure.Json)!["data"]!.AsArray();
        Assert.Equal(6 + 2, traces.Count);
        var weights = head.Weights.Row(2);
        var widths = traces.Take(6).Select(t => (double)t!["line"]!["width"]!).ToList();
        for (var a = 0; a < 6; a++)
        {
            Assert.Equal(2.0, (double)traces[a]!["y"]![0]!);
            Assert.Equal(a, (double)traces[a]!["y"]![1]!);
            for (var b = 0; b < 6; b++)
            {
                Assert.Equal(weights[a] > weights[b], widths[a] > widths[b]);
            }
        }

        Assert.Contains(weights[0].ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), (string?)traces[7]!["hovertext"]![0], StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerPlots.HeadView(head, 6, "view"));
    }

    [Fact]
    public void Probe_is_a_layers_by_tokens_heatmap_of_mean_weights()
    {
        var layers = Layers(4, 3, 2);
        var figure = JsonNode.Parse(LayerPlots.Probe(layers, 1, "probe").Json)!;
        var z = figure["data"]![0]!["z"]!.AsArray();
        Assert.Equal(3, z.Count);
        Assert.Equal((layers[2].Heads[0].Weights[1, 3] + layers[2].Heads[1].Weights[1, 3]) / 2, (double)z[2]![3]!, 12);
    }

    [Fact]
    public void Traits_table_sorts_and_refuses_unknown_traits()
    {
        var traits = HeadTraits.Measure(Layers(5, 2, 2));
        var table = LayerPlots.Traits(traits, "entropy (bits)", top: 2);
        Assert.StartsWith("2 of 4 heads, sorted by entropy (bits) (lowest first)", table.Title, StringComparison.Ordinal);
        var lowest = traits.MinBy(t => t.Entropy)!;
        Assert.Contains(lowest.Entropy.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), table.Html, StringComparison.Ordinal);
        var all = LayerPlots.Traits(traits, "Previous Token");
        Assert.Equal(4, all.Html.Split("<tr>").Length - 2);
        var unknown = Assert.Throws<ArgumentException>(() => LayerPlots.Traits(traits, "kindness"));
        Assert.Contains("\"[CLS]\"", unknown.Message, StringComparison.Ordinal);
        Assert.Contains(HeadTraits.ShareDefinition, table.Title, StringComparison.Ordinal);
        Assert.Contains(table.Html, NotebookDisplay.ToHtml(table), StringComparison.Ordinal);
    }

    [Fact]
    public void Pieces_are_numbered_encoded_and_special_ones_stand_out()
    {
        var view = LayerPlots.Pieces("caption", ["[CLS]", "<b>", "##ў", "[SEP]"]);
        Assert.Equal(4, view.Html.Split("class=\"na-piece\"").Length - 1);
        Assert.Contains("&lt;b&gt;<sub", view.Html, StringComparison.Ordinal);
        Assert.Contains("##ў", view.Html, StringComparison.Ordinal);
        Assert.Equal(2, view.Html.Split("#fde2c8").Length - 1);
        Assert.Contains(">3</sub>", view.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void Exercises_of_notebook_08_check_answers_from_the_data()
    {
        // 1: a gated FFN (three d x f matrices): 4n²d = 8nd² + 6ndf gives n = 2d + 1.5f. Wrong: 6d (the f = 4d rule of
        // the notebook) and 2d + f (an FFN of two matrices).
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.Pretrained.GatedCrossover(null, 1024, 2816).Status);
        Assert.Equal(ExerciseStatus.Correct, Exercises.Pretrained.GatedCrossover(6272, 1024, 2816).Status);
        Assert.Equal(ExerciseStatus.Wrong, Exercises.Pretrained.GatedCrossover(6 * 1024, 1024, 2816).Status);
        Assert.Equal(ExerciseStatus.Wrong, Exercises.Pretrained.GatedCrossover((2 * 1024) + 2816, 1024, 2816).Status);
        Assert.Equal(ExerciseStatus.Correct, Exercises.Pretrained.GatedCrossover((2 * 100) + 150, 100, 100).Status);

        // 2: whole words, as the tokenizer splits them. "don't." is four (don ' t .); a word cut after its first piece is not read.
        string[] all = ["[CLS]", "don", "'", "t", ".", "token", "##ization", "token", "##ization", "[SEP]"];
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.Pretrained.WordsRead(null, all, 10).Status);
        Assert.Equal(ExerciseStatus.Correct, Exercises.Pretrained.WordsRead(6, all, 10).Status);
        Assert.Equal(ExerciseStatus.Wrong, Exercises.Pretrained.WordsRead(3, all, 10).Status);      // whitespace words
        Assert.Equal(ExerciseStatus.Correct, Exercises.Pretrained.WordsRead(5, all, 9).Status);     // the last word lost its ##ization
        Assert.Equal(ExerciseStatus.Wrong, Exercises.Pretrained.WordsRead(6, all, 9).Status);
        Assert.Equal(ExerciseStatus.Correct, Exercises.Pretrained.WordsRead(4, all, 6).Status);
        string[] repeated = ["[CLS]", .. Enumerable.Repeat<string[]>(["token", "##ization"], 200).SelectMany(p => p), "[SEP]"];
        Assert.Equal(ExerciseStatus.Correct, Exercises.Pretrained.WordsRead(127, repeated, 256).Status);
        Assert.Equal(ExerciseStatus.Wrong, Exercises.Pretrained.WordsRead(254, repeated, 256).Status);
        Assert.Throws<ArgumentException>(() => Exercises.Pretrained.WordsRead(1, all, 11));

        // 3: every piece looks at the one after ([SEP] at itself). Over 6 real pieces: queries 0 to 3 land in "next
        // token"; query 4's next piece is [SEP] and [SEP] looks at itself, both counted as [SEP] (it comes first): 4/6,
        // not the 5/6 of an order without the special pieces first.
        string[] pieces = ["[CLS]", "un", "##believ", "##able", "cat", "[SEP]", "[PAD]"];
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.Pretrained.NextTokenShare(null, pieces, 6).Status);
        Assert.Equal(ExerciseStatus.Correct, Exercises.Pretrained.NextTokenShare(4.0 / 6, pieces, 6).Status);
        Assert.Equal(ExerciseStatus.Wrong, Exercises.Pretrained.NextTokenShare(5.0 / 6, pieces, 6).Status);
        Assert.Equal(ExerciseStatus.Wrong, Exercises.Pretrained.NextTokenShare(1.0, pieces, 6).Status);
        Assert.Equal(ExerciseStatus.Correct, Exercises.Pretrained.NextTokenShare(0.0, ["[CLS]", "[SEP]"], 2).Status);
        Assert.Throws<ArgumentException>(() => Exercises.Pretrained.NextTokenShare(1.0, pieces, 8));
        Assert.Throws<ArgumentException>(() => Exercises.Pretrained.NextTokenShare(1.0, ["a", "b"], 2));
    }
}
