using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// One learned tensor of a model and the gradient of the loss with respect to it, the same shape. A bias vector is
/// stored as a [1 x n] matrix, so every parameter is a matrix and an optimizer treats them all alike.
/// </summary>
public sealed class Parameter
{
    /// <summary>Wraps a value; the gradient starts at zero.</summary>
    /// <param name="name">A name a learner can read, e.g. "attention.W_Q" or "lstm.b_f".</param>
    /// <param name="value">The value, updated in place by optimizers.</param>
    public Parameter(string name, Matrix<double> value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        Name = name;
        Value = value;
        Gradient = Matrix<double>.Build.Dense(value.RowCount, value.ColumnCount);
    }

    /// <summary>The parameter's name.</summary>
    public string Name { get; }

    /// <summary>The current value (optimizers change it in place).</summary>
    public Matrix<double> Value { get; }

    /// <summary>dLoss/dValue, accumulated by the model's backward pass until <see cref="ZeroGradient"/>.</summary>
    public Matrix<double> Gradient { get; }

    /// <summary>Number of scalars.</summary>
    public int Count => Value.RowCount * Value.ColumnCount;

    /// <summary>Sets the gradient to zero before the next backward pass.</summary>
    public void ZeroGradient() => Gradient.Clear();

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{Value.RowCount} x {Value.ColumnCount}]";
}
