using NotebookAttention.Attention;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

public class LongSentenceTests
{
    [Fact]
    public void Ten_thousand_word_sentence_works_on_the_reference_path()
    {
        string[] words = ["увага", "attention", "да", "looks", "сябе", "at", "every", "word", ",", "."];
        var sentence = string.Join(' ', Enumerable.Range(0, 10_000).Select(i => words[(i * 7) % words.Length]));
        var tokens = Tokenizer.Words(sentence);
        Assert.Equal(10_000, tokens.Count);

        var x = PositionalEncoding.AddTo(new Embeddings(16, seed: 1).Embed(tokens));
        var result = new SelfAttention(16, 8, 8, seed: 2).Forward(x, Mask.Causal(tokens.Count), tokens: tokens);

        Assert.Equal((10_000, 8), (result.Output.RowCount, result.Output.ColumnCount));
        Assert.All(result.Output.Enumerate(), v => Assert.True(double.IsFinite(v)));
        foreach (var row in new[] { 0, 1, 4_999, 9_999 })
        {
            Assert.Equal(1.0, result.Weights.Row(row).Sum(), 9);
        }

        Assert.Equal(1.0, result.Weights[0, 0]);
        Assert.Equal(0.0, result.Weights[5, 6]);
        // The last token's output is its weighted sum of all 10,000 values, computed again by hand.
        var last = result.Weights.Row(9_999) * result.Values;
        Assert.True((last - result.Output.Row(9_999)).AbsoluteMaximum() < 1e-12);
    }
}
