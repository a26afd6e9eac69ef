namespace NotebookAttention.Training;

/// <summary>
/// Stochastic gradient descent, optionally with momentum: v ← μ v + g, θ ← θ - η v (with μ = 0 simply θ ← θ - η g).
/// This is the form torch.optim.SGD uses: the velocity v sums past gradients with weights μ, μ², ..., so a direction
/// that stays steady gets steps up to 1 / (1 - μ) times larger.
/// </summary>
public sealed class Sgd : IOptimizer
{
    private readonly Dictionary<Parameter, MathNet.Numerics.LinearAlgebra.Matrix<double>> velocities = new(ReferenceEqualityComparer.Instance);

    /// <summary>An SGD optimizer.</summary>
    /// <param name="learningRate">η, a finite number above 0.</param>
    /// <param name="momentum">μ in [0, 1); 0 for plain SGD.</param>
    public Sgd(double learningRate, double momentum = 0)
    {
        OptimizerCheck.LearningRate(learningRate, nameof(learningRate));
        OptimizerCheck.Fraction(momentum, "the momentum", nameof(momentum));
        LearningRate = learningRate;
        Momentum = momentum;
    }

    /// <inheritdoc />
    public string Name => Momentum == 0 ? "SGD" : $"SGD (momentum {Momentum})";

    /// <inheritdoc />
    public double LearningRate { get; }

    /// <summary>μ.</summary>
    public double Momentum { get; }

    /// <inheritdoc />
    public void Update(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var p in parameters)
        {
            var direction = p.Gradient;
            if (Momentum > 0)
            {
                if (!velocities.TryGetValue(p, out var v))
                {
                    v = p.Gradient.Clone();                                          // v_1 = g_1, as torch.optim.SGD
                    velocities[p] = v;
                }
                else
                {
                    v.Multiply(Momentum, v);
                    v.Add(p.Gradient, v);                                            // v ← μ v + g
                }

                direction = v;
            }

            p.Value.Subtract(direction * LearningRate, p.Value);                     // θ ← θ - η v
        }
    }
}
