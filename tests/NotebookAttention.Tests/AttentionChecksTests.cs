using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Tests;

/// <summary>
/// Every rule of <c>AttentionChecks</c> refuses bad input with its message, both where input enters (Compute, Forward,
/// Backward) and in the public step a learner calls directly; the rules that had no test before are here.
/// </summary>
public class AttentionChecksTests
{
    private static Matrix<double> M(double[,] entries) => Matrix<double>.Build.DenseOfArray(entries);

    private static void Refused<TException>(Action action, string expected)
        where TException : ArgumentException =>
        Assert.Contains(expected, Assert.Throws<TException>(action).Message, StringComparison.Ordinal);

    [Fact]
    public void A_mask_that_does_not_fit_is_refused_at_every_entry_and_by_the_step()
    {
        var x = Matrix<double>.Build.Dense(4, 4, 0.5);
        var mask = Mask.Causal(3);
        const string Expected = "the mask is [3 x 3] but the scores are [4 x 4] (4 queries x 4 keys)";
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(x, x, x, mask)).ParamName);
        Refused<ArgumentException>(() => ScaledDotProductAttention.Compute(x, x, x, mask), Expected);
        Refused<ArgumentException>(() => new SelfAttention(4, 2, 2).Forward(x, mask), Expected);
        Refused<ArgumentException>(() => new MultiHeadAttention(4, 2).Forward(x, mask), Expected);
        Refused<ArgumentException>(() => mask.Apply(x), Expected);
    }

    [Fact]
    public void The_mask_refuses_scores_that_are_already_infinite()
    {
        var scores = M(new[,] { { 1.0, double.NegativeInfinity }, { 0.0, 1.0 } });
        Refused<ArgumentException>(() => Mask.Causal(2).Apply(scores), "scores [2 x 2] has -infinity at row 0, column 1");
        Refused<ArgumentException>(() => Mask.Causal(2).AddFp32Minimum(scores), "scores [2 x 2] has -infinity at row 0, column 1");
    }

    [Fact]
    public void Softmax_refuses_NaN_and_plus_infinity_but_takes_minus_infinity()
    {
        Refused<ArgumentException>(
            () => Softmax.Stable(Vector<double>.Build.Dense([0.0, double.NaN])),
            "scores has NaN at column 1: softmax needs finite scores (minus infinity marks a masked key)");
        Refused<ArgumentException>(
            () => Softmax.Rows(M(new[,] { { 0.0, 1.0, 2.0 }, { 0.0, 1.0, double.PositiveInfinity } })),
            "scores [2 x 3] row 1 has +infinity at column 2");
        Assert.Equal([1.0, 0.0], Softmax.Stable(Vector<double>.Build.Dense([0.0, double.NegativeInfinity])).ToArray());
    }

    [Fact]
    public void Overflowing_scores_are_refused_by_the_step_and_inside_every_head()
    {
        var huge = Matrix<double>.Build.Dense(1, 2, 1e200);
        const string Expected = "the scores Q K^T [1 x 1] overflowed fp64";
        Refused<ArgumentException>(() => Scores.DotProducts(huge, huge), Expected);
        Refused<ArgumentException>(() => Scores.Compute(huge, huge), Expected);
        Refused<ArgumentException>(() => ScaledDotProductAttention.Compute(huge, huge, huge), Expected);

        // Projections of 1e160 stay finite, but their dot products do not: the per-head core still checks its result.
        var layer = new MultiHeadAttention(4, 2, seed: 1);
        Refused<ArgumentException>(() => layer.Forward(Matrix<double>.Build.Dense(3, 4, 1e160)), "the scores Q K^T [3 x 3] overflowed fp64");
    }

    [Fact]
    public void The_weighted_sum_refuses_a_mismatch_non_finite_weights_and_overflow()
    {
        var values = Matrix<double>.Build.Dense(2, 2, 1.0);
        Refused<ArgumentException>(() => WeightedSum.Of(Matrix<double>.Build.Dense(2, 3, 0.5), values), "A is [2 x 3] but V is [2 x 2]: A needs one column per value (one per key), so 2 columns");
        Refused<ArgumentException>(() => WeightedSum.OfLoops(Matrix<double>.Build.Dense(2, 3, 0.5), values), "A needs one column per value");
        Refused<ArgumentException>(() => WeightedSum.Of(M(new[,] { { double.NaN, 0.5 } }), values), "attention weights A [1 x 2] has NaN at row 0, column 0");
        Refused<ArgumentException>(() => WeightedSum.Of(M(new[,] { { 2.0 } }), M(new[,] { { 1e308 } })), "the weighted sum A V [1 x 1] overflowed fp64");
        Refused<ArgumentException>(() => WeightedSum.OfLoops(M(new[,] { { 2.0 } }), M(new[,] { { 1e308 } })), "the weighted sum A V [1 x 1] overflowed fp64");
    }

    [Fact]
    public void A_projection_refuses_a_result_beyond_fp64()
    {
        var projection = new LinearProjection(M(new[,] { { 1e200 } }));
        Refused<ArgumentException>(() => projection.Apply(M(new[,] { { 1e200 } })), "the projection X W + b [1 x 1] overflowed fp64");
    }

    [Fact]
    public void Non_finite_token_vectors_are_refused_once_by_every_layer()
    {
        var x = Matrix<double>.Build.Dense(3, 4, 0.5);
        x[2, 1] = double.NaN;
        Refused<ArgumentException>(() => new SelfAttention(4, 2, 2).Forward(x), "projection input X [3 x 4] has NaN at row 2, column 1");
        Refused<ArgumentException>(() => QkvProjections.Create(4, 2, 2, seed: 0).Project(x), "projection input X [3 x 4] has NaN at row 2, column 1");
    }

    [Fact]
    public void Token_labels_must_match_the_rows_of_X()
    {
        var x = Matrix<double>.Build.Dense(3, 4, 0.5);
        Refused<ArgumentException>(() => new MultiHeadAttention(4, 2).Forward(x, tokens: ["a", "b"]), "2 token labels but X has 3 rows");
        Refused<ArgumentException>(() => new SelfAttention(4, 2, 2).Forward(x, tokens: ["a", "b"]), "2 token labels but X has 3 rows");
    }

    [Fact]
    public void Splitting_and_concatenating_heads_refuse_what_does_not_divide_or_match()
    {
        var matrix = Matrix<double>.Build.Dense(3, 4);
        Refused<ArgumentException>(() => MultiHeadAttention.SplitHeads(matrix, 3), "the column count of a [3 x 4] matrix = 4 is not divisible by heads = 3");
        Refused<ArgumentOutOfRangeException>(() => MultiHeadAttention.SplitHeads(matrix, 0), "heads = 0: multi-head attention needs at least 1 head");
        Refused<ArgumentException>(() => MultiHeadAttention.ConcatenateHeads([]), "there are 0 heads to concatenate");
        Refused<ArgumentException>(
            () => MultiHeadAttention.ConcatenateHeads([matrix, Matrix<double>.Build.Dense(3, 2)]),
            "head outputs have different shapes ([3 x 4], [3 x 2])");
    }

    [Fact]
    public void Every_backward_step_refuses_a_gradient_of_the_wrong_shape()
    {
        var x = Matrix<double>.Build.Dense(3, 2, 0.5);
        var forward = ScaledDotProductAttention.Compute(x, x, x, Mask.Causal(3));
        var wrong = Matrix<double>.Build.Dense(2, 2);
        Refused<ArgumentException>(() => ScaledDotProductAttention.Backward(forward, wrong), "the output O is [3 x 2] but dO is [2 x 2]: the gradient has the output's shape");
        Refused<ArgumentException>(() => WeightedSum.Backward(forward.Weights, x, wrong), "A is [3 x 3], V is [3 x 2] and dO is [2 x 2]: dO needs the shape of A V");
        Refused<ArgumentException>(() => Softmax.RowsBackward(forward.Weights, wrong), "A is [3 x 3] but dA is [2 x 2]: the gradient has the shape of the weights");
        Refused<ArgumentException>(() => forward.Mask!.Backward(wrong), "the mask is [3 x 3] but the gradient is [2 x 2]: pass the gradient of the masked scores");
        Refused<ArgumentException>(() => Scores.Backward(x, x, wrong, 1.0), "Q is [3 x 2], K is [3 x 2] and dS is [2 x 2]: dS needs one row per query and one column per key");

        var layer = new MultiHeadAttention(4, 2);
        var input = Matrix<double>.Build.Dense(3, 4, 0.5);
        Refused<ArgumentException>(() => layer.Backward(layer.Forward(input), wrong), "the output Y is [3 x 4] but dY is [2 x 2]: the gradient has the output's shape");
        Refused<ArgumentException>(() => layer.OutputProjection.Backward(input, wrong), "X is [3 x 4] and dY is [2 x 2] but W is [4 x 4]: X needs 4 columns and dY 4, both one row per token");
    }
}
