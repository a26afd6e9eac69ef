namespace NotebookAttention.Training;

/// <summary>An update rule: moves every parameter's value using its gradient (and the optimizer's own memory).</summary>
public interface IOptimizer
{
    /// <summary>A short name for messages ("Adam", "SGD").</summary>
    string Name { get; }

    /// <summary>The step size η.</summary>
    double LearningRate { get; }

    /// <summary>Updates <see cref="Parameter.Value"/> of each parameter in place from <see cref="Parameter.Gradient"/>.</summary>
    /// <param name="parameters">The model's parameters, the same list (and order) at every step.</param>
    void Update(IReadOnlyList<Parameter> parameters);
}

/// <summary>Checks shared by the optimizers.</summary>
internal static class OptimizerCheck
{
    /// <summary>Throws unless the learning rate is a finite number above 0.</summary>
    public static void LearningRate(double learningRate, string parameter)
    {
        if (!(learningRate > 0 && double.IsFinite(learningRate)))
        {
            throw new ArgumentOutOfRangeException(parameter, learningRate, $"the learning rate is {learningRate}: it must be a finite number above 0 (try 1e-3 for Adam, 0.1 for SGD).");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is in [0, 1).</summary>
    public static void Fraction(double value, string what, string parameter)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(parameter, value, $"{what} is {value}: it must be at least 0 and below 1.");
        }
    }
}
