using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Fast;

/// <summary>
/// Conversions between the reference path's fp64 MathNet matrices and the fast path's row-major fp32 buffers.
/// </summary>
public static class Fp32
{
    /// <summary>A matrix as a row-major fp32 buffer: entry [r, c] at r * columns + c.</summary>
    /// <param name="matrix">The matrix.</param>
    /// <returns>The buffer.</returns>
    public static float[] FromMatrix(Matrix<double> matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var data = new float[matrix.RowCount * matrix.ColumnCount];
        for (var r = 0; r < matrix.RowCount; r++)
        {
            for (var c = 0; c < matrix.ColumnCount; c++)
            {
                data[(r * matrix.ColumnCount) + c] = (float)matrix[r, c];
            }
        }

        return data;
    }

    /// <summary>A vector as an fp32 buffer.</summary>
    /// <param name="vector">The vector.</param>
    /// <returns>The buffer.</returns>
    public static float[] FromVector(Vector<double> vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return [.. vector.Select(v => (float)v)];
    }

    /// <summary>A row-major fp32 buffer as an fp64 matrix.</summary>
    /// <param name="data">The buffer, at least rows * columns long.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="columns">Columns.</param>
    /// <returns>The matrix.</returns>
    public static Matrix<double> ToMatrix(IReadOnlyList<float> data, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Matrix<double>.Build.Dense(rows, columns, (r, c) => data[(r * columns) + c]);
    }
}
