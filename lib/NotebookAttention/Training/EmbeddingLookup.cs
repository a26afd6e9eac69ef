using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// A learned embedding table read by id: token embeddings (row = token id) and learned position embeddings
/// (row = position). The forward pass copies rows; the backward pass adds each gradient row back into the row it
/// came from (a scatter-add: an id that occurs twice collects both gradients).
/// </summary>
public static class EmbeddingLookup
{
    /// <summary>X[t] = E[ids[t]]: the rows of the table for the given ids, shape [ids x d].</summary>
    /// <param name="table">E, shape [rows x d].</param>
    /// <param name="ids">Row indices.</param>
    /// <returns>The looked-up rows.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is not a row of the table.</exception>
    public static Matrix<double> Rows(Matrix<double> table, IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(table);
        CheckIds(table, ids);
        var rows = Matrix<double>.Build.Dense(ids.Count, table.ColumnCount);
        for (var t = 0; t < ids.Count; t++)
        {
            rows.SetRow(t, table.Row(ids[t]));
        }

        return rows;
    }

    /// <summary>Backward pass of <see cref="Rows"/>: dE[ids[t]] += dX[t] for every t.</summary>
    /// <param name="tableGradient">dE, shape [rows x d], added to in place.</param>
    /// <param name="ids">The ids of the forward pass.</param>
    /// <param name="rowGradient">dX, shape [ids x d].</param>
    /// <exception cref="ArgumentException">dX does not have one row per id and d columns.</exception>
    public static void RowsBackward(Matrix<double> tableGradient, IReadOnlyList<int> ids, Matrix<double> rowGradient)
    {
        ArgumentNullException.ThrowIfNull(tableGradient);
        ArgumentNullException.ThrowIfNull(rowGradient);
        CheckIds(tableGradient, ids);
        if (rowGradient.RowCount != ids.Count || rowGradient.ColumnCount != tableGradient.ColumnCount)
        {
            throw new ArgumentException($"dX is {Check.Shape(rowGradient)} but there are {ids.Count} ids into a table of width {tableGradient.ColumnCount}: dX needs one row per id.", nameof(rowGradient));
        }

        for (var t = 0; t < ids.Count; t++)
        {
            for (var column = 0; column < rowGradient.ColumnCount; column++)
            {
                tableGradient.At(ids[t], column, tableGradient.At(ids[t], column) + rowGradient.At(t, column));
            }
        }
    }

    private static void CheckIds(Matrix<double> table, IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        for (var t = 0; t < ids.Count; t++)
        {
            if ((uint)ids[t] >= (uint)table.RowCount)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), ids[t], $"id {ids[t]} at position {t} is not a row of the {Check.Shape(table)} table: use 0 to {table.RowCount - 1}.");
            }
        }
    }
}

/// <summary>
/// A residual connection y = x + f(x): the sublayer only has to learn a correction to its input. Backward, the
/// gradient reaching y goes unchanged both to x directly and into f: dx = dy + (dy pulled back through f).
/// </summary>
public static class Residual
{
    /// <summary>y = x + f(x).</summary>
    /// <param name="input">x, shape [tokens x d].</param>
    /// <param name="sublayerOutput">f(x), the same shape.</param>
    /// <returns>y = x + f(x), [tokens x d]: the sublayer adds a correction to x, and x reaches the loss directly.</returns>
    public static Matrix<double> Add(Matrix<double> input, Matrix<double> sublayerOutput)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(sublayerOutput);
        return input + sublayerOutput;
    }

    /// <summary>Backward pass: dx = dy (the skip path) + dx_f (the gradient f's backward pass gave for its input).</summary>
    /// <param name="outputGradient">dy.</param>
    /// <param name="sublayerInputGradient">dx_f, from f's backward pass fed with dy.</param>
    /// <returns>dx.</returns>
    public static Matrix<double> Backward(Matrix<double> outputGradient, Matrix<double> sublayerInputGradient)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        ArgumentNullException.ThrowIfNull(sublayerInputGradient);
        return outputGradient + sublayerInputGradient;
    }
}
