using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Tests;

/// <summary>
/// Small cases whose expected numbers come from closed forms worked out by hand from softmax(Q K^T / sqrt(d_k)) V
/// (written in each comment), evaluated in 28-digit <see cref="decimal"/> arithmetic by the series below, not by
/// .NET's Math.Exp or the library: the library's fp64 results must match them to a few units in the last place.
/// </summary>
public class HandComputedAttentionTests
{
    /// <summary>fp64 results of a few operations agree with the exact value to about 1e-16 relative; 1e-15 allows a few roundings.</summary>
    private const double Tolerance = 1e-15;

    private static readonly decimal E = Exp(1m);
    private static readonly decimal RootE = Exp(0.5m);

    private static Matrix<double> M(double[,] rows) => Matrix<double>.Build.DenseOfArray(rows);

    /// <summary>
    /// e^x for |x| &lt;= 1 by its Taylor series in decimal: 40 terms leave a tail below 1/40! ≈ 1e-48, and each of
    /// the 80 decimal operations rounds at about 1e-28, so the result is good to about 1e-26, ten digits beyond fp64.
    /// Checked by hand against known digits: e = 2.718281828459045235360287..., e^0.5 = 1.648721270700128146848650...
    /// </summary>
    private static decimal Exp(decimal x)
    {
        decimal sum = 1, term = 1;
        for (var k = 1; k <= 40; k++)
        {
            term = term * x / k;
            sum += term;
        }

        return sum;
    }

    /// <summary>sqrt(2) by Newton's method in decimal from 1.5 (quadratic convergence: 8 steps pass 28 digits): 1.41421356237309504880168872...</summary>
    private static decimal Sqrt2()
    {
        var x = 1.5m;
        for (var step = 0; step < 8; step++)
        {
            x = (x + (2 / x)) / 2;
        }

        return x;
    }

    [Fact]
    public void Decimal_series_reproduce_the_published_digits_of_e_root_e_and_root_2()
    {
        Assert.StartsWith("2.71828182845904523536028", E.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.StartsWith("1.64872127070012814684865", RootE.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.StartsWith("1.41421356237309504880168", Sqrt2().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void Two_tokens_d2_orthogonal_queries()
    {
        // Q = K = I, so S = I / sqrt(2); row 0 is softmax([1/sqrt(2), 0]) = [a, 1 - a] with a = e^(1/sqrt 2) / (e^(1/sqrt 2) + 1)
        // ≈ 0.66976; row 1 is the mirror image. Outputs: row 0 = a [1, 2] + (1 - a) [3, 4] = [3 - 2a, 4 - 2a], row 1 = [1 + 2a, 2 + 2a].
        var identity = M(new double[,] { { 1, 0 }, { 0, 1 } });
        var values = M(new double[,] { { 1, 2 }, { 3, 4 } });
        var result = ScaledDotProductAttention.Compute(identity, identity, values);
        var root2 = Sqrt2();
        var ea = Exp(1 / root2);
        var a = ea / (ea + 1);

        Assert.Equal((double)(1 / root2), result.Scale, Tolerance);
        Assert.Equal((double)(1 / root2), result.Scores[0, 0], Tolerance);
        Assert.Equal(0.0, result.Scores[0, 1]);
        AssertRow([a, 1 - a], result.Weights, 0);
        AssertRow([1 - a, a], result.Weights, 1);
        AssertRow([3 - (2 * a), 4 - (2 * a)], result.Output, 0);
        AssertRow([1 + (2 * a), 2 + (2 * a)], result.Output, 1);
    }

    private static readonly Matrix<double> Q3 = M(new double[,] { { 1, 0, 1, 0 }, { 0, 2, 0, 0 }, { 1, 1, 1, 1 } });
    private static readonly Matrix<double> K3 = M(new double[,] { { 1, 1, 0, 0 }, { 0, 0, 1, 1 }, { 2, 0, 0, 0 } });
    private static readonly Matrix<double> V3 = M(new double[,] { { 1, 0 }, { 0, 1 }, { 1, 1 } });

    [Fact]
    public void Three_tokens_d4_scores_and_scaling()
    {
        // Q K^T = [[1, 1, 2], [2, 0, 0], [2, 2, 2]] (row by row: q0.k0 = 1, q0.k1 = 1, q0.k2 = 2, ...); sqrt(4) = 2 halves it.
        var raw = ScaledDotProductAttention.Compute(Q3, K3, V3, scaled: false);
        Assert.Equal(M(new double[,] { { 1, 1, 2 }, { 2, 0, 0 }, { 2, 2, 2 } }), raw.Scores);
        Assert.Equal(1.0, raw.Scale);

        var scaled = ScaledDotProductAttention.Compute(Q3, K3, V3);
        Assert.Equal(M(new double[,] { { 0.5, 0.5, 1 }, { 1, 0, 0 }, { 1, 1, 1 } }), scaled.Scores);
        // Row 0: [e^0.5, e^0.5, e] / (2 e^0.5 + e) ≈ [0.27407, 0.27407, 0.45186].
        var row0 = 2 * RootE + E;
        AssertRow([RootE / row0, RootE / row0, E / row0], scaled.Weights, 0);
        // Row 1: [e, 1, 1] / (e + 2) ≈ [0.57612, 0.21194, 0.21194].
        AssertRow([E / (E + 2), 1 / (E + 2), 1 / (E + 2)], scaled.Weights, 1);
        // Row 2: equal scores, equal weights.
        AssertRow([1 / 3m, 1 / 3m, 1 / 3m], scaled.Weights, 2);
        // Outputs: w0 [1, 0] + w1 [0, 1] + w2 [1, 1] = [w0 + w2, w1 + w2].
        AssertRow([(RootE + E) / row0, (RootE + E) / row0], scaled.Output, 0);
        AssertRow([(E + 1) / (E + 2), 2 / (E + 2)], scaled.Output, 1);
        AssertRow([2 / 3m, 2 / 3m], scaled.Output, 2);
    }

    [Fact]
    public void Three_tokens_d4_with_causal_mask()
    {
        var result = ScaledDotProductAttention.Compute(Q3, K3, V3, Mask.Causal(3));
        Assert.True(double.IsNegativeInfinity(result.MaskedScores[0, 1]));
        Assert.Equal(0.5, result.Scores[0, 1]);
        // Row 0 sees only key 0; row 1 sees scores [1, 0] -> [e, 1] / (e + 1) ≈ [0.73106, 0.26894]; row 2 sees all three equal scores.
        AssertRow([1m, 0m, 0m], result.Weights, 0);
        AssertRow([E / (E + 1), 1 / (E + 1), 0m], result.Weights, 1);
        AssertRow([1 / 3m, 1 / 3m, 1 / 3m], result.Weights, 2);
        AssertRow([1m, 0m], result.Output, 0);
        AssertRow([E / (E + 1), 1 / (E + 1)], result.Output, 1);
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

    private static void AssertRow(decimal[] expected, Matrix<double> matrix, int row)
    {
        Assert.Equal(expected.Length, matrix.ColumnCount);
        for (var column = 0; column < expected.Length; column++)
        {
            Assert.Equal((double)expected[column], matrix[row, column], Tolerance);
        }
    }
}
