using System.Globalization;
using System.Text.Json.Nodes;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests.Notebooks;

/// <summary>
/// A learner's 2,000-word paragraph must leave every picture small enough for a notebook (at most 10 MB per
/// executed notebook, notebook 04 draws 21 heatmaps) and readable, and each picture must say that it is cut.
/// </summary>
public class LongInputTests
{
    /// <summary>Bytes of HTML one figure may take: 21 heatmaps in notebook 04 must stay well under 10 MB together.</summary>
    private const int FigureBudget = 300_000;

    private const int Long = 2_000;

    private static readonly IReadOnlyList<string> LongTokens = [.. Enumerable.Range(0, Long).Select(i => $"w{i}")];

    private const int Shown = LongInput.TokensShown;

    private static readonly string LongNote = $"showing the first {Shown} of {Long.ToString("N0", CultureInfo.InvariantCulture)} tokens";

    private static JsonNode Trace(Figure figure, int index = 0) => JsonNode.Parse(figure.Json)!["data"]![index]!;

    private static AttentionResult ResultOver(IReadOnlyList<string> tokens)
    {
        var x = PositionalEncoding.AddTo(new Embeddings(16, seed: 1).Embed(tokens));
        return new SelfAttention(16, 8, 8, seed: 2).Forward(x, tokens: tokens);
    }

    [Fact]
    public void A_heatmap_of_2000_tokens_shows_the_first_32_within_its_budget_and_says_so_on_title_and_in_text()
    {
        var figure = Plots.Weights(ResultOver(LongTokens), "Weights");
        var html = figure.ToHtml();
        Assert.True(html.Length < FigureBudget, $"the heatmap of {Long} tokens is {html.Length:N0} characters (budget {FigureBudget:N0})");
        Assert.Equal(Shown, Trace(figure)["z"]!.AsArray().Count);
        Assert.Equal(Shown, Trace(figure)["z"]![0]!.AsArray().Count);
        Assert.Contains(LongNote, figure.Title, StringComparison.Ordinal);
        Assert.Contains(LongNote, figure.ToString(), StringComparison.Ordinal);
        Assert.Contains(LongNote, (string?)JsonNode.Parse(figure.Json)!["layout"]!["title"]!["text"], StringComparison.Ordinal);
        Assert.Contains($"Showing the first {Shown}", html, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(0, Shown).Select(i => $"w{i}"), JsonNode.Parse(figure.Json)!["layout"]!["xaxis"]!["ticktext"]!.AsArray().Select(t => (string?)t));
        var layout = JsonNode.Parse(figure.Json)!["layout"]!;
        Assert.False((bool)layout["yaxis"]!["automargin"]!);
        Assert.Equal(90, (int)layout["margin"]!["l"]!);
        Assert.Equal(Plots.TableSide + 1, Count(figure.TableHtml, "<tr>"));
        Assert.Contains($"The first {Plots.TableSide} of {Long} rows and {Plots.TableSide} of {Long} columns (the chart draws at most {Shown})", figure.TableHtml, StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_sentence_is_drawn_whole_with_token_hover_text_and_no_note()
    {
        var tokens = Tokenizer.Words("The animal didn't cross the street because it was too tired.");
        var figure = Plots.Weights(ResultOver(tokens), "Weights");
        Assert.Equal(tokens.Count, Trace(figure)["z"]!.AsArray().Count);
        Assert.NotNull(Trace(figure)["text"]);
        Assert.Equal("Weights", figure.Title);
        Assert.True((bool)JsonNode.Parse(figure.Json)!["layout"]!["yaxis"]!["automargin"]!);
        Assert.DoesNotContain("showing the first", figure.ToHtml(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Vectors_of_2000_tokens_keep_every_dimension_and_the_first_32_tokens()
    {
        var values = Matrix<double>.Build.Dense(Long, 16, (r, c) => Math.Sin(r + c));
        var figure = Plots.Vectors(values, LongTokens, "X");
        Assert.True(figure.ToHtml().Length < FigureBudget, $"{figure.ToHtml().Length:N0} characters");
        Assert.Equal(Shown, Trace(figure)["z"]!.AsArray().Count);
        Assert.Equal(16, Trace(figure)["z"]![0]!.AsArray().Count);
        Assert.Contains(LongNote, figure.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Steps_and_heads_of_2000_tokens_stay_within_budget_and_say_it_once_above_the_grid()
    {
        var steps = Plots.Steps(ResultOver(LongTokens), "yours").ToHtml();
        Assert.True(steps.Length < 3 * FigureBudget, $"three steps are {steps.Length:N0} characters");
        Assert.Equal(1, Count(steps, $"Showing the first {Shown}"));
        var x = PositionalEncoding.AddTo(new Embeddings(16, seed: 1).Embed(LongTokens));
        var heads = Plots.Heads(new MultiHeadAttention(16, 4, seed: 3).Forward(x, tokens: LongTokens)).ToHtml();
        Assert.True(heads.Length < 4 * FigureBudget, $"four heads are {heads.Length:N0} characters");
        Assert.Contains(LongNote, heads, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mask_of_2000_tokens_displays_within_budget()
    {
        var html = NotebookDisplay.ToHtml(Mask.Causal(Long));
        Assert.True(html.Length < FigureBudget, $"{html.Length:N0} characters");
        Assert.Contains(LongNote, html, StringComparison.Ordinal);
    }

    [Fact]
    public void Bars_of_2000_tokens_show_the_first_32_and_say_so()
    {
        var figure = Plots.Bars("listens", LongTokens, [.. Enumerable.Repeat(1.0 / Long, Long)], "weight");
        Assert.True(figure.ToHtml().Length < FigureBudget, $"{figure.ToHtml().Length:N0} characters");
        Assert.Equal(Shown, Trace(figure)["y"]!.AsArray().Count);
        Assert.Contains($"showing the first {Shown} of {Long:N0} bars", figure.Title, StringComparison.Ordinal);
        Assert.Equal(Shown, Count(figure.TableHtml, "<tr>") - 1);
    }

    [Fact]
    public void Graphs_and_path_lengths_of_2000_tokens_draw_the_first_32()
    {
        var graph = RecurrencePlots.Graph(DependencyGraph.Build(Architecture.SelfAttention, Long), LongTokens, 0, Long - 1);
        Assert.True(graph.ToHtml().Length < FigureBudget, $"the graph is {graph.ToHtml().Length:N0} characters");
        Assert.Contains($"showing the first 32 of {Long:N0} tokens", graph.Title, StringComparison.Ordinal);
        Assert.Equal(Shown, JsonNode.Parse(graph.Json)!["layout"]!["xaxis"]!["ticktext"]!.AsArray().Count);
        var paths = RecurrencePlots.PathLengths(Architecture.Convolution(3), LongTokens);
        Assert.True(paths.ToHtml().Length < FigureBudget, $"the path lengths are {paths.ToHtml().Length:N0} characters");
        Assert.Contains(LongNote, paths.Title, StringComparison.Ordinal);
        var z = Trace(paths)["z"]!.AsArray();
        Assert.Equal(Shown, z.Count);
        var full = DependencyGraph.Build(Architecture.Convolution(3), 200).PathLengthsFrom(5);
        Assert.Equal(full.Take(Shown).Select(d => d < 0 ? (double?)null : d), z[5]!.AsArray().Select(v => (double?)v));
    }

    [Fact]
    public void Path_lengths_over_the_tokens_drawn_are_those_of_the_whole_sentence()
    {
        var tokens = LongTokens.Take(100).ToList();
        foreach (var architecture in new[] { Architecture.Recurrent, Architecture.Convolution(3), Architecture.DilatedConvolution(2), Architecture.SelfAttention, Architecture.Restricted(4) })
        {
            var prefix = Trace(RecurrencePlots.PathLengths(architecture, tokens))["z"]!.ToJsonString();
            var whole = Trace(RecurrencePlots.PathLengths(DependencyGraph.Build(architecture, tokens.Count), tokens))["z"]!.ToJsonString();
            Assert.Equal(whole, prefix);
        }
    }

    [Fact]
    public void Steps_first_to_last_of_a_text_too_long_for_one_graph_are_measured_over_the_tokens_drawn()
    {
        // 5,000 tokens: a whole stack of 3-wide convolutions would have 2,500 layers x 5,000 states, past the graph limit.
        var tokens = Enumerable.Range(0, 5_000).Select(i => $"w{i}").ToList();
        Assert.Throws<ArgumentOutOfRangeException>(() => DependencyGraph.Build(Architecture.Convolution(3), tokens.Count));
        Architecture[] kinds = [Architecture.Recurrent, Architecture.Convolution(3), Architecture.DilatedConvolution(2), Architecture.SelfAttention];
        var figure = RecurrencePlots.StepsFirstToLast(kinds, tokens);
        Assert.Contains($"showing the first {Shown} of 5,000 tokens", figure.Title, StringComparison.Ordinal);
        Assert.Contains($"\"w{Shown - 1}\"", figure.Title, StringComparison.Ordinal);
        // Steps (reads) from input 0 to a state at position 31: recurrent, 1 up from the input and 31 along the layer;
        // convolutions of width 3 move 2 positions a layer, 31 / 2 rounded up = 16; dilated ones of width 2 reach
        // 1 + 2 + 4 + 8 + 16 = 31 in 5 layers; attention, 1.
        Assert.Equal([32.0, 16.0, 5.0, 1.0], Trace(figure)["y"]!.AsArray().Select(v => (double)v!));
        // 0 to 8: 1 + 8 recurrent; 8 / 2 = 4 convolutions; 1 + 2 + 4 = 7 < 8, so 4 dilated layers; 1.
        var nine = RecurrencePlots.StepsFirstToLast(kinds, tokens.Take(9).ToList());
        Assert.DoesNotContain("showing", nine.Title, StringComparison.Ordinal);
        Assert.Equal([9.0, 4.0, 4.0, 1.0], Trace(nine)["y"]!.AsArray().Select(v => (double)v!));
    }

    [Fact]
    public void A_head_view_of_512_pieces_shows_32_keys_around_the_query_and_says_which()
    {
        var tokens = LongTokens.Take(512).ToList();
        var figure = LayerPlots.HeadView(ResultOver(tokens), 256, "view");
        Assert.True(figure.ToHtml().Length < FigureBudget, $"{figure.ToHtml().Length:N0} characters");
        Assert.Contains("showing tokens 240 to 271 of 512", figure.Title, StringComparison.Ordinal);
        var labels = JsonNode.Parse(figure.Json)!["data"]!.AsArray()[^1]!["text"]!.AsArray().Select(t => (string?)t).ToList();
        Assert.Equal(Shown, labels.Count);
        Assert.Equal("w240", labels[0]);
        Assert.Contains("w256", labels);
    }

    [Fact]
    public void The_note_names_what_is_cut_and_the_window_holds_its_focus()
    {
        Assert.Equal(12, LongInput.Shown(12));
        Assert.Equal(Shown, LongInput.Shown(Long));
        Assert.Equal(LongNote, LongInput.Note(Shown, Long, "tokens"));
        Assert.Equal((0, 32), LongInput.Window(Long, 3));
        Assert.Equal((Long - 32, 32), LongInput.Window(Long, Long - 1));
        Assert.Equal((84, 32), LongInput.Window(Long, 100));
        Assert.Equal((0, 5), LongInput.Window(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => LongInput.Window(5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LongInput.Shown(-1));
    }

    [Fact]
    public void A_100000_character_word_is_labelled_short_in_every_picture()
    {
        var word = new string('a', 100_000);
        IReadOnlyList<string> tokens = ["The", word, "ran", "."];
        var result = ResultOver(tokens);
        Figure[] figures =
        [
            Plots.Weights(result, $"How much \"{word}\" listens"),
            Plots.Vectors(result.Output, tokens, "Output"),
            Plots.Bars($"How much \"{word}\" listens", tokens, [.. result.Weights.Row(1)]),
            RecurrencePlots.Graph(Architecture.Recurrent, tokens, 1, 3),
            RecurrencePlots.PathLengths(Architecture.SelfAttention, tokens),
            LayerPlots.HeadView(result, 1, "view"),
        ];
        foreach (var figure in figures)
        {
            Assert.True(figure.ToHtml().Length < 50_000, $"\"{figure.Title[..Math.Min(40, figure.Title.Length)]}\" is {figure.ToHtml().Length:N0} characters");
            Assert.Contains(LongInput.Label(word), figure.ToHtml(), StringComparison.Ordinal);
        }

        Assert.Equal(new string('a', LongInput.LabelLength - 1) + "…", LongInput.Label(word));
        Assert.Equal("ran", LongInput.Label("ran"));
    }

    private static int Count(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;
}
