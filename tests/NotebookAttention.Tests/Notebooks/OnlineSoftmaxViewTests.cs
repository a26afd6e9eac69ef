using System.Globalization;
using System.Text.RegularExpressions;
using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests.Notebooks;

/// <summary>Notebook 06's table of the online softmax and its check against the reference path, and exercise 4.</summary>
public class OnlineSoftmaxViewTests
{
    private static Matrix<double> Column(params double[] entries) => Matrix<double>.Build.DenseOfColumnArrays(entries);

    [Fact]
    public void The_table_prints_each_blocks_maxima_rescale_and_sum_and_the_differences_from_the_reference()
    {
        // Scores [1, 3, 5, 0] in blocks of 2, as worked out in TiledAttentionTests: block 1 rescales by e^(3 - 5).
        var (q, k, v) = (Column(1.0), Column(1.0, 3, 5, 0), Column(10.0, 20, 30, 40));
        var trace = TiledAttention.Trace(q, k, v, 0, 2, scaled: false);
        var text = OnlineSoftmaxView.Steps(trace, ["a", "b", "c", "d"], ScaledDotProductAttention.Compute(q, k, v, scaled: false));
        var lines = text.Split('\n');
        Assert.Equal("query 0 (\"a\"), keys in blocks of 2:", lines[0]);
        Assert.Equal(["0", "0-1", "3.0000", "-inf", "3.0000", "0.000000", "1.135335", "1.135335", "1.0000", "3.0000"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["1", "2-3", "5.0000", "3.0000", "5.0000", "0.135335", "1.006738", "1.160389", "5.0000", "0.0000"], lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var differences = Regex.Matches(lines[4], @"largest difference (\S+) \(fp64 bound").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, differences.Count);
        Assert.All(differences, d => Assert.InRange(d, 0, 1e-14));
    }

    [Fact]
    public void A_long_block_shows_its_first_scores_and_counts_the_rest()
    {
        var (q, k, v) = (Column(1.0), Column([.. Enumerable.Range(0, 10).Select(i => (double)i)]), Column(new double[10]));
        var text = OnlineSoftmaxView.Steps(TiledAttention.Trace(q, k, v, 0, 10), [.. Enumerable.Range(0, 10).Select(i => $"t{i}")], ScaledDotProductAttention.Compute(q, k, v));
        Assert.Contains("(+4 more)", text, StringComparison.Ordinal);
        Assert.Equal(1, OnlineSoftmaxView.BlockSizeFor(1));
        Assert.Equal(1, OnlineSoftmaxView.BlockSizeFor(4));
        Assert.Equal(2, OnlineSoftmaxView.BlockSizeFor(5));
        Assert.Equal(3, OnlineSoftmaxView.BlockSizeFor(12));
        Assert.Equal(75, OnlineSoftmaxView.BlockSizeFor(300));
    }

    [Fact]
    public void The_comparison_says_equal_only_when_both_differences_are_within_the_printed_bound()
    {
        var q = Matrix<double>.Build.Dense(7, 4, (i, j) => Math.Sin(i + (3 * j)));
        var text = OnlineSoftmaxView.CompareWithReference(q, q, q, 3);
        var printed = Regex.Matches(text, @"(\S+) with(?:out a| the causal) mask").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        var bound = double.Parse(Regex.Match(text, @"fp64 rounding bound for these inputs (\S+):").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(2, printed.Count);
        Assert.Equal(TiledAttention.RoundingBound(q, q, q, 3), bound, 5e-3 * bound);   // printed with 3 significant digits
        Assert.EndsWith(OnlineSoftmaxView.Verdict(printed[0], printed[1], bound), text, StringComparison.Ordinal);
        Assert.StartsWith("equal", OnlineSoftmaxView.Verdict(1e-15, 0, 1e-12), StringComparison.Ordinal);
        Assert.StartsWith("NOT equal", OnlineSoftmaxView.Verdict(1e-15, 2e-12, 1e-12), StringComparison.Ordinal);
        Assert.StartsWith("NOT equal", OnlineSoftmaxView.Verdict(1e-11, 0, 1e-12), StringComparison.Ordinal);
        Assert.StartsWith("NOT equal", OnlineSoftmaxView.Verdict(double.NaN, 0, 1e-12), StringComparison.Ordinal);
    }

    [Fact]
    public void Exercise_4_counts_the_blocks_of_one_key_that_rescale()
    {
        // Scores [1, 3, 2, 5, 5, 0]: new records at 3 and 5 (the tie at 5 does not rescale): 2, whatever the block size.
        var (q, k) = (Column(1.0), Column(1.0, 3, 2, 5, 5, 0));
        var v = Column(new double[6]);
        Assert.True(Exercises.Cost.RescalesOneKeyAtATime(2, TiledAttention.Trace(q, k, v, 0, 4, scaled: false)).IsCorrect);
        Assert.False(Exercises.Cost.RescalesOneKeyAtATime(3, TiledAttention.Trace(q, k, v, 0, 1, scaled: false)).IsCorrect);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.Cost.RescalesOneKeyAtATime(null, TiledAttention.Trace(q, k, v, 0, 1, scaled: false)).Status);

        // The check agrees with the solution's way: trace one key at a time and count the factors below 1 after the first.
        var rows = from n in Gen.Int[1, 30] from scores in Gen.Double[-5, 5].Array[n] from block in Gen.Int[1, 31] select (scores, block);
        Property.Holds(rows, t =>
        {
            var keys = Column(t.scores);
            var values = Column(new double[t.scores.Length]);
            var oneByOne = TiledAttention.Trace(Column(1.0), keys, values, 0, 1, scaled: false);
            var expected = oneByOne.Blocks.Skip(1).Count(b => b.Rescale < 1);
            Assert.True(Exercises.Cost.RescalesOneKeyAtATime(expected, TiledAttention.Trace(Column(1.0), keys, values, 0, t.block, scaled: false)).IsCorrect);
        });
    }
}
