using CsCheck;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using NotebookAttention.Analysis;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;
using NotebookAttention.Tests.Support;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests.Notebooks;

/// <summary>
/// The checks behind the exercises of notebooks 00-03: what the solutions compute is marked right, plausible mistakes
/// are marked wrong, an empty answer is "not answered", and the facts the solutions teach hold on generated sentences.
/// </summary>
public class ExercisesStartToWeightedSumTests
{
    private static readonly string[] Words = ["the", "cat", "saw", "dog", "it", "was", "tired", "увага", "слова", ",", "."];

    private static readonly Gen<List<string>> Sentences = Gen.Int[0, Words.Length - 1].List[1, 12].Select(ix => ix.Select(i => Words[i]).ToList());

    private static readonly Embeddings Table = new(dimension: 16, seed: 1);

    private static readonly QkvProjections Projections = QkvProjections.Create(dModel: 16, dK: 8, dV: 8, seed: 2);

    // What notebooks 02 and 03 compute from a sentence: positions added, the series' seeds.
    private static (Matrix<double> X, AttentionResult Result) Notebook(IReadOnlyList<string> tokens)
    {
        var x = PositionalEncoding.AddTo(Table.Embed(tokens));
        var (q, k, v) = Projections.Project(x);
        return (x, ScaledDotProductAttention.Compute(q, k, v, tokens: tokens));
    }

    [Fact]
    public void Start_five_tokens_two_marks_counts_what_the_tokenizer_finds()
    {
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.Start.FiveTokensTwoMarks(null).Status);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.Start.FiveTokensTwoMarks("  ").Status);
        Assert.True(Exercises.Start.FiveTokensTwoMarks("Добры дзень, сябар!").IsCorrect);
        Assert.True(Exercises.Start.FiveTokensTwoMarks("Hello, dear friend!").IsCorrect);
        var four = Exercises.Start.FiveTokensTwoMarks("Hello, friend!");
        Assert.Equal(ExerciseStatus.Wrong, four.Status);
        Assert.Contains("4 tokens", four.Message, StringComparison.Ordinal);
        Assert.False(Exercises.Start.FiveTokensTwoMarks("don't stop me now!").IsCorrect); // 5 tokens, 1 mark
        Assert.False(Exercises.Start.FiveTokensTwoMarks("I saw 3.14 🙂 today").IsCorrect);  // 5 tokens, no mark
    }

    [Theory]
    [InlineData(",", true)]
    [InlineData("?", true)]
    [InlineData("—", true)]
    [InlineData("«", true)]
    [InlineData("don't", false)]
    [InlineData("3.14", false)]
    [InlineData("🙂", false)]
    [InlineData("+", false)]
    public void Punctuation_is_a_token_of_punctuation_marks_only(string token, bool expected) =>
        Assert.Equal(expected, Exercises.Start.IsPunctuation(token));

    [Fact]
    public void Qkv_same_query_without_positions_is_the_repeated_word_and_positions_tell_them_apart()
    {
        Assert.True(Exercises.Qkv.SameQueryWithoutPositions((0, 3), Table, Projections).IsCorrect);
        Assert.False(Exercises.Qkv.SameQueryWithoutPositions((0, 1), Table, Projections).IsCorrect);
        Assert.False(Exercises.Qkv.SameQueryWithoutPositions((3, 0), Table, Projections).IsCorrect);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.Qkv.SameQueryWithoutPositions(null, Table, Projections).Status);

        // The solution says positions make the two queries differ.
        var tokens = Tokenizer.Words(Exercises.Qkv.Example);
        var q = Projections.Query.Apply(PositionalEncoding.AddTo(Table.Embed(tokens)));
        Assert.True((q.Row(0) - q.Row(3)).AbsoluteMaximum() > 1e-3);
    }

    [Fact]
    public void Qkv_weight_count_is_the_matrices_sizes_whatever_the_length()
    {
        Assert.True(Exercises.Qkv.WeightCount(16 * 8 * 3, Projections).IsCorrect);
        Assert.False(Exercises.Qkv.WeightCount(16 * 8 * 3 * 100, Projections).IsCorrect);
        Assert.True(Exercises.Qkv.WeightCount((16 * 4 * 2) + (16 * 12), QkvProjections.Create(16, 4, 12, seed: 3)).IsCorrect);
        Assert.True(Exercises.Qkv.WeightCount((16 * 8 * 3) + (8 * 3), QkvProjections.Create(16, 8, 8, seed: 3, bias: true)).IsCorrect);
    }

    [Fact]
    public void Qkv_query_of_a_sum_is_the_sum_of_queries_without_bias_only()
    {
        var tokens = Tokenizer.Words("attention is all you need");
        var x = PositionalEncoding.AddTo(Table.Embed(tokens));
        var (q, _, _) = Projections.Project(x);
        Assert.True(Exercises.Qkv.QueryOfASum(q.Row(0) + q.Row(tokens.Count - 1), x, Projections).IsCorrect);
        Assert.False(Exercises.Qkv.QueryOfASum(q.Row(0) + q.Row(1), x, Projections).IsCorrect);
        Assert.False(Exercises.Qkv.QueryOfASum(q.Row(0), x, Projections).IsCorrect);
        var biased = QkvProjections.Create(16, 8, 8, seed: 2, bias: true);
        var (qb, _, _) = biased.Project(x);
        Assert.False(Exercises.Qkv.QueryOfASum(qb.Row(0) + qb.Row(tokens.Count - 1), x, biased).IsCorrect);
        var one = PositionalEncoding.AddTo(Table.Embed(["word"]));
        var (q1, _, _) = Projections.Project(one);
        Assert.True(Exercises.Qkv.QueryOfASum(2 * q1.Row(0), one, Projections).IsCorrect);
    }

    [Fact]
    public void Scores_shifting_every_score_of_a_row_keeps_the_weights_up_to_rounding_and_shifting_one_column_does_not()
    {
        // Shifts from 1e-3 to 1e9 in size, both signs: large shifts round score + shift, and the check must allow that.
        var cases = from words in Sentences
                    from exponent in Gen.Double[-3, 9]
                    from negative in Gen.Bool
                    select (words, shift: (negative ? -1 : 1) * Math.Pow(10, exponent));
        Property.Holds(cases, c =>
        {
            var (_, result) = Notebook(c.words);
            var shifted = Softmax.Rows(result.Scores + c.shift);
            var verdict = Exercises.ScoresAndSoftmax.ShiftedWeights("same", shifted, c.shift, result);
            Assert.True(verdict.IsCorrect, verdict.Message);
            Assert.False(Exercises.ScoresAndSoftmax.ShiftedWeights("grow", shifted, c.shift, result).IsCorrect);
            Assert.False(Exercises.ScoresAndSoftmax.ShiftedWeights("shrink", shifted, c.shift, result).IsCorrect);
            if (c.words.Count >= 2 && Math.Abs(c.shift) >= 1 && Math.Abs(c.shift) <= 1e6)
            {
                var oneColumn = result.Scores.Clone();
                oneColumn.SetColumn(0, oneColumn.Column(0) + c.shift);
                Assert.False(Exercises.ScoresAndSoftmax.ShiftedWeights("same", Softmax.Rows(oneColumn), c.shift, result).IsCorrect);
            }
        });
    }

    [Fact]
    public void Scores_shift_of_a_million_passes_although_rounding_moves_the_weights()
    {
        var tokens = Tokenizer.Words("The animal didn't cross the street because it was too tired.");
        var (_, result) = Notebook(tokens);
        var shifted = Softmax.Rows(result.Scores + 1e6);
        var moved = (shifted - result.Weights).Enumerate().Max(Math.Abs);
        Assert.True(moved > 1e-12, $"rounding moved the weights by {moved}: the old fixed bound of 1e-12 would have passed too");
        Assert.True(Exercises.ScoresAndSoftmax.ShiftedWeights("same", shifted, 1e6, result).IsCorrect);
        Assert.True(moved <= Exercises.ScoresAndSoftmax.ShiftTolerance(1e6, result.Scores.Enumerate().Max(Math.Abs)));
    }

    [Fact]
    public void Scores_shift_check_refuses_no_work_no_prediction_and_shifts_it_cannot_judge()
    {
        var (_, result) = Notebook(["attention", "is", "all", "you", "need"]);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.ScoresAndSoftmax.ShiftedWeights(null, null, 5, result).Status);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.ScoresAndSoftmax.ShiftedWeights("same", null, 5, result).Status);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.ScoresAndSoftmax.ShiftedWeights(null, Softmax.Rows(result.Scores + 5), 5, result).Status);
        Assert.False(Exercises.ScoresAndSoftmax.ShiftedWeights("same", result.Weights, 5, result).IsCorrect);
        Assert.False(Exercises.ScoresAndSoftmax.ShiftedWeights("maybe", Softmax.Rows(result.Scores + 5), 5, result).IsCorrect);
        Assert.False(Exercises.ScoresAndSoftmax.ShiftedWeights("same", Softmax.Rows(result.Scores), 0, result).IsCorrect);
        Assert.False(Exercises.ScoresAndSoftmax.ShiftedWeights("same", Softmax.Rows(result.Scores + 1e12), 1e12, result).IsCorrect);
        Assert.True(Exercises.ScoresAndSoftmax.ShiftedWeights(" Same ", Softmax.Rows(result.Scores - 300), -300, result).IsCorrect);
    }

    [Fact]
    public void Scores_scaled_variance_of_larger_entries_is_what_a_measurement_gives_and_only_16_passes()
    {
        // Measure q . k / sqrt(d_k) for entries of variance 4, so the check's closed form is tested against data.
        var random = new Xoshiro256StarStar(7);
        var sd = Math.Sqrt(Exercises.ScoresAndSoftmax.EntryVariance);
        var dK = Exercises.ScoresAndSoftmax.ExerciseDk;
        var scores = Enumerable.Range(0, 20_000).Select(_ =>
        {
            var q = Vector<double>.Build.Random(dK, new Normal(0, sd, random));
            var k = Vector<double>.Build.Random(dK, new Normal(0, sd, random));
            return q.DotProduct(k) / Math.Sqrt(dK);
        }).ToList();
        var mean = scores.Average();
        var measured = scores.Sum(s => (s - mean) * (s - mean)) / (scores.Count - 1);
        Assert.InRange(measured, 15.5, 16.5);
        Assert.True(Exercises.ScoresAndSoftmax.ScaledVarianceOfLargerEntries(16).IsCorrect);
        Assert.True(Exercises.ScoresAndSoftmax.ScaledVarianceOfLargerEntries(16.0 + 1e-12).IsCorrect);
        Assert.False(Exercises.ScoresAndSoftmax.ScaledVarianceOfLargerEntries(15).IsCorrect);
        Assert.False(Exercises.ScoresAndSoftmax.ScaledVarianceOfLargerEntries(17).IsCorrect);
        Assert.False(Exercises.ScoresAndSoftmax.ScaledVarianceOfLargerEntries(4).IsCorrect);
        Assert.False(Exercises.ScoresAndSoftmax.ScaledVarianceOfLargerEntries(1024).IsCorrect);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.ScoresAndSoftmax.ScaledVarianceOfLargerEntries(null).Status);
    }

    [Fact]
    public void Scores_doubling_never_raises_the_entropy_and_the_check_takes_the_direction_and_the_doubled_row()
    {
        Property.Holds(Sentences, words =>
        {
            var (_, result) = Notebook(words);
            var before = ScoreStatistics.Entropy(result.Weights.Row(0));
            var doubled = ScoreStatistics.Entropy(Softmax.Stable(2 * result.Scores.Row(0)));
            Assert.True(doubled <= before + 1e-12, $"{before} -> {doubled}");
            var direction = doubled < before - 1e-12 ? "down" : "same";
            Assert.True(Exercises.ScoresAndSoftmax.EntropyOfDoubledScores(direction, doubled, result).IsCorrect);
            Assert.False(Exercises.ScoresAndSoftmax.EntropyOfDoubledScores("up", doubled, result).IsCorrect);
            Assert.Equal(ExerciseStatus.NotAnswered, Exercises.ScoresAndSoftmax.EntropyOfDoubledScores(null, doubled, result).Status);
            Assert.Equal(ExerciseStatus.NotAnswered, Exercises.ScoresAndSoftmax.EntropyOfDoubledScores(direction, null, result).Status);
            if (before - doubled > 1e-5)
            {
                Assert.False(Exercises.ScoresAndSoftmax.EntropyOfDoubledScores("same", doubled, result).IsCorrect);
                var wrongNumber = Exercises.ScoresAndSoftmax.EntropyOfDoubledScores("down", before, result);
                Assert.False(wrongNumber.IsCorrect);
                Assert.DoesNotContain("Softmax.Stable(", wrongNumber.Message, StringComparison.Ordinal);
                Assert.DoesNotContain("Entropy(", wrongNumber.Message, StringComparison.Ordinal);
            }
        });
    }

    [Fact]
    public void WeightedSum_identical_values_give_that_value_on_every_row()
    {
        Property.Holds(Sentences, words =>
        {
            var (x, result) = Notebook(words);
            var (q, k, v) = Projections.Project(x);
            var same = Matrix<double>.Build.DenseOfRowVectors(Enumerable.Repeat(v.Row(0), words.Count));
            Assert.True(Exercises.WeightedSum.IdenticalValues(ScaledDotProductAttention.Compute(q, k, same).Output, result).IsCorrect);
            if (words.Count >= 2 && (v.Row(1) - v.Row(0)).AbsoluteMaximum() > 1e-6)
            {
                Assert.False(Exercises.WeightedSum.IdenticalValues(result.Output, result).IsCorrect);
            }
        });
    }

    [Fact]
    public void WeightedSum_reversing_without_positions_moves_row_0_to_the_last_row()
    {
        Property.Holds(Sentences, words =>
        {
            Assert.True(Exercises.WeightedSum.RowAfterReversing(words.Count - 1, words, Table, Projections).IsCorrect);
            var wrong = Enumerable.Range(0, words.Count).Where(j => words[words.Count - 1 - j] != words[0]).ToList();
            foreach (var j in wrong.Take(2))
            {
                Assert.False(Exercises.WeightedSum.RowAfterReversing(j, words, Table, Projections).IsCorrect);
            }
        });

        // A repeated first word: both of its rows are right.
        string[] repeated = ["the", "cat", "saw", "the"];
        Assert.True(Exercises.WeightedSum.RowAfterReversing(0, repeated, Table, Projections).IsCorrect);
        Assert.False(Exercises.WeightedSum.RowAfterReversing(1, repeated, Table, Projections).IsCorrect);
    }

    [Fact]
    public void WeightedSum_equal_scores_give_the_mean_of_the_values()
    {
        var (_, result) = Notebook(Tokenizer.Words("The cat sat on the mat because it was tired."));
        Assert.True(Exercises.WeightedSum.EqualScoresOutput(result.Values.ColumnSums() / result.Values.RowCount, result).IsCorrect);
        Assert.False(Exercises.WeightedSum.EqualScoresOutput(result.Output.Row(0), result).IsCorrect);
        Assert.False(Exercises.WeightedSum.EqualScoresOutput(result.Values.ColumnSums(), result).IsCorrect);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.WeightedSum.EqualScoresOutput(null, result).Status);
    }
}
