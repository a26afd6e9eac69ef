using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests.Notebooks;

public class PlotsTests
{
    private static JsonNode FigureOf(Figure figure) => JsonNode.Parse(figure.Json)!;

    private static AttentionResult ResultFor(string sentence)
    {
        var tokens = Tokenizer.Words(sentence);
        var x = new Embeddings(8, seed: 1).Embed(tokens);
        return new SelfAttention(8, 4, 4, seed: 2).Forward(x, tokens: tokens);
    }

    [Fact]
    public void Weights_heatmap_keeps_repeated_tokens_apart_on_a_fixed_scale_with_matrix_orientation()
    {
        var figure = FigureOf(Plots.Weights(ResultFor("the cat saw the dog")));
        var trace = figure["data"]![0]!;
        Assert.Equal("heatmap", (string?)trace["type"]);
        Assert.Equal(0.0, (double?)trace["zmin"]);
        Assert.Equal(1.0, (double?)trace["zmax"]);
        var y = figure["layout"]!["yaxis"]!;
        Assert.Equal(["the", "cat", "saw", "the", "dog"], y["ticktext"]!.AsArray().Select(t => (string?)t));
        Assert.Equal([0, 1, 2, 3, 4], y["tickvals"]!.AsArray().Select(t => (int)t!));
        Assert.Equal("reversed", (string?)y["autorange"]);
        Assert.Equal(5, trace["z"]!.AsArray().Count);
    }

    [Fact]
    public void Hover_names_the_query_token_the_key_token_and_the_exact_weight()
    {
        var result = ResultFor("the cat saw the dog");
        var trace = FigureOf(Plots.Weights(result))["data"]![0]!;
        var hover = (string?)trace["text"]![3]![1];
        Assert.Contains("query: the (3)", hover, StringComparison.Ordinal);
        Assert.Contains("key: cat (1)", hover, StringComparison.Ordinal);
        Assert.Contains($"weight: {result.Weights[3, 1]:0.000000}", hover, StringComparison.Ordinal);
        Assert.Equal("%{text}<extra></extra>", (string?)trace["hovertemplate"]);
    }

    [Fact]
    public void Masked_scores_are_empty_cells_marked_minus_infinity_never_nan()
    {
        var tokens = Tokenizer.Words("a b c");
        var x = new Embeddings(4, seed: 1).Embed(tokens);
        var result = new SelfAttention(4, 4, 4, seed: 2).Forward(x, Mask.Causal(3), tokens: tokens);
        var trace = FigureOf(Plots.Scores(result, masked: true))["data"]![0]!;
        Assert.Null(trace["z"]![0]![2]);
        Assert.NotNull(trace["z"]![2]![0]);
        Assert.Contains("masked (−∞)", (string?)trace["text"]![0]![2], StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", Plots.Scores(result, masked: true).ToHtml(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_nan_matrix_is_refused_instead_of_drawn_blank()
    {
        var values = Matrix<double>.Build.Dense(2, 2, double.NaN);
        var error = Assert.Throws<ArgumentException>(() => Plots.Heatmap(values, ["a", "b"], ["a", "b"], "broken"));
        Assert.Contains("holds NaN", error.Message, StringComparison.Ordinal);
        var labels = Assert.Throws<ArgumentException>(() => Plots.Heatmap(Matrix<double>.Build.Dense(2, 2), ["a"], ["a", "b"], "labels"));
        Assert.Contains("[2 x 2] but there are 1 row labels", labels.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_chart_carries_its_numbers_as_a_table()
    {
        var result = ResultFor("one two");
        var html = Plots.Weights(result).ToHtml();
        Assert.Contains("<table", html, StringComparison.Ordinal);
        Assert.Contains(result.Weights[1, 0].ToString("F4", System.Globalization.CultureInfo.InvariantCulture), html, StringComparison.Ordinal);

        var lines = Plots.Lines("t", "x", "y", [1, 2], [("a", [3.5, 4.25])]);
        Assert.Contains("4.25", lines.TableHtml, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Plots.Lines("t", "x", "y", [1, 2], [("a", [0.0, 1.0])], logY: true));
    }

    [Fact]
    public void Heads_share_one_scale_and_show_one_colour_bar()
    {
        var tokens = Tokenizer.Words("a b c d");
        var result = new MultiHeadAttention(8, 4, seed: 1).Forward(new Embeddings(8, seed: 1).Embed(tokens), tokens: tokens);
        var grid = Plots.Heads(result);
        Assert.Equal(4, grid.Figures.Count);
        Assert.All(grid.Figures, f => Assert.Equal(1.0, (double?)FigureOf(f)["data"]![0]!["zmax"]));
        Assert.Equal(1, grid.Figures.Count(f => (bool?)FigureOf(f)["data"]![0]!["showscale"] == true));
    }

    [Fact]
    public void A_long_text_heatmap_stays_small_and_says_what_its_table_shows()
    {
        var n = 512;
        var labels = Enumerable.Range(0, n).Select(i => $"w{i}").ToList();
        var weights = Matrix<double>.Build.Dense(n, n, 1.0 / n);
        var figure = Plots.Heatmap(weights, labels, labels, "long", "weight", 0, 1);
        var trace = FigureOf(figure)["data"]![0]!;
        Assert.Null(trace["text"]);
        Assert.Contains("%{z:.6f}", (string?)trace["hovertemplate"], StringComparison.Ordinal);
        Assert.True(figure.ToHtml().Length < 8_000_000, $"the chart of a 512 x 512 head is {figure.ToHtml().Length:N0} characters");
        Assert.Contains("The first 64 of 512 rows and 64 of 512 columns", figure.TableHtml, StringComparison.Ordinal);
        Assert.Equal(Plots.TableSide + 1, figure.TableHtml.Split("<tr>").Length - 1);
        var small = FigureOf(Plots.Heatmap(weights.SubMatrix(0, 8, 0, 8), labels[..8], labels[..8], "short"))["data"]![0]!;
        Assert.NotNull(small["text"]);
    }

    [Fact]
    public void Every_displayed_type_renders_its_own_numbers_and_labels()
    {
        var tokens = Tokenizer.Words("a b");
        var x = new Embeddings(4, seed: 1).Embed(tokens);
        var multi = new MultiHeadAttention(4, 2, seed: 1).Forward(x, tokens: tokens);
        var head = multi.Heads[0];
        var exercise = Exercise.Check("1", 1, 1, "");
        var causal = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 0 }, { 1, 1 } });
        var cases = new (object Value, Action<string> Check)[]
        {
            (head, html => AssertFigures(html, [head.Weights], ["a", "b"])),
            (multi, html => AssertFigures(html, [.. multi.Weights], ["a", "b"])),
            (Mask.Causal(2), html => AssertFigures(html, [causal], ["0", "1"])),
            (x, html =>
            {
                Assert.Contains("matrix [2 x 4]", html, StringComparison.Ordinal);
                Assert.All(x.Enumerate(), v => Assert.Contains(v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture), html, StringComparison.Ordinal));
            }),
            (Plots.Weights(head), html => AssertFigures(html, [head.Weights], ["a", "b"])),
            (Plots.Heads(multi), html => AssertFigures(html, [.. multi.Weights], ["a", "b"])),
            (Plots.Weights(head).Chart, html => AssertFigures(html, [head.Weights], ["a", "b"])),
            (exercise, html => Assert.Contains($"na-correct\"", html, StringComparison.Ordinal)),
            (LayerPlots.Pieces("pieces", ["a", "[SEP]"]), html =>
            {
                Assert.Contains(">a<sub", html, StringComparison.Ordinal);
                Assert.Contains(">[SEP]<sub", html, StringComparison.Ordinal);
            }),
            (new NotebookAttention.Training.GradientCheckResult([new("w", 0, 1, 0.5, 0.5000001, 2e-7)]), html =>
            {
                Assert.Contains("data-largest=\"2E-07\"", html, StringComparison.Ordinal);
                Assert.Contains("largest relative error 2.0E-07 (at w[0, 1]), at most 1E-6: the backward pass agrees", html, StringComparison.Ordinal);
            }),
            (new ShareReport(1, 4, 0, 0.25, 100, 0.95), html => Assert.Contains("The head puts 95.0% of the weight on the right key at step 100", html, StringComparison.Ordinal)),
            (new FirstLossReport(2.9912, 11), html => Assert.Contains("is 2.991, against ln 11 = 2.398", html, StringComparison.Ordinal)),
            (new HeldOutAccuracy(10, 40, 40, 0.01), html => Assert.Contains("40 of 40 tokens right (100.00%)", html, StringComparison.Ordinal)),
        };
        Assert.Equal(NotebookDisplay.Types.Count, cases.Length);
        Assert.All(NotebookDisplay.Types, type => Assert.Contains(cases, c => type.IsInstanceOfType(c.Value)));
        foreach (var (value, check) in cases)
        {
            check(NotebookDisplay.ToHtml(value));
        }

        Assert.Throws<ArgumentException>(() => NotebookDisplay.ToHtml("a string"));
    }

    /// <summary>
    /// The figures the HTML hands to plotly.js, parsed back: one heatmap per expected matrix, whose cells are that
    /// matrix (to the 15 digits JSON keeps) and whose axes name the tokens.
    /// </summary>
    private static void AssertFigures(string html, IReadOnlyList<Matrix<double>> expected, IReadOnlyList<string> labels)
    {
        var figures = html.Split("var figure = ")[1..].Select(part => JsonNode.Parse(part[..part.IndexOf(";\n", StringComparison.Ordinal)])!).ToList();
        Assert.Equal(expected.Count, figures.Count);
        foreach (var (figure, matrix) in figures.Zip(expected))
        {
            var trace = figure["data"]![0]!;
            Assert.Equal("heatmap", (string?)trace["type"]);
            var z = trace["z"]!.AsArray();
            Assert.Equal(matrix.RowCount, z.Count);
            for (var row = 0; row < matrix.RowCount; row++)
            {
                Assert.Equal(matrix.Row(row).ToArray(), z[row]!.AsArray().Select(cell => (double)cell!), (a, b) => Math.Abs(a - b) < 1e-14);
            }

            Assert.Equal(labels, figure["layout"]!["yaxis"]!["ticktext"]!.AsArray().Select(t => (string?)t));
            Assert.Equal(labels, figure["layout"]!["xaxis"]!["ticktext"]!.AsArray().Select(t => (string?)t));
        }
    }

    [Fact]
    public void Offline_loader_carries_the_whole_of_plotly_compressed()
    {
        var script = OfflinePlotly.Script();
        Assert.True(script.Length > 3_000_000, $"plotly.js is {script.Length} characters");
        var loader = OfflinePlotly.LoaderHtml();
        var packed = loader.Split("var packed = \"")[1].Split('"')[0];
        using var gzip = new GZipStream(new MemoryStream(Convert.FromBase64String(packed)), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        Assert.Equal(script, reader.ReadToEnd());
        Assert.True(loader.Length < script.Length / 2, $"the loader is {loader.Length} characters");
        Assert.Contains(OfflinePlotly.LoaderId, loader, StringComparison.Ordinal);
    }
}
