using MathNet.Numerics;

namespace NotebookAttention.Recurrence;

/// <summary>Summaries of how gradient norms change with distance.</summary>
public static class GradientFlow
{
    /// <summary>
    /// The factor by which a gradient norm changes per step of distance, from a least-squares line through
    /// ln(norm) against distance: below 1 it vanishes, above 1 it explodes, 1 is flat.
    /// </summary>
    /// <param name="norms">Norms of d h_T / d x_t for t = 0 .. T (distance T - t).</param>
    /// <returns>exp(slope) per step of distance.</returns>
    /// <exception cref="ArgumentException">Fewer than two norms, or a norm that is not positive.</exception>
    public static double RatePerStep(IReadOnlyList<double> norms)
    {
        ArgumentNullException.ThrowIfNull(norms);
        if (norms.Count < 2 || norms.Any(v => !(v > 0) || double.IsInfinity(v)))
        {
            throw new ArgumentException($"a rate needs at least two positive, finite norms; got {norms.Count} with {norms.Count(v => !(v > 0) || double.IsInfinity(v))} unusable.", nameof(norms));
        }

        var last = norms.Count - 1;
        var distance = Enumerable.Range(0, norms.Count).Select(t => (double)(last - t)).ToArray();
        var (_, slope) = Fit.Line(distance, [.. norms.Select(v => Math.Log(v))]);
        return Math.Exp(slope);
    }
}
