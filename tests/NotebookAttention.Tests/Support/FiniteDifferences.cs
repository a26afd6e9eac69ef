using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Tests.Support;

/// <summary>Numerical derivatives that gradient code is checked against.</summary>
internal static class FiniteDifferences
{
    /// <summary>Central differences (step 1e-6) of f with respect to row <paramref name="t"/> of X: one column per entry of the row.</summary>
    public static Matrix<double> JacobianOfRow(Func<Matrix<double>, Vector<double>> f, Matrix<double> x, int t)
    {
        const double h = 1e-6;
        var columns = new List<Vector<double>>();
        for (var c = 0; c < x.ColumnCount; c++)
        {
            var plus = x.Clone();
            var minus = x.Clone();
            plus[t, c] += h;
            minus[t, c] -= h;
            columns.Add((f(plus) - f(minus)) / (2 * h));
        }

        return Matrix<double>.Build.DenseOfColumnVectors(columns);
    }
}
