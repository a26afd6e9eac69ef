using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>
/// <see cref="Differences.Largest(Matrix{double}, Matrix{double})"/>, the number every "equal up to rounding" check of
/// notebooks 03 to 06 compares with its tolerance: it is the largest |a - b| on finite inputs, and NaN as soon as one
/// entry is NaN or infinite, so a check written <c>!(difference &lt;= allowed)</c> stops.
/// </summary>
public class DifferencesTests
{
    [Fact]
    public void On_finite_entries_it_is_the_largest_absolute_difference()
    {
        var cases = from rows in Gen.Int[1, 6] from columns in Gen.Int[1, 6]
                    from a in Generators.Matrix(rows, columns) from b in Generators.Matrix(rows, columns)
                    select (a, b);
        Property.Holds(cases, t =>
        {
            var expected = 0.0;
            for (var i = 0; i < t.a.RowCount; i++)
            {
                for (var j = 0; j < t.a.ColumnCount; j++)
                {
                    expected = Math.Max(expected, Math.Abs(t.a[i, j] - t.b[i, j]));
                }
            }

            Assert.Equal(expected, Differences.Largest(t.a, t.b));
            var firstRow = Enumerable.Range(0, t.a.ColumnCount).Max(j => Math.Abs(t.a[0, j] - t.b[0, j]));
            Assert.Equal(firstRow, Differences.Largest(t.a.Row(0), t.b.Row(0)));
        });
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void One_planted_non_finite_entry_makes_it_NaN_and_the_check_stop(double planted)
    {
        // Where Enumerable.Max went wrong: {0, NaN, 0}.Max(Math.Abs) is 0, and NaN > 1e-12 is false.
        var cases = from rows in Gen.Int[1, 6] from columns in Gen.Int[1, 6]
                    from a in Generators.Matrix(rows, columns)
                    from row in Gen.Int[0, rows - 1] from column in Gen.Int[0, columns - 1] from inA in Gen.Bool
                    select (a, row, column, inA);
        Property.Holds(cases, t =>
        {
            var broken = t.a.Clone();
            broken[t.row, t.column] = planted;
            var difference = t.inA ? Differences.Largest(broken, t.a) : Differences.Largest(t.a, broken);
            Assert.True(double.IsNaN(difference), $"planted {planted} at ({t.row}, {t.column}) but the largest difference is {difference}");
            Assert.True(!(difference <= 1e-12));                                   // the notebooks' check stops
            Assert.True(double.IsNaN(Differences.Largest(broken.Row(t.row), t.a.Row(t.row))));
            Assert.StartsWith("NOT equal", OnlineSoftmaxView.Verdict(0, difference, 1e-12), StringComparison.Ordinal);
            Assert.True(!(Differences.Largest(t.a, broken) <= 1.0), "the tests' helper must not pass a NaN either");
        });
    }

    [Fact]
    public void Different_shapes_are_refused_with_both_shapes_named()
    {
        var error = Assert.Throws<ArgumentException>(() => Differences.Largest(Matrix<double>.Build.Dense(2, 3), Matrix<double>.Build.Dense(3, 2)));
        Assert.Contains("[2 x 3]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[3 x 2]", error.Message, StringComparison.Ordinal);
    }
}
