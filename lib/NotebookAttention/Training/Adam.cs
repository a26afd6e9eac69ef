using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// Adam (Kingma and Ba 2015): per entry, m ← β1 m + (1 - β1) g and v ← β2 v + (1 - β2) g², bias-corrected
/// m̂ = m / (1 - β1^t) and v̂ = v / (1 - β2^t) at step t, then θ ← θ - η m̂ / (sqrt(v̂) + ε).
/// </summary>
/// <remarks>
/// m and v start at 0, so without the correction the first steps would be too small; with it the first step moves
/// every entry by about η in the direction of -sign(g), whatever the gradient's scale. Defaults are the paper's:
/// β1 = 0.9, β2 = 0.999, ε = 1e-8.
/// </remarks>
public sealed class Adam : IOptimizer
{
    private readonly Dictionary<Parameter, (Matrix<double> M, Matrix<double> V)> moments = new(ReferenceEqualityComparer.Instance);

    /// <summary>An Adam optimizer.</summary>
    /// <param name="learningRate">η, a finite number above 0 (the paper suggests 1e-3).</param>
    /// <param name="beta1">β1 in [0, 1): decay of the mean of the gradients.</param>
    /// <param name="beta2">β2 in [0, 1): decay of the mean of the squared gradients.</param>
    /// <param name="epsilon">ε above 0: keeps the division finite where v̂ is 0.</param>
    public Adam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        OptimizerCheck.LearningRate(learningRate, nameof(learningRate));
        OptimizerCheck.Fraction(beta1, "β1", nameof(beta1));
        OptimizerCheck.Fraction(beta2, "β2", nameof(beta2));
        if (!(epsilon > 0 && double.IsFinite(epsilon)))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"ε is {epsilon}: it must be a finite number above 0 (the paper uses 1e-8).");
        }

        (LearningRate, Beta1, Beta2, Epsilon) = (learningRate, beta1, beta2, epsilon);
    }

    /// <inheritdoc />
    public string Name => "Adam";

    /// <inheritdoc />
    public double LearningRate { get; }

    /// <summary>β1 ∈ [0, 1): decay of the first moment m (the running mean of gradients); 0.9 in Kingma and Ba (2015).</summary>
    public double Beta1 { get; }

    /// <summary>β2 ∈ [0, 1): decay of the second moment v (the running mean of squared gradients); 0.999 in the paper.</summary>
    public double Beta2 { get; }

    /// <summary>ε > 0, added to sqrt(v̂) so a weight with tiny gradients does not take a huge step; 1e-8 in the paper.</summary>
    public double Epsilon { get; }

    /// <summary>Steps taken so far (t of the bias correction).</summary>
    public int Steps { get; private set; }

    /// <inheritdoc />
    public void Update(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Steps++;
        var correction1 = 1 - Math.Pow(Beta1, Steps);
        var correction2 = 1 - Math.Pow(Beta2, Steps);
        foreach (var p in parameters)
        {
            if (!moments.TryGetValue(p, out var state))
            {
                state = (Matrix<double>.Build.Dense(p.Value.RowCount, p.Value.ColumnCount), Matrix<double>.Build.Dense(p.Value.RowCount, p.Value.ColumnCount));
                moments[p] = state;
            }

            var (m, v) = state;
            for (var c = 0; c < p.Value.ColumnCount; c++)
            {
                for (var r = 0; r < p.Value.RowCount; r++)
                {
                    var g = p.Gradient.At(r, c);
                    var mean = (Beta1 * m.At(r, c)) + ((1 - Beta1) * g);                 // m ← β1 m + (1 - β1) g
                    var square = (Beta2 * v.At(r, c)) + ((1 - Beta2) * g * g);           // v ← β2 v + (1 - β2) g²
                    m.At(r, c, mean);
                    v.At(r, c, square);
                    var step = LearningRate * (mean / correction1) / (Math.Sqrt(square / correction2) + Epsilon);
                    p.Value.At(r, c, p.Value.At(r, c) - step);                           // θ ← θ - η m̂ / (sqrt(v̂) + ε)
                }
            }
        }
    }
}
