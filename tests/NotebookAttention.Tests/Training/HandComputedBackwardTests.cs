using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>Backward steps on inputs small enough to differentiate by hand.</summary>
public class HandComputedBackwardTests
{
    private static Matrix<double> M(double[,] values) => Matrix<double>.Build.DenseOfArray(values);

    [Fact]
    public void Softmax_backward_of_a_two_vector_is_a_times_dA_minus_its_weighted_mean()
    {
        // s = [0, ln 3] gives a = [1/4, 3/4]; with dA = [1, 0], a . dA = 1/4 and dS = a ∘ (dA - 1/4) = [3/16, -3/16].
        var weights = Softmax.Rows(M(new[,] { { 0, Math.Log(3) } }));
        Assert.Equal(0.25, weights[0, 0], 15);
        var scoreGradient = Softmax.RowsBackward(weights, M(new double[,] { { 1, 0 } }));
        Assert.Equal(3.0 / 16, scoreGradient[0, 0], 15);
        Assert.Equal(-3.0 / 16, scoreGradient[0, 1], 15);
    }

    [Fact]
    public void Softmax_backward_of_a_fully_masked_row_is_zero_not_nan()
    {
        var mask = Mask.FromFunction(2, 2, (query, _) => query == 0);
        var weights = Softmax.Rows(mask.Apply(M(new double[,] { { 1, 2 }, { 3, 4 } })));
        var scoreGradient = mask.Backward(Softmax.RowsBackward(weights, M(new double[,] { { 5, -1 }, { 7, 9 } })));
        Assert.Equal([0.0, 0.0], scoreGradient.Row(1).ToArray());
        Assert.All(scoreGradient.Row(0), g => Assert.NotEqual(0.0, g));
    }

    [Fact]
    public void Cross_entropy_gradient_is_p_minus_onehot_over_the_scored_count()
    {
        // logits [0, ln 3] give p = [1/4, 3/4]; target 1: loss -ln(3/4), gradient (p - [0, 1]) / N with N = 2 scored in the batch.
        var logits = M(new[,] { { 0, Math.Log(3) }, { 5, -5 } });
        var targets = new[] { 1, SequenceBatch.Ignored };
        var forward = SoftmaxCrossEntropy.Forward(logits, targets);
        Assert.Equal(-Math.Log(0.75), forward.LossSum, 14);
        Assert.Equal(1, forward.Scored);
        Assert.Equal(1, forward.Correct);
        var gradient = SoftmaxCrossEntropy.Backward(forward, targets, scoredInBatch: 2);
        Assert.Equal(0.25 / 2, gradient[0, 0], 15);
        Assert.Equal(-0.25 / 2, gradient[0, 1], 15);
        Assert.Equal([0.0, 0.0], gradient.Row(1).ToArray());
    }

    [Fact]
    public void Linear_backward_of_one_token_gives_dY_W_transposed_outer_product_and_column_sums()
    {
        // X = [1 2], W = [[1 0 2], [0 1 1]], dY = [1 1 1]: dX = dY W^T = [3 2], dW = X^T dY = [[1 1 1], [2 2 2]], db = [1 1 1].
        var projection = new LinearProjection(M(new double[,] { { 1, 0, 2 }, { 0, 1, 1 } }), Vector<double>.Build.Dense(3));
        var gradients = projection.Backward(M(new double[,] { { 1, 2 } }), M(new double[,] { { 1, 1, 1 } }));
        Assert.Equal(M(new double[,] { { 3, 2 } }), gradients.DInput);
        Assert.Equal(M(new double[,] { { 1, 1, 1 }, { 2, 2, 2 } }), gradients.DWeight);
        Assert.Equal([1.0, 1.0, 1.0], gradients.DBias!.ToArray());
    }

    [Fact]
    public void Scores_backward_scales_dS_K_and_dS_transposed_Q_by_one_over_sqrt_d()
    {
        // q = [1 0], K = [[1 0], [0 2]], dS = [1 1], s = 1/sqrt(2): dQ = s [1 2], dK = s [[1 0], [1 0]].
        var s = 1 / Math.Sqrt(2);
        var (dQ, dK) = Scores.Backward(M(new double[,] { { 1, 0 } }), M(new double[,] { { 1, 0 }, { 0, 2 } }), M(new double[,] { { 1, 1 } }), s);
        Assert.Equal(s, dQ[0, 0], 15);
        Assert.Equal(2 * s, dQ[0, 1], 15);
        Assert.Equal(M(new[,] { { s, 0 }, { s, 0 } }), dK);
    }

    [Fact]
    public void Layer_norm_passes_no_gradient_for_a_shift_of_every_output_entry()
    {
        // With g = 1, dY = c·1 only asks to move the row's mean, which LayerNorm removes: dX = 0 (and db = c per column).
        var norm = new LayerNorm(Matrix<double>.Build.Dense(1, 3, 1.0), Matrix<double>.Build.Dense(1, 3));
        var forward = norm.Forward(M(new double[,] { { 1, 2, 4 } }));
        var gradients = norm.Backward(forward, M(new double[,] { { 0.5, 0.5, 0.5 } }));
        Assert.All(gradients.DInput.Row(0), g => Assert.Equal(0.0, g, 14));
        Assert.Equal([0.5, 0.5, 0.5], gradients.DBias.ToArray());
    }

    [Fact]
    public void Gelu_is_zero_at_zero_half_slope_there_and_close_to_x_for_large_x()
    {
        Assert.Equal(0.0, Gelu.Of(0));
        Assert.Equal(0.5, Gelu.Slope(0), 15);
        Assert.Equal(5.0, Gelu.Of(5), 5);
        Assert.Equal(0.0, Gelu.Of(-6), 6);
    }
}
