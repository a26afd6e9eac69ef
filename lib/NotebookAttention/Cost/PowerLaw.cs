using MathNet.Numerics;

namespace NotebookAttention.Cost;

/// <summary>y = Coefficient * x^Exponent, fitted on a log-log scale.</summary>
/// <param name="Exponent">The slope on a log-log plot: 2 for quadratic growth, 1 for linear.</param>
/// <param name="Coefficient">The factor in front.</param>
/// <param name="RSquared">How well a straight line fits the logs (1 is perfect).</param>
public sealed record PowerLawFit(double Exponent, double Coefficient, double RSquared)
{
    /// <summary>The fitted value at <paramref name="x"/>.</summary>
    /// <param name="x">Where.</param>
    /// <returns>Coefficient * x^Exponent.</returns>
    public double At(double x) => Coefficient * Math.Pow(x, Exponent);

    /// <inheritdoc />
    public override string ToString() => $"~ n^{Exponent:0.00} (R² = {RSquared:0.000})";
}

/// <summary>Fits measured curves with a power law, using MathNet's least squares on the logarithms.</summary>
public static class PowerLaw
{
    /// <summary>Fits y = c x^k by a straight line through (ln x, ln y).</summary>
    /// <param name="x">Positive x values (at least two different ones).</param>
    /// <param name="y">Positive y values, one per x.</param>
    /// <returns>Exponent, coefficient and R² of the line.</returns>
    /// <exception cref="ArgumentException">Lengths differ, fewer than two points, or a value is not positive.</exception>
    public static PowerLawFit Fit(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count || x.Count < 2)
        {
            throw new ArgumentException($"a power-law fit needs at least two points and one y per x; got {x.Count} x and {y.Count} y values.", nameof(y));
        }

        if (x.Concat(y).Any(v => !(v > 0) || double.IsInfinity(v)))
        {
            throw new ArgumentException("a power-law fit works on logarithms, so every x and y must be a positive finite number; drop the points that are 0.", nameof(y));
        }

        var logX = x.Select(v => Math.Log(v)).ToArray();
        var logY = y.Select(v => Math.Log(v)).ToArray();
        var (intercept, slope) = MathNet.Numerics.Fit.Line(logX, logY);
        var rSquared = GoodnessOfFit.RSquared(logX.Select(v => intercept + (slope * v)), logY);
        return new PowerLawFit(slope, Math.Exp(intercept), rSquared);
    }
}
