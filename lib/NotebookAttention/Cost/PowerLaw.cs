using MathNet.Numerics;

namespace NotebookAttention.Cost;

/// <summary>y = Coefficient * x^Exponent, fitted on a log-log scale.</summary>
/// <param name="Exponent">The slope on a log-log plot: 2 for quadratic growth, 1 for linear.</param>
/// <param name="Coefficient">The factor in front.</param>
/// <param name="RSquared">How well a straight line fits the logs (1 is perfect; always 1 through two points).</param>
/// <param name="Points">How many (x, y) points the line was fitted to.</param>
public sealed record PowerLawFit(double Exponent, double Coefficient, double RSquared, int Points)
{
    /// <summary>How far a fitted exponent may lie from the expected one and still be called close to it.</summary>
    public const double Tolerance = 0.3;

    /// <summary>Below this R² the points scatter too much around the line to read its slope.</summary>
    public const double LeastRSquared = 0.9;

    /// <summary>The fitted value at <paramref name="x"/>.</summary>
    /// <param name="x">Where.</param>
    /// <returns>Coefficient * x^Exponent.</returns>
    public double At(double x) => Coefficient * Math.Pow(x, Exponent);

    /// <summary>
    /// What this fit shows against an expected exponent, in one sentence derived from its numbers: too few points,
    /// too scattered, close to n^expected (within <see cref="Tolerance"/>), steeper or flatter.
    /// </summary>
    /// <param name="name">What was measured ("tiled").</param>
    /// <param name="expected">The exponent the arithmetic predicts (2 for exact attention).</param>
    public string Against(string name, double expected)
    {
        var fitted = FormattableString.Invariant($"{name}: n^{Exponent:0.00} from {Points} lengths");
        if (Points < 3)
        {
            return $"{fitted}: two points always lie on a line, so this cannot tell a power law from noise; measure more lengths (fullSweep = true).";
        }

        if (RSquared < LeastRSquared)
        {
            return FormattableString.Invariant($"{fitted}, but the points scatter (R² = {RSquared:0.000} < {LeastRSquared}): the machine was busy; run the cell again before reading the slope.");
        }

        var gap = Exponent - expected;
        return FormattableString.Invariant($"{fitted} (R² = {RSquared:0.000}): ") + (Math.Abs(gap) <= Tolerance
            ? FormattableString.Invariant($"close to n^{expected:0.#}, within ±{Tolerance}.")
            : gap > 0
                ? FormattableString.Invariant($"steeper than n^{expected:0.#} over these lengths: something besides the arithmetic grows too (the data outgrowing a cache, or a busy core on the longer runs).")
                : FormattableString.Invariant($"flatter than n^{expected:0.#} over these lengths: a fixed cost per pass still weighs on the shorter runs."));
    }

    /// <inheritdoc />
    public override string ToString() => Points < 3
        ? FormattableString.Invariant($"~ n^{Exponent:0.00} (through {Points} points)")
        : FormattableString.Invariant($"~ n^{Exponent:0.00} (R² = {RSquared:0.000})");
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
        return new PowerLawFit(slope, Math.Exp(intercept), rSquared, x.Count);
    }
}
