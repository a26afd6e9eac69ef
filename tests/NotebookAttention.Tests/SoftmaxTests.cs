using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Tests;

public class SoftmaxTests
{
    private static Vector<double> V(params double[] values) => Vector<double>.Build.Dense(values);

    [Fact]
    public void Stable_softmax_matches_the_formula_on_small_scores()
    {
        var weights = Softmax.Stable(V(0, Math.Log(3)));
        Assert.Equal(0.25, weights[0], 15);
        Assert.Equal(0.75, weights[1], 15);
        Assert.Equal(Softmax.Naive(V(1, 2, 3)).ToArray(), Softmax.Stable(V(1, 2, 3)).ToArray(), (a, b) => Math.Abs(a - b) < 1e-15);
    }

    [Fact]
    public void Naive_softmax_overflows_where_the_stable_one_does_not()
    {
        var scores = V(1000, 0);
        Assert.True(double.IsNaN(Softmax.Naive(scores)[0]));
        Assert.Equal([1.0, 0.0], Softmax.Stable(scores).ToArray());
    }

    [Fact]
    public void Masked_entries_get_exactly_zero()
    {
        var weights = Softmax.Stable(V(2, double.NegativeInfinity, 2));
        Assert.Equal([0.5, 0.0, 0.5], weights.ToArray());
    }

    [Fact]
    public void Rows_softmax_works_row_by_row()
    {
        var scores = Matrix<double>.Build.DenseOfArray(new double[,] { { 0, 0 }, { 0, Math.Log(3) }, { 1e4, -1e4 } });
        var weights = Softmax.Rows(scores);
        Assert.Equal([0.5, 0.5], weights.Row(0).ToArray());
        Assert.Equal([0.25, 0.75], weights.Row(1).ToArray(), (a, b) => Math.Abs(a - b) < 1e-15);
        Assert.Equal([1.0, 0.0], weights.Row(2).ToArray());
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+infinity")]
    public void Nan_or_plus_infinity_score_is_refused_with_its_place(double bad, string name)
    {
        var scores = Matrix<double>.Build.DenseOfArray(new double[,] { { 0, 0 }, { 1, bad } });
        var error = Assert.Throws<ArgumentException>(() => Softmax.Rows(scores));
        Assert.Contains($"scores [2 x 2] row 1 has {name} at column 1", error.Message, StringComparison.Ordinal);
    }
}
