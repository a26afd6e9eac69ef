using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

public class MultiHeadAttentionTests
{
    [Fact]
    public void Split_gives_each_head_its_block_of_columns_and_concatenation_undoes_it()
    {
        var q = Matrix<double>.Build.Dense(2, 6, (row, column) => (10 * row) + column);
        var heads = MultiHeadAttention.SplitHeads(q, 3);
        Assert.Equal(3, heads.Count);
        Assert.Equal([0.0, 1.0], heads[0].Row(0).ToArray());
        Assert.Equal([14.0, 15.0], heads[2].Row(1).ToArray());
        Assert.Equal(q, MultiHeadAttention.ConcatenateHeads(heads));
    }

    [Fact]
    public void Forward_keeps_every_step_with_its_shape()
    {
        var tokens = Tokenizer.Words("Увага да сябе дазваляе мадэлі ўзважваць словы");
        var x = new Embeddings(16, seed: 1).Embed(tokens);
        var result = new MultiHeadAttention(16, 4, seed: 2).Forward(x, tokens: tokens);

        Assert.Equal(tokens, result.Tokens);
        Assert.Equal(4, result.HeadCount);
        Assert.Equal((7, 16), (result.Queries.RowCount, result.Queries.ColumnCount));
        Assert.All(result.Heads, h => Assert.Equal((7, 4), (h.Queries.RowCount, h.Queries.ColumnCount)));
        Assert.All(result.Weights, w => Assert.Equal((7, 7), (w.RowCount, w.ColumnCount)));
        Assert.Equal((7, 16), (result.Concatenated.RowCount, result.Concatenated.ColumnCount));
        Assert.Equal((7, 16), (result.Output.RowCount, result.Output.ColumnCount));
        Assert.Equal(0.5, result.Heads[0].Scale);
        Assert.Equal(result.Heads[1].Output, result.Concatenated.SubMatrix(0, 7, 4, 4));
        Assert.Equal(result.Concatenated * new MultiHeadAttention(16, 4, seed: 2).OutputProjection.Weight, result.Output);
    }

    [Fact]
    public void Heads_differ_because_their_projections_differ()
    {
        var x = new Embeddings(8, seed: 1).Embed(Tokenizer.Words("a b c d e"));
        var result = new MultiHeadAttention(8, 2, seed: 5).Forward(x);
        Assert.NotEqual(result.Weights[0], result.Weights[1]);
    }

    [Fact]
    public void Same_seed_same_layer()
    {
        Assert.Equal(new MultiHeadAttention(8, 2, seed: 9).Projections.Key.Weight, new MultiHeadAttention(8, 2, seed: 9).Projections.Key.Weight);
        Assert.NotEqual(new MultiHeadAttention(8, 2, seed: 9).Projections.Key.Weight, new MultiHeadAttention(8, 2, seed: 10).Projections.Key.Weight);
    }

    [Fact]
    public void Xavier_initialisation_stays_inside_its_limit()
    {
        var projection = LinearProjection.Create(30, 10, seed: 4);
        var limit = Math.Sqrt(6.0 / 40);
        Assert.All(projection.Weight.Enumerate(), w => Assert.InRange(w, -limit, limit));
        Assert.True(projection.Weight.Enumerate().Max() > 0.8 * limit);
        Assert.Null(projection.Bias);
        Assert.NotNull(LinearProjection.Create(30, 10, seed: 4, bias: true).Bias);
    }

    [Theory]
    [InlineData(10, 3, "d_model = 10 is not divisible by heads = 3 (10 / 3 leaves 1)", "1, 2, 5, 10")]
    [InlineData(12, 5, "d_model = 12 is not divisible by heads = 5 (12 / 5 leaves 2)", "1, 2, 3, 4, 6, 12")]
    public void Heads_that_do_not_divide_d_model_are_refused_with_the_choices(int dModel, int heads, string problem, string choices)
    {
        var error = Assert.Throws<ArgumentException>(() => new MultiHeadAttention(dModel, heads));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains(choices, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Zero_heads_are_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MultiHeadAttention(8, 0));
        Assert.Contains("at least 1 head", error.Message, StringComparison.Ordinal);
    }
}
