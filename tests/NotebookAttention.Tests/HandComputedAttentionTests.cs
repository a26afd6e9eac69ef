using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Tests;

/// <summary>Small cases whose expected numbers were worked out by hand from softmax(Q K^T / sqrt(d_k)) V.</summary>
public class HandComputedAttentionTests
{
    private static Matrix<double> M(double[,] rows) => Matrix<double>.Build.DenseOfArray(rows);

    [Fact]
    public void Two_tokens_d2_orthogonal_queries()
    {
        // Q = K = I, so S = I / sqrt(2); row 0 is softmax([0.70711, 0]) = [e^0.70711, 1] / (e^0.70711 + 1).
        var identity = M(new double[,] { { 1, 0 }, { 0, 1 } });
        var values = M(new double[,] { { 1, 2 }, { 3, 4 } });
        var result = ScaledDotProductAttention.Compute(identity, identity, values);

        Assert.Equal(1 / Math.Sqrt(2), result.Scale, 15);
        Assert.Equal(0.7071067811865475, result.Scores[0, 0], 15);
        Assert.Equal(0.0, result.Scores[0, 1]);
        AssertRow([0.6697615493266569, 0.3302384506733431], result.Weights, 0);
        AssertRow([0.3302384506733431, 0.6697615493266569], result.Weights, 1);
        AssertRow([1.6604769013466862, 2.6604769013466862], result.Output, 0);
        AssertRow([2.3395230986533138, 3.3395230986533138], result.Output, 1);
    }

    private static readonly Matrix<double> Q3 = M(new double[,] { { 1, 0, 1, 0 }, { 0, 2, 0, 0 }, { 1, 1, 1, 1 } });
    private static readonly Matrix<double> K3 = M(new double[,] { { 1, 1, 0, 0 }, { 0, 0, 1, 1 }, { 2, 0, 0, 0 } });
    private static readonly Matrix<double> V3 = M(new double[,] { { 1, 0 }, { 0, 1 }, { 1, 1 } });

    [Fact]
    public void Three_tokens_d4_scores_and_scaling()
    {
        // Q K^T = [[1, 1, 2], [2, 0, 0], [2, 2, 2]]; sqrt(4) = 2 halves it.
        var raw = ScaledDotProductAttention.Compute(Q3, K3, V3, scaled: false);
        Assert.Equal(M(new double[,] { { 1, 1, 2 }, { 2, 0, 0 }, { 2, 2, 2 } }), raw.Scores);
        Assert.Equal(1.0, raw.Scale);

        var scaled = ScaledDotProductAttention.Compute(Q3, K3, V3);
        Assert.Equal(M(new double[,] { { 0.5, 0.5, 1 }, { 1, 0, 0 }, { 1, 1, 1 } }), scaled.Scores);
        // Row 0: [e^0.5, e^0.5, e^1] / (2 e^0.5 + e).
        AssertRow([0.274068619061197, 0.274068619061197, 0.45186276187760605], scaled.Weights, 0);
        // Row 1: [e, 1, 1] / (e + 2).
        AssertRow([0.5761168847658291, 0.21194155761708544, 0.21194155761708544], scaled.Weights, 1);
        // Row 2: equal scores, equal weights.
        AssertRow([1 / 3.0, 1 / 3.0, 1 / 3.0], scaled.Weights, 2);
        AssertRow([0.725931380938803, 0.725931380938803], scaled.Output, 0);
        AssertRow([0.7880584423829146, 0.4238831152341709], scaled.Output, 1);
        AssertRow([2 / 3.0, 2 / 3.0], scaled.Output, 2);
    }

    [Fact]
    public void Three_tokens_d4_with_causal_mask()
    {
        var result = ScaledDotProductAttention.Compute(Q3, K3, V3, Mask.Causal(3));
        Assert.True(double.IsNegativeInfinity(result.MaskedScores[0, 1]));
        Assert.Equal(0.5, result.Scores[0, 1]);
        // Row 0 sees only key 0; row 1 sees [1, 0] -> [e, 1] / (e + 1); row 2 sees all three equal scores.
        AssertRow([1, 0, 0], result.Weights, 0);
        AssertRow([0.7310585786300049, 0.2689414213699951, 0], result.Weights, 1);
        AssertRow([1 / 3.0, 1 / 3.0, 1 / 3.0], result.Weights, 2);
        AssertRow([1, 0], result.Output, 0);
        AssertRow([0.7310585786300049, 0.2689414213699951], result.Output, 1);
    }

    [Fact]
    public void Projections_compute_x_w_plus_b()
    {
        var projection = new LinearProjection(M(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } }), Vector<double>.Build.Dense([10, 20]));
        var y = projection.Apply(M(new double[,] { { 1, 0, 1 }, { 0, 1, 0 } }));
        Assert.Equal(M(new double[,] { { 16, 28 }, { 13, 24 } }), y);
    }

    [Fact]
    public void Loop_and_matrix_weighted_sums_agree()
    {
        var weights = M(new double[,] { { 0.25, 0.75 }, { 1, 0 } });
        var values = M(new double[,] { { 4, 8 }, { 0, 4 } });
        var expected = M(new double[,] { { 1, 5 }, { 4, 8 } });
        Assert.Equal(expected, WeightedSum.Of(weights, values));
        Assert.Equal(expected, WeightedSum.OfLoops(weights, values));
    }

    private static void AssertRow(double[] expected, Matrix<double> matrix, int row)
    {
        Assert.Equal(expected.Length, matrix.ColumnCount);
        for (var column = 0; column < expected.Length; column++)
        {
            Assert.Equal(expected[column], matrix[row, column], 12);
        }
    }
}
