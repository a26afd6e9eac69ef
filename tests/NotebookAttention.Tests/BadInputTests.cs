using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Tests;

public class BadInputTests
{
    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+infinity")]
    [InlineData(double.NegativeInfinity, "-infinity")]
    public void Non_finite_input_is_refused_with_its_matrix_shape_and_place(double bad, string name)
    {
        var x = Matrix<double>.Build.Dense(3, 4, 0.5);
        x[1, 2] = bad;
        var layer = new MultiHeadAttention(4, 2);
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(x));
        Assert.Contains($"projection input X [3 x 4] has {name} at row 1, column 2", error.Message, StringComparison.Ordinal);

        var clean = Matrix<double>.Build.Dense(3, 4, 0.5);
        var direct = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(clean, x, clean));
        Assert.Contains($"keys K [3 x 4] has {name} at row 1, column 2", direct.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Shape_mismatches_name_both_shapes()
    {
        var q = Matrix<double>.Build.Dense(3, 4);
        var k = Matrix<double>.Build.Dense(3, 5);
        var error = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(q, k, k));
        Assert.Contains("Q is [3 x 4] but K is [3 x 5]", error.Message, StringComparison.Ordinal);

        var v = Matrix<double>.Build.Dense(2, 4);
        var values = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(q, q, v));
        Assert.Contains("K is [3 x 4] but V is [2 x 4]", values.Message, StringComparison.Ordinal);

        var projection = Assert.Throws<ArgumentException>(() => new MultiHeadAttention(8, 2).Forward(q));
        Assert.Contains("X is [3 x 4] but W is [8 x 8]", projection.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_number_of_token_labels_is_refused()
    {
        var x = Matrix<double>.Build.Dense(3, 4, 1.0);
        var error = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(x, x, x, tokens: ["a", "b"]));
        Assert.Contains("2 token labels but Q has 3 rows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_matrix_is_refused()
    {
        var empty = Matrix<double>.Build.Dense(1, 1).SubMatrix(0, 1, 0, 0);
        var error = Assert.Throws<ArgumentException>(() => Scores.DotProducts(empty, empty));
        Assert.Contains("queries Q is [1 x 0]", error.Message, StringComparison.Ordinal);
    }
}
