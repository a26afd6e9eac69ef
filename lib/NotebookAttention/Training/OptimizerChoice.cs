namespace NotebookAttention.Training;

/// <summary>
/// Which optimizer a training run makes: "adam" (<see cref="Training.Adam"/> with the paper's defaults) or "sgd"
/// (<see cref="Training.Sgd"/> without momentum), written as a plain string in <see cref="TrainingSettings"/>, or any
/// other rule through <see cref="Custom"/>.
/// </summary>
public sealed class OptimizerChoice
{
    private readonly Func<double, IOptimizer> create;

    private OptimizerChoice(string name, Func<double, IOptimizer> create) => (Name, this.create) = (name, create);

    /// <summary>Adam with β1 = 0.9, β2 = 0.999, ε = 1e-8.</summary>
    public static OptimizerChoice Adam { get; } = new("adam", rate => new Adam(rate));

    /// <summary>Plain SGD.</summary>
    public static OptimizerChoice Sgd { get; } = new("sgd", rate => new Sgd(rate));

    /// <summary>The name ("adam", "sgd" or the custom one).</summary>
    public string Name { get; }

    /// <summary>"adam" or "sgd" (any letter case) as a choice, so settings can say <c>Optimizer: "sgd"</c>.</summary>
    /// <param name="name">"adam" or "sgd"; anything else is refused with the names that work.</param>
    public static implicit operator OptimizerChoice(string name) => FromString(name);

    /// <summary>"adam" or "sgd" (any letter case) as a choice.</summary>
    /// <param name="name">"adam" or "sgd"; anything else is refused with the names that work.</param>
    /// <returns>The choice, which builds the optimizer for a learning rate.</returns>
    public static OptimizerChoice FromString(string name) => name?.Trim().ToUpperInvariant() switch
    {
        "ADAM" => Adam,
        "SGD" => Sgd,
        _ => throw new ArgumentException($"there is no optimizer called \"{name}\": use \"adam\" or \"sgd\", or OptimizerChoice.Custom(name, learningRate => new Sgd(learningRate, momentum: 0.9)).", nameof(name)),
    };

    /// <summary>Any optimizer, made from the run's learning rate.</summary>
    /// <param name="name">A name for messages.</param>
    /// <param name="create">Makes the optimizer from the learning rate.</param>
    public static OptimizerChoice Custom(string name, Func<double, IOptimizer> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        return new(name, create);
    }

    /// <summary>A new optimizer with no memory of earlier steps.</summary>
    /// <param name="learningRate">η.</param>
    public IOptimizer Create(double learningRate) => create(learningRate);

    /// <inheritdoc />
    public override string ToString() => Name;
}
