using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// The largest entry-wise difference between two results, the number every "equal up to rounding" check of the series
/// compares with its tolerance. It is NaN as soon as any entry of either side is NaN or infinite, so a check written
/// <c>if (!(difference &lt;= allowed))</c> stops on a broken result instead of passing it.
/// </summary>
/// <remarks>
/// <c>(a - b).Enumerate().Max(Math.Abs)</c> is not such a check: <see cref="Enumerable.Max(IEnumerable{double})"/> skips
/// NaN unless every entry is NaN, so {0, NaN, 0} gives 0, and <c>NaN &gt; 1e-12</c> is false as well. This fold uses
/// <see cref="Math.Max(double, double)"/>, which passes NaN on, and turns an infinite entry into NaN too (a result
/// that overflowed is not "far but comparable").
/// </remarks>
public static class Differences
{
    /// <summary>max_ij |a_ij - b_ij| over two matrices of the same shape; NaN when any entry of either is NaN or infinite.</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static double Largest(Matrix<double> a, Matrix<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.RowCount != b.RowCount || a.ColumnCount != b.ColumnCount)
        {
            throw new ArgumentException($"the two results are {Check.Shape(a)} and {Check.Shape(b)}: only results of the same shape can be compared entry by entry.", nameof(b));
        }

        return Fold(a.Enumerate(), b.Enumerate());
    }

    /// <summary>max_j |a_j - b_j| over two vectors of the same length; NaN when any entry of either is NaN or infinite.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double Largest(Vector<double> a, Vector<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count)
        {
            throw new ArgumentException($"the two results have {a.Count} and {b.Count} entries: only results of the same length can be compared entry by entry.", nameof(b));
        }

        return Fold(a.Enumerate(), b.Enumerate());
    }

    private static double Fold(IEnumerable<double> a, IEnumerable<double> b)
    {
        var largest = 0.0;
        foreach (var (x, y) in a.Zip(b))
        {
            largest = double.IsFinite(x) && double.IsFinite(y) ? Math.Max(largest, Math.Abs(x - y)) : double.NaN;
        }

        return largest;
    }
}
