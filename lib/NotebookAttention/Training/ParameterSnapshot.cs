using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// A copy of every parameter value of a model at one moment: to go back to the last good weights after a diverged
/// step, to compare weights before and after training, or to restart a notebook cell from the same point.
/// </summary>
public sealed class ParameterSnapshot
{
    private readonly (string Name, Matrix<double> Value)[] values;

    private ParameterSnapshot((string Name, Matrix<double> Value)[] values) => this.values = values;

    /// <summary>Names and copied values, in the model's parameter order.</summary>
    public IReadOnlyList<(string Name, Matrix<double> Value)> Values => values;

    /// <summary>Copies the current values of every parameter of <paramref name="model"/>.</summary>
    /// <returns>The snapshot (later training does not change it).</returns>
    public static ParameterSnapshot Of(ISequenceModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new([.. model.Parameters.Select(p => (p.Name, p.Value.Clone()))]);
    }

    /// <summary>Writes the snapshot's values back into <paramref name="model"/>'s parameters.</summary>
    /// <param name="model">A model with the same parameters (names and shapes) as the one the snapshot was taken of.</param>
    public void RestoreTo(ISequenceModel model)
    {
        CheckSameParameters(model);
        for (var p = 0; p < values.Length; p++)
        {
            values[p].Value.CopyTo(model.Parameters[p].Value);
        }
    }

    /// <summary>Overwrites the snapshot with <paramref name="model"/>'s current values (no new allocation).</summary>
    /// <param name="model">A model with the same parameters as the one the snapshot was taken of.</param>
    public void RetakeFrom(ISequenceModel model)
    {
        CheckSameParameters(model);
        for (var p = 0; p < values.Length; p++)
        {
            model.Parameters[p].Value.CopyTo(values[p].Value);
        }
    }

    /// <summary>Whether every value equals <paramref name="model"/>'s current one exactly.</summary>
    /// <returns>True when nothing changed since the snapshot.</returns>
    public bool Matches(ISequenceModel model)
    {
        CheckSameParameters(model);
        return values.Select((v, p) => v.Value.Equals(model.Parameters[p].Value)).All(same => same);
    }

    private void CheckSameParameters(ISequenceModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var parameters = model.Parameters;
        var same = parameters.Count == values.Length && values.Select((v, p) =>
            v.Name == parameters[p].Name && v.Value.RowCount == parameters[p].Value.RowCount && v.Value.ColumnCount == parameters[p].Value.ColumnCount).All(ok => ok);
        if (!same)
        {
            throw new ArgumentException(
                $"the snapshot holds {string.Join(", ", values.Select(v => $"{v.Name} {Check.Shape(v.Value)}"))} but the {model.Name} has {string.Join(", ", parameters)}: restore a snapshot into a model of the same kind and sizes.",
                nameof(model));
        }
    }
}
