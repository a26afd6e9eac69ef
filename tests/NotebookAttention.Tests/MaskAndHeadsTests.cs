using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Notebooks;
using NotebookAttention.Tests.Support;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

/// <summary>Notebooks 04 and 05 (issue 11): the two padding conventions, the fp32-minimum fill, parameter counts.</summary>
public class MaskAndHeadsTests
{
    private static readonly Gen<(int DModel, int Heads, bool Bias)> DividingLayer =
        from dModel in Gen.Int[1, 48]
        from pick in Gen.Int[0, 47]
        from bias in Gen.Bool
        let divisors = Enumerable.Range(1, dModel).Where(h => dModel % h == 0).ToArray()
        select (dModel, divisors[pick % divisors.Length], bias);

    [Fact]
    public void A_layer_whose_heads_split_d_model_has_4_d_model_squared_parameters_for_every_h()
    {
        Property.Holds(DividingLayer, c =>
        {
            var layer = new MultiHeadAttention(c.DModel, c.Heads, seed: c.DModel, bias: c.Bias);
            var d = (long)c.DModel;
            Assert.Equal((4 * d * d) + (c.Bias ? 4 * d : 0), layer.ParameterCount);
        });
    }

    [Fact]
    public void A_layer_whose_heads_do_not_split_d_model_counts_its_wider_matrices()
    {
        var shapes = from dModel in Gen.Int[1, 24] from heads in Gen.Int[1, 8] from dk in Gen.Int[1, 8] from dv in Gen.Int[1, 8] select (dModel, heads, dk, dv);
        Property.Holds(shapes, c =>
        {
            var layer = new MultiHeadAttention(
                QkvProjections.Create(c.dModel, c.heads * c.dk, c.heads * c.dv, seed: 1),
                LinearProjection.Create(c.heads * c.dv, c.dModel, seed: 2),
                c.heads);
            Assert.Equal((c.dk, c.dv), (layer.HeadDK, layer.HeadDV));
            var expected = (2L * c.dModel * c.heads * c.dk) + (2L * c.dModel * c.heads * c.dv);
            Assert.Equal(expected, layer.ParameterCount);
        });
    }

    [Fact]
    public void A_T5_style_layer_runs_with_more_head_columns_than_d_model()
    {
        var tokens = Tokenizer.Words("The animal didn't cross the street");
        var x = new Embeddings(16, seed: 1).Embed(tokens);
        var wide = new MultiHeadAttention(QkvProjections.Create(16, 24, 24, seed: 5), LinearProjection.Create(24, 16, seed: 6), heads: 3);
        var result = wide.Forward(x);
        Assert.Equal((tokens.Count, 24), (result.Concatenated.RowCount, result.Concatenated.ColumnCount));
        Assert.Equal((tokens.Count, 16), (result.Output.RowCount, result.Output.ColumnCount));
        Assert.Equal(4L * 16 * 24, wide.ParameterCount);
        var counts = ParameterCounts.Of([("h = 4", new MultiHeadAttention(16, 4, seed: 3)), ("h = 16", new MultiHeadAttention(16, 16, seed: 3)), ("3 heads of 8", wide)]);
        Assert.Contains("every layer has 4·d_model² = 1024 parameters, whatever h is.", counts.Conclusion, StringComparison.Ordinal);
        Assert.Contains("3 heads of 8: h·d_k = 24 ≠ d_model = 16, 1536 = 4·d_model·h·d_k parameters.", counts.Conclusion, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_padding_hides_the_padding_keys_from_every_query_and_padding_also_hides_the_padding_queries()
    {
        var lengths = from padded in Gen.Int[1, 30] from valid in Gen.Int[1, padded] select (valid, padded);
        Property.Holds(lengths, c =>
        {
            var keys = Mask.KeyPadding(c.valid, c.padded);
            var both = Mask.Padding(c.valid, c.padded);
            for (var q = 0; q < c.padded; q++)
            {
                for (var k = 0; k < c.padded; k++)
                {
                    Assert.Equal(k < c.valid, keys[q, k]);
                    Assert.Equal(q < c.valid && k < c.valid, both[q, k]);
                }
            }
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => Mask.KeyPadding(0, 3));
    }

    [Fact]
    public void The_fp32_minimum_gives_the_same_weights_as_minus_infinity_except_on_fully_masked_rows_which_become_uniform()
    {
        var cases = from n in Gen.Int[1, 12] from scores in Generators.Matrix(n, n, bound: 30) from mask in Generators.Mask(n, n) select (n, scores, mask);
        Property.Holds(cases, c =>
        {
            var exact = Softmax.Rows(c.mask.Apply(c.scores));
            var finite = Softmax.Rows(c.mask.AddFp32Minimum(c.scores));
            for (var q = 0; q < c.n; q++)
            {
                if (c.mask.IsFullyMasked(q))
                {
                    Assert.Equal(0, exact.Row(q).Sum());
                    Assert.All(finite.Row(q), w => Assert.Equal(1.0 / c.n, w, 1e-12));
                }
                else
                {
                    Assert.True((exact.Row(q) - finite.Row(q)).InfinityNorm() <= 1e-12, $"row {q} differs");
                }
            }
        });
    }

    [Fact]
    public void The_padding_comparison_says_what_its_numbers_show()
    {
        var batch = PaddedBatch.FromSentences(["one two three four five six", "seven eight"], new Embeddings(16, seed: 1), positions: true);
        var head = new SelfAttention(dModel: 16, dK: 8, dV: 8, seed: 2);
        var compared = PaddingConventions.Compare(head, batch, sentence: 1);

        Assert.Equal(0, compared.LargestRealRowDifference);
        for (var row = 2; row < 6; row++)
        {
            Assert.Equal(0, compared.QueriesAndKeys.Output.Row(row).L2Norm());
            Assert.Equal(1, compared.KeysOnly.Weights.Row(row).Sum(), 1e-12);
            Assert.True(compared.RowDifferences[row] > 0);
        }

        Assert.StartsWith("Real tokens: the same outputs under both masks", compared.Conclusion, StringComparison.Ordinal);
        Assert.Contains("Padding rows 2 to 5: with queries and keys masked (this library) they attend to nothing: weights and output 0; with keys only (PyTorch, BERT) they attend to the 2 real tokens: weights sum to 1", compared.Conclusion, StringComparison.Ordinal);
        Assert.Contains("untrained weights", compared.Table().Title, StringComparison.Ordinal);
        Assert.Contains("has no padding", PaddingConventions.Compare(head, batch, sentence: 0).Conclusion, StringComparison.Ordinal);
    }

    [Fact]
    public void Tables_of_a_long_batch_show_a_readable_part_and_say_so()
    {
        var words = string.Join(' ', Enumerable.Range(0, 50).Select(i => $"w{i}"));
        var batch = PaddedBatch.FromSentences([words, "seven eight"], new Embeddings(16, seed: 1));
        var compared = PaddingConventions.Compare(new SelfAttention(16, 8, 8, seed: 2), batch, sentence: 1);
        var table = compared.Table();
        Assert.Equal(1 + 2 + PaddingConventions.RowsShown, System.Text.RegularExpressions.Regex.Count(table.Html, "<tr><th"));   // the header row too
        Assert.Contains("Table: showing the first 16 of 48 padding rows; the sentences above cover every row.", table.Title, StringComparison.Ordinal);
        Assert.Contains("Padding rows 2 to 49", compared.Conclusion, StringComparison.Ordinal);

        var blind = Mask.FromFunction(50, 50, (query, _) => query != 0);
        var row = FullyMaskedRow.Of(new SelfAttention(16, 8, 8, seed: 2).Forward(batch.Inputs[0], blind), 0);
        Assert.Contains("showing the first 32 of 50 keys", row.Table().Title, StringComparison.Ordinal);
        Assert.Contains("all 50 weights are 0.02 = 1/50", row.Conclusion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fully_masked_row_is_empty_with_minus_infinity_and_uniform_with_the_fp32_minimum()
    {
        var tokens = Tokenizer.Words("Увага да сябе дазваляе мадэлі");
        var x = PositionalEncoding.AddTo(new Embeddings(16, seed: 1).Embed(tokens));
        var blind = Mask.FromFunction(tokens.Count, tokens.Count, (query, _) => query != 0);
        var result = new SelfAttention(16, 8, 8, seed: 2).Forward(x, blind, tokens: tokens);
        var row = FullyMaskedRow.Of(result, 0);

        Assert.Equal(0, row.EmptyOutput.L2Norm());
        Assert.All(row.FiniteWeights, w => Assert.Equal(0.2, w, 1e-12));
        Assert.True((row.FiniteOutput - (result.Values.ColumnSums() / 5)).InfinityNorm() < 1e-12);
        Assert.Contains("With −∞ the row is empty", row.Conclusion, StringComparison.Ordinal);
        Assert.Contains("the row is uniform: all 5 weights are 0.2 = 1/5", row.Conclusion, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => FullyMaskedRow.Of(result, 1));
    }

    [Fact]
    public void Masking_exercises_are_checked_from_the_learners_batch()
    {
        var batch = PaddedBatch.FromSentences(["one two three four five six", "seven eight"], new Embeddings(16, seed: 1));
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.Masking.AllowedCells(null, batch).Status);
        Assert.True(Exercises.Masking.AllowedCells(l => l * (l + 1) / 2, batch).IsCorrect);
        Assert.False(Exercises.Masking.AllowedCells(l => l * l, batch).IsCorrect);
        Assert.False(Exercises.Masking.AllowedCells(l => l == 2 ? 3 : 21, batch).IsCorrect);   // right on the batch only

        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.Masking.LeftPaddedCausalEmptyRows(null, batch, 1).Status);
        Assert.True(Exercises.Masking.LeftPaddedCausalEmptyRows([3, 0, 2, 1], batch, 1).IsCorrect);
        Assert.False(Exercises.Masking.LeftPaddedCausalEmptyRows([2, 3, 4, 5], batch, 1).IsCorrect);
        Assert.True(Exercises.Masking.LeftPaddedCausalEmptyRows([], batch, 0).IsCorrect);
    }

    [Fact]
    public void Multi_head_exercises_are_checked_from_the_learners_layer()
    {
        // Exercise 1: PyTorch's default layer, with biases: 4 d^2 + 4 d, whatever h; 4 d^2 (no biases) is wrong.
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.MultiHead.ParameterCountWithBiases(null, 64, 8).Status);
        Assert.True(Exercises.MultiHead.ParameterCountWithBiases(16640, 64, 8).IsCorrect);
        Assert.True(Exercises.MultiHead.ParameterCountWithBiases(16640, 64, 2).IsCorrect);
        Assert.True(Exercises.MultiHead.ParameterCountWithBiases((4 * 1024 * 1024) + (4 * 1024), 1024, 16).IsCorrect);
        Assert.False(Exercises.MultiHead.ParameterCountWithBiases(16384, 64, 8).IsCorrect);
        Assert.False(Exercises.MultiHead.ParameterCountWithBiases(16384 + 64, 64, 8).IsCorrect);
        Assert.False(Exercises.MultiHead.ParameterCountWithBiases(16640, 64, 7).IsCorrect);

        // Exercise 2: 5 heads, queries and keys of 4, values of 6: 2*16*20 + 16*30 + 30*16 = 1600, not 4*16*20 = 1280.
        var five = new MultiHeadAttention(QkvProjections.Create(16, 20, 30, seed: 5), LinearProjection.Create(30, 16, seed: 6), heads: 5);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.MultiHead.FiveHeadsOfFourAndSix(null, null).Status);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.MultiHead.FiveHeadsOfFourAndSix(five, null).Status);
        Assert.True(Exercises.MultiHead.FiveHeadsOfFourAndSix(five, 1600).IsCorrect);
        Assert.False(Exercises.MultiHead.FiveHeadsOfFourAndSix(five, 1280).IsCorrect);
        var fourByFour = new MultiHeadAttention(QkvProjections.Create(16, 20, 20, seed: 5), LinearProjection.Create(20, 16, seed: 6), heads: 5);
        Assert.False(Exercises.MultiHead.FiveHeadsOfFourAndSix(fourByFour, 1280).IsCorrect);
        Assert.False(Exercises.MultiHead.FiveHeadsOfFourAndSix(new MultiHeadAttention(16, 4, seed: 1), 1024).IsCorrect);

        // Exercise 3: the check takes the learner's run, with or without positions, then says whether it is the
        // original output reordered: always without positions, with positions only for the identity order.
        var tokens = Tokenizer.Words("The animal didn't cross the street");
        var x = new Embeddings(16, seed: 1).Embed(tokens);
        var layer = new MultiHeadAttention(16, 4, seed: 3);
        int[] identity = [.. Enumerable.Range(0, tokens.Count)];
        int[] order = [.. Enumerable.Range(0, tokens.Count).Reverse()];
        var permuted = Matrix<double>.Build.DenseOfRowVectors(order.Select(x.Row));
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.MultiHead.PermutationEquivariance(null, order, false, layer, x).Status);
        var withoutPositions = Exercises.MultiHead.PermutationEquivariance(layer.Forward(permuted).Output, order, false, layer, x);
        Assert.True(withoutPositions.IsCorrect);
        Assert.Contains("are the original output's rows in the new order", withoutPositions.Message, StringComparison.Ordinal);
        Assert.False(Exercises.MultiHead.PermutationEquivariance(layer.Forward(x).Output, order, false, layer, x).IsCorrect);
        Assert.False(Exercises.MultiHead.PermutationEquivariance(layer.Forward(PositionalEncoding.AddTo(permuted)).Output, order, false, layer, x).IsCorrect);
        Assert.False(Exercises.MultiHead.PermutationEquivariance(layer.Forward(permuted).Output, [0, 0, 1, 2, 3, 4], false, layer, x).IsCorrect);

        var identityWithPositions = Exercises.MultiHead.PermutationEquivariance(layer.Forward(PositionalEncoding.AddTo(x)).Output, identity, true, layer, x);
        Assert.True(identityWithPositions.IsCorrect, identityWithPositions.Message);
        Assert.Contains("are the original output's rows in the new order", identityWithPositions.Message, StringComparison.Ordinal);
        var reversedWithPositions = Exercises.MultiHead.PermutationEquivariance(layer.Forward(PositionalEncoding.AddTo(permuted)).Output, order, true, layer, x);
        Assert.True(reversedWithPositions.IsCorrect, reversedWithPositions.Message);
        Assert.Contains("are NOT the original output's rows", reversedWithPositions.Message, StringComparison.Ordinal);
        Assert.False(Exercises.MultiHead.PermutationEquivariance(layer.Forward(permuted).Output, order, true, layer, x).IsCorrect);
        Assert.False(Exercises.MultiHead.PermutationEquivariance(PositionalEncoding.AddTo(permuted) * 0, order, true, layer, x).IsCorrect);
    }
}
