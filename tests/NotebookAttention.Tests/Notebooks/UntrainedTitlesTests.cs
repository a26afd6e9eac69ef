using System.Text.Json.Nodes;
using NotebookAttention.Analysis;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests.Notebooks;

/// <summary>
/// Until training (notebook 09), every attention chart drawn with a default title comes from random weights and says
/// so, in the title plotly draws and in the heading above a grid (convention 3 of issue 11).
/// </summary>
public class UntrainedTitlesTests
{
    private static AttentionResult ResultFor(string sentence)
    {
        var tokens = Tokenizer.Words(sentence);
        var x = PositionalEncoding.AddTo(new Embeddings(16, seed: 1).Embed(tokens));
        return new SelfAttention(16, 8, 8, seed: 2).Forward(x, Mask.Causal(tokens.Count), tokens: tokens);
    }

    private static string DrawnTitle(Figure figure) => (string)JsonNode.Parse(figure.Json)!["layout"]!["title"]!["text"]!;

    [Fact]
    public void Default_titles_of_weights_and_scores_say_the_weights_are_untrained()
    {
        var result = ResultFor("the cat saw the dog");
        foreach (var figure in new[] { Plots.Weights(result), Plots.Scores(result), Plots.Scores(result, masked: true) })
        {
            Assert.Contains(Plots.Untrained, figure.Title, StringComparison.Ordinal);
            Assert.Contains(Plots.Untrained, DrawnTitle(figure), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_title_passed_in_is_kept_as_given_for_a_trained_model()
    {
        var result = ResultFor("the cat saw the dog");
        Assert.Equal("Layer 0, head 2", Plots.Weights(result, "Layer 0, head 2").Title);
        Assert.Equal("Scores S = Q Kᵀ", Plots.Scores(result, title: "Scores S = Q Kᵀ").Title);
    }

    [Theory]
    [InlineData("", "Scores, masked scores and weights (untrained weights)")]
    [InlineData("Sentence 1", "Sentence 1 (untrained weights)")]
    [InlineData("Sentence 1, untrained weights", "Sentence 1, untrained weights")]
    public void The_steps_heading_says_untrained_once(string title, string expected) =>
        Assert.Equal(expected, Plots.Steps(ResultFor("a b c"), title).Title);

    [Fact]
    public void Head_grids_and_the_scaling_grid_say_untrained_weights()
    {
        var tokens = Tokenizer.Words("the cat saw the dog");
        var x = PositionalEncoding.AddTo(new Embeddings(16, seed: 1).Embed(tokens));
        var heads = Plots.Heads(new MultiHeadAttention(16, 4, seed: 2).Forward(x, tokens: tokens));
        Assert.Contains(Plots.Untrained, heads.Title, StringComparison.Ordinal);
        var scaling = Plots.Scaling(ScalingDemonstration.Run(x, tokens, smallDk: 4, largeDk: 32, seed: 2));
        Assert.Contains(Plots.Untrained, scaling.Title, StringComparison.Ordinal);
        Assert.Contains(Plots.Untrained, heads.ToHtml(), StringComparison.Ordinal);
    }
}
