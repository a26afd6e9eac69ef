using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Notebooks;

/// <summary>Shapes written the way the series writes them: <c>Q [7 x 8]</c>.</summary>
public static class Shapes
{
    /// <summary>Names and shapes on one line, e.g. "X [7 x 16] · W_Q [16 x 8] · Q [7 x 8]".</summary>
    /// <param name="matrices">Named matrices.</param>
    public static string Of(params (string Name, Matrix<double> Value)[] matrices)
    {
        ArgumentNullException.ThrowIfNull(matrices);
        return string.Join("  ·  ", matrices.Select(m => $"{m.Name} [{m.Value.RowCount} x {m.Value.ColumnCount}]"));
    }
}
