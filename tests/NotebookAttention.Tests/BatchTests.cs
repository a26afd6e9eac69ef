using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

public class BatchTests
{
    private static readonly string[] Sentences = ["The cat sat on the mat .", "Увага да сябе", "Hi"];

    [Fact]
    public void Sentences_are_padded_to_the_longest_with_labels_and_masks()
    {
        var batch = PaddedBatch.FromSentences(Sentences, new Embeddings(8, seed: 1));
        Assert.Equal(3, batch.Count);
        Assert.Equal(7, batch.PaddedLength);
        Assert.Equal([7, 3, 1], batch.ValidLengths);
        Assert.Equal(["Hi", "<pad>", "<pad>", "<pad>", "<pad>", "<pad>", "<pad>"], batch.Labels[2]);
        Assert.All(batch.Inputs, x => Assert.Equal((7, 8), (x.RowCount, x.ColumnCount)));
        Assert.Equal("■······\n·······\n·······\n·······\n·······\n·······\n·······\n", batch.PaddingMask(2).ToString());
    }

    [Fact]
    public void Real_tokens_get_the_same_output_padded_or_alone()
    {
        var embeddings = new Embeddings(8, seed: 1);
        var layer = new MultiHeadAttention(8, 2, seed: 3, bias: true);
        var batched = layer.Forward(PaddedBatch.FromSentences(Sentences, embeddings));
        for (var s = 0; s < Sentences.Length; s++)
        {
            var alone = layer.Forward(embeddings.Embed(Tokenizer.Tokenize(Sentences[s])));
            var length = alone.Output.RowCount;
            var padded = batched[s].Output.SubMatrix(0, length, 0, 8);
            Assert.True((alone.Output - padded).Enumerate().All(d => Math.Abs(d) < 1e-12));
            Assert.All(batched[s].Output.SubMatrix(length, 7 - length, 0, 8).Enumerate(), v => Assert.Equal(0.0, v));
        }
    }

    [Fact]
    public void Causal_batch_combines_both_masks()
    {
        var batch = PaddedBatch.FromSentences(Sentences, new Embeddings(4, seed: 1), positions: true);
        var results = new MultiHeadAttention(4, 2, seed: 3).Forward(batch, causal: true);
        Assert.Equal("■······\n■■·····\n■■■····\n·······\n·······\n·······\n·······\n", results[1].Mask!.ToString());
        Assert.Equal(0.0, results[1].Heads[0].Weights[1, 2]);
    }
}
