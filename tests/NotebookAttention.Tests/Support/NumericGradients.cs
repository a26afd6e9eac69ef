using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Tests.Support;

/// <summary>
/// Numeric gradients of a scalar function of a matrix (entry by entry, along a direction) and Jacobians of a vector
/// function, and the relative error they are compared with.
/// </summary>
/// <remarks>
/// <para>Derivative: Richardson-extrapolated central differences, D = (4 D(h/2) - D(h)) / 3 with
/// D(h) = (f(x + h) - f(x - h)) / 2h and h = 1e-3. The truncation error is O(h⁴) ≈ 1e-12 times the fifth derivative
/// (inputs here are O(1)); rounding f (about 1e-16 |f| with |f| ≲ 100) costs about 1e-16 · 100 / 1e-3 ≈ 1e-11.</para>
/// <para>Relative error of a tensor: ||analytic - numeric|| / max(||analytic||, ||numeric||, <see cref="Floor"/>)
/// (Frobenius norms). The floor is honest because it sits at the numeric derivative's own resolution: a whole tensor
/// of numeric noise has norm about 1e-11 · sqrt(entries) ≲ 1e-10, and 1e-10 / 1e-4 = 1e-6, the tolerance. Below the
/// floor the check becomes absolute, ||analytic - numeric|| ≤ 1e-10; a gradient that is exactly zero (masked
/// entries, padding) is zero on both sides and gives 0.</para>
/// </remarks>
internal static class NumericGradients
{
    /// <summary>The finite-difference step.</summary>
    public const double Step = 1e-3;

    /// <summary>Floor of the relative error's denominator (see the remarks).</summary>
    public const double Floor = 1e-4;

    /// <summary>The tolerance of every gradient check in fp64.</summary>
    public const double Tolerance = 1e-6;

    /// <summary>d f / d x for every entry of <paramref name="x"/>, perturbed in place and restored bit for bit.</summary>
    public static Matrix<double> Of(Func<double> f, Matrix<double> x)
    {
        var gradient = Matrix<double>.Build.Dense(x.RowCount, x.ColumnCount);
        for (var row = 0; row < x.RowCount; row++)
        {
            for (var column = 0; column < x.ColumnCount; column++)
            {
                gradient[row, column] = Entry(f, x, row, column);
            }
        }

        return gradient;
    }

    /// <summary>d f / d v for every entry of a vector, perturbed in place and restored.</summary>
    public static Vector<double> Of(Func<double> f, Vector<double> v)
    {
        var gradient = Vector<double>.Build.Dense(v.Count);
        for (var i = 0; i < v.Count; i++)
        {
            var original = v[i];
            double At(double value)
            {
                v[i] = value;
                return f();
            }

            gradient[i] = Richardson(At, original);
            v[i] = original;
        }

        return gradient;
    }

    /// <summary>d f / d x[row, column].</summary>
    public static double Entry(Func<double> f, Matrix<double> x, int row, int column)
    {
        var original = x[row, column];
        double At(double value)
        {
            x[row, column] = value;
            return f();
        }

        var derivative = Richardson(At, original);
        x[row, column] = original;
        return derivative;
    }

    /// <summary>||a - n|| / max(||a||, ||n||, floor).</summary>
    public static double RelativeError(Matrix<double> analytic, Matrix<double> numeric)
    {
        Assert.Equal(numeric.RowCount, analytic.RowCount);
        Assert.Equal(numeric.ColumnCount, analytic.ColumnCount);
        Assert.True(analytic.Enumerate().All(double.IsFinite), "the analytic gradient holds NaN or infinity");
        return (analytic - numeric).FrobeniusNorm() / Math.Max(Math.Max(analytic.FrobeniusNorm(), numeric.FrobeniusNorm()), Floor);
    }

    /// <summary>The same for vectors.</summary>
    public static double RelativeError(Vector<double> analytic, Vector<double> numeric) =>
        RelativeError(analytic.ToRowMatrix(), numeric.ToRowMatrix());

    /// <summary>Asserts the relative error is within <see cref="Tolerance"/>, naming the tensor.</summary>
    public static void Close(Matrix<double> analytic, Matrix<double> numeric, string what)
    {
        var error = RelativeError(analytic, numeric);
        Assert.True(error <= Tolerance, $"{what}: relative error {error:E2} > {Tolerance:E0}\nanalytic {analytic}\nnumeric {numeric}");
        FloorCount.Current?.Add(what, analytic, numeric);
    }

    /// <summary>The same for vectors.</summary>
    public static void Close(Vector<double> analytic, Vector<double> numeric, string what) =>
        Close(analytic.ToRowMatrix(), numeric.ToRowMatrix(), what);

    /// <summary>
    /// For a gradient that is zero in exact arithmetic (the loss does not depend on the tensor): both sides must be
    /// zero to rounding, the backward pass's within 1e-12 and the differences' within their noise (1e-8).
    /// </summary>
    public static void Zero(Vector<double> analytic, Vector<double> numeric, string what)
    {
        Assert.True(analytic.L2Norm() <= 1e-12, $"{what} should be zero (the loss does not depend on it) but the backward pass gives norm {analytic.L2Norm():E2}");
        Assert.True(numeric.L2Norm() <= 1e-8, $"{what} should be zero (the loss does not depend on it) but finite differences give norm {numeric.L2Norm():E2}");
    }

    /// <summary>
    /// d f / d direction at x: the derivative of t ↦ f(x + t·direction) at t = 0, with x restored bit for bit after.
    /// </summary>
    public static double Along(Func<double> f, Matrix<double> x, Matrix<double> direction)
    {
        var original = x.Clone();
        double At(double t)
        {
            original.Add(direction * t, x);
            return f();
        }

        var derivative = Richardson(At, 0);
        original.CopyTo(x);
        return derivative;
    }

    /// <summary>
    /// The Jacobian of a vector function of X with respect to row <paramref name="t"/> of X, one column per entry of the
    /// row, by plain central differences with step 1e-6. Not Richardson with <see cref="Step"/>: the Elman RNNs this
    /// checks include exploding ones (spectral radius 2, 40 steps) whose outputs bend sharply within 1e-3, where a wide
    /// step and its extrapolation both miss; the callers compare with an absolute floor of 1e-7 that covers this
    /// difference's rounding error (about 1e-10).
    /// </summary>
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

    private static double Richardson(Func<double, double> f, double x)
    {
        var wide = (f(x + Step) - f(x - Step)) / (2 * Step);
        var narrow = (f(x + (Step / 2)) - f(x - (Step / 2))) / Step;
        return ((4 * narrow) - wide) / 3;
    }
}

/// <summary>
/// How often the floor of <see cref="NumericGradients.RelativeError(Matrix{double}, Matrix{double})"/> decided a
/// comparison: a tensor whose norm is below <see cref="NumericGradients.Floor"/> but not exactly zero is only checked
/// absolutely (to 1e-10), which for a norm of 1e-6 allows a relative error of 1e-4. <see cref="Property.Holds{T}"/>
/// counts per tensor name over its cases and fails when more than <see cref="MostFloored"/> of a tensor's comparisons
/// were decided by the floor: every tensor must be checked relatively in at least 3 of 4 cases (750 of 1,000; when
/// this count came in, the most floored tensor was LayerNorm's dX, about 17%, from generated rows that are nearly
/// constant). Exact zeros on both sides (masked and padded entries) are exact, not floored; a gradient that is zero in
/// exact arithmetic is checked by <see cref="NumericGradients.Zero"/> instead.
/// </summary>
internal sealed class FloorCount
{
    /// <summary>The largest share of a tensor's comparisons the floor may decide.</summary>
    public const double MostFloored = 0.25;

    private static readonly AsyncLocal<FloorCount?> Scope = new();
    private readonly Dictionary<string, (int Compared, int Floored)> counts = [];

    /// <summary>The count of the property running on this flow, if any.</summary>
    public static FloorCount? Current => Scope.Value;

    /// <summary>Starts counting for the code that runs on this flow (and the threads it starts) until <see cref="End"/>.</summary>
    public static FloorCount Begin() => Scope.Value = new FloorCount();

    /// <summary>Stops counting on this flow.</summary>
    public static void End() => Scope.Value = null;

    /// <summary>Records one comparison.</summary>
    public void Add(string what, Matrix<double> analytic, Matrix<double> numeric)
    {
        var largest = Math.Max(analytic.FrobeniusNorm(), numeric.FrobeniusNorm());
        var floored = largest > 0 && largest < NumericGradients.Floor;
        lock (counts)
        {
            var (compared, flooredSoFar) = counts.GetValueOrDefault(what);
            counts[what] = (compared + 1, flooredSoFar + (floored ? 1 : 0));
        }
    }

    /// <summary>Fails naming every tensor whose comparisons the floor decided too often.</summary>
    public void AssertRare()
    {
        lock (counts)
        {
            var often = counts.Where(c => c.Value.Floored > MostFloored * c.Value.Compared).Select(c => $"{c.Key}: {c.Value.Floored} of {c.Value.Compared}").ToList();
            Assert.True(often.Count == 0, $"the floor of {NumericGradients.Floor:E0} decided too many comparisons (more than {MostFloored:P0}), so these tensors were mostly checked only absolutely: {string.Join("; ", often)}. Scale the generated inputs up or the loss's weights so their gradients are larger.");
        }
    }

    /// <summary>Comparisons recorded for a tensor name, and how many of them the floor decided.</summary>
    public (int Compared, int Floored) For(string what)
    {
        lock (counts)
        {
            return counts.GetValueOrDefault(what);
        }
    }
}

