using MathNet.Numerics.LinearAlgebra;
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
        var layer = new SelfAttention(16, 8, 8, seed: 2);
        var result = layer.Forward(x, Mask.Causal(tokens.Count), tokens: tokens);

        Assert.Equal((10_000, 8), (result.Output.RowCount, result.Output.ColumnCount));
        Assert.All(result.Output.Enumerate(), v => Assert.True(double.IsFinite(v)));
        foreach (var row in new[] { 0, 1, 4_999, 9_999 })
        {
            Assert.Equal(1.0, result.Weights.Row(row).Sum(), 9);
        }

        Assert.Equal(1.0, result.Weights[0, 0]);
        Assert.Equal(0.0, result.Weights[5, 6]);
        // Sampled rows, computed again from X and the weights with plain loops in fp64 (no MathNet product): the
        // projections, the causal scores, a max-shifted softmax and the weighted sum. Summation order differs from
        // the library's, so agreement is to rounding: 10,000 terms of size <= 1 at 2^-53 each stay below 1e-11.
        var (wq, wk, wv) = (layer.Projections.Query.Weight, layer.Projections.Key.Weight, layer.Projections.Value.Weight);
        double[] Project(int row, Matrix<double> weight)
        {
            var projected = new double[weight.ColumnCount];
            for (var c = 0; c < weight.ColumnCount; c++)
            {
                for (var t = 0; t < x.ColumnCount; t++)
                {
                    projected[c] += x[row, t] * weight[t, c];
                }
            }

            return projected;
        }

        var keys = Enumerable.Range(0, tokens.Count).Select(j => Project(j, wk)).ToArray();
        var values = Enumerable.Range(0, tokens.Count).Select(j => Project(j, wv)).ToArray();
        foreach (var row in new[] { 0, 1, 2_345, 9_998, 9_999 })
        {
            var query = Project(row, wq);
            var scores = new double[row + 1];
            for (var j = 0; j <= row; j++)
            {
                for (var t = 0; t < query.Length; t++)
                {
                    scores[j] += query[t] * keys[j][t];
                }

                scores[j] /= Math.Sqrt(8);
            }

            var max = scores.Max();
            var exponentials = scores.Select(s => Math.Exp(s - max)).ToArray();
            var total = exponentials.Sum();
            for (var c = 0; c < 8; c++)
            {
                var expected = 0.0;
                for (var j = 0; j <= row; j++)
                {
                    expected += exponentials[j] / total * values[j][c];
                }

                Assert.True(Math.Abs(expected - result.Output[row, c]) < 1e-11, $"row {row}, column {c}: loops give {expected}, the library {result.Output[row, c]}");
            }
        }
    }
}
