using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Fast;

/// <summary>
/// Conversions between the reference path's fp64 MathNet matrices and the fast path's row-major fp32 buffers.
/// </summary>
public static class Fp32
{
    /// <summary>A matrix as a row-major fp32 buffer: entry [r, c] at r * columns + c.</summary>
    /// <exception cref="ArgumentException">An entry is NaN, infinite or beyond the fp32 range (±3.4e38).</exception>
    public static float[] FromMatrix(Matrix<double> matrix) => FromMatrix(matrix, "matrix", nameof(matrix));

    /// <summary>A vector as an fp32 buffer.</summary>
    /// <exception cref="ArgumentException">An entry is NaN, infinite or beyond the fp32 range (±3.4e38).</exception>
    public static float[] FromVector(Vector<double> vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return FromMatrix(vector.ToRowMatrix(), "vector", nameof(vector));
    }

    /// <summary>
    /// The conversion with the entry check fused in: a double that is NaN or infinite, or finite but beyond the fp32
    /// range (it would become infinity), is refused with the matrix's name, the row, the column and the value.
    /// </summary>
    internal static float[] FromMatrix(Matrix<double> matrix, string what, string parameter)
    {
        ArgumentNullException.ThrowIfNull(matrix, parameter);
        if (matrix.RowCount == 0 || matrix.ColumnCount == 0)
        {
            throw new ArgumentException($"{what} is {Check.Shape(matrix)}: it needs at least one row and one column.", parameter);
        }

        var columns = matrix.ColumnCount;
        var data = new float[matrix.RowCount * columns];
        for (var c = 0; c < columns; c++)
        {
            for (var r = 0; r < matrix.RowCount; r++)
            {
                var value = matrix.At(r, c);
                var single = (float)value;
                if (!float.IsFinite(single))
                {
                    throw new ArgumentException(
                        double.IsFinite(value)
                            ? $"{what} {Check.Shape(matrix)} has {value:G3} at row {r}, column {c}: the fast path computes in fp32, whose range is ±3.4e38; scale the inputs down, or use the fp64 reference path."
                            : $"{what} {Check.Shape(matrix)} has {Check.Name(value)} at row {r}, column {c}: every entry must be a finite number; look at the step that produced this matrix.",
                        parameter);
                }

                data[(r * columns) + c] = single;
            }
        }

        return data;
    }

    /// <summary>A row-major fp32 buffer as an fp64 matrix.</summary>
    /// <param name="data">The buffer, at least rows * columns long.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="columns">Columns.</param>
    /// <exception cref="ArgumentException">A size is below 1 or the buffer is shorter than rows * columns.</exception>
    public static Matrix<double> ToMatrix(IReadOnlyList<float> data, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(data);
        Check.AtLeast(rows, 1, "rows", nameof(rows));
        Check.AtLeast(columns, 1, "columns", nameof(columns));
        if (data.Count < (long)rows * columns)
        {
            throw new ArgumentException(
                $"the buffer has {data.Count:N0} floats but a row-major [{rows} x {columns}] matrix needs {(long)rows * columns:N0}: check rows and columns.",
                nameof(data));
        }

        return Matrix<double>.Build.Dense(rows, columns, (r, c) => data[(r * columns) + c]);
    }
}
