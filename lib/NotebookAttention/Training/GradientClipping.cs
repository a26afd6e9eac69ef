namespace NotebookAttention.Training;

/// <summary>
/// Global-norm gradient clipping (Pascanu et al. 2013): when the norm of all gradients together,
/// ||g|| = sqrt(Σ over every parameter entry of g²), exceeds a threshold c, every gradient is scaled by c / ||g||.
/// The direction of the step is kept and only its length is capped, which stops one exploding gradient of a recurrent
/// network from throwing the weights far away.
/// </summary>
public static class GradientClipping
{
    /// <summary>The global norm of the gradients, sqrt(Σ g²) over every entry of every parameter.</summary>
    /// <returns>The norm (NaN or infinity when a gradient is).</returns>
    public static double GlobalNorm(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var squares = 0.0;
        foreach (var p in parameters)
        {
            var norm = p.Gradient.FrobeniusNorm();
            squares += norm * norm;
        }

        return Math.Sqrt(squares);
    }

    /// <summary>Scales every gradient by <paramref name="maxNorm"/> / ||g|| when ||g|| exceeds <paramref name="maxNorm"/>.</summary>
    /// <param name="parameters">The parameters, whose gradients are changed in place.</param>
    /// <param name="maxNorm">c, a finite number above 0.</param>
    /// <returns>||g|| before clipping (what a training curve should show).</returns>
    public static double ClipGlobalNorm(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0 && double.IsFinite(maxNorm)))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, $"the clipping norm is {maxNorm}: it must be a finite number above 0 (1 is common), or switch clipping off.");
        }

        var norm = GlobalNorm(parameters);
        if (norm > maxNorm)
        {
            var factor = maxNorm / norm;
            foreach (var p in parameters)
            {
                p.Gradient.Multiply(factor, p.Gradient);
            }
        }

        return norm;
    }
}
