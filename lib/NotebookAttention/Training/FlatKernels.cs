using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// fp64 products on flat row-major buffers for the recurrent models' fast path: each inner loop runs along a
/// contiguous row with <see cref="TensorPrimitives"/> (SIMD), and nothing is allocated.
/// </summary>
internal static class FlatKernels
{
    /// <summary>C [rows x columns] += A [rows x inner] · W [inner x columns]: row r of C gains a[r, k] times row k of W.</summary>
    public static void MultiplyAdd(ReadOnlySpan<double> a, ReadOnlySpan<double> w, Span<double> c, int rows, int inner, int columns)
    {
        for (var r = 0; r < rows; r++)
        {
            var output = c.Slice(r * columns, columns);
            for (var k = 0; k < inner; k++)
            {
                TensorPrimitives.MultiplyAdd(w.Slice(k * columns, columns), a[(r * inner) + k], output, output);
            }
        }
    }

    /// <summary>G [inner x columns] += Aᵀ · D for A [rows x inner], D [rows x columns]: row k of G gains a[r, k] times row r of D.</summary>
    public static void TransposeMultiplyAdd(ReadOnlySpan<double> a, ReadOnlySpan<double> d, Span<double> g, int rows, int inner, int columns)
    {
        for (var r = 0; r < rows; r++)
        {
            var upstream = d.Slice(r * columns, columns);
            for (var k = 0; k < inner; k++)
            {
                var output = g.Slice(k * columns, columns);
                TensorPrimitives.MultiplyAdd(upstream, a[(r * inner) + k], output, output);
            }
        }
    }

    /// <summary>C [rows x inner] = D [rows x columns] · Wᵀ for W [inner x columns]: a dot product of two contiguous rows per entry.</summary>
    public static void MultiplyTransposed(ReadOnlySpan<double> d, ReadOnlySpan<double> w, Span<double> c, int rows, int columns, int inner)
    {
        for (var r = 0; r < rows; r++)
        {
            var upstream = d.Slice(r * columns, columns);
            for (var k = 0; k < inner; k++)
            {
                c[(r * inner) + k] = TensorPrimitives.Dot(upstream, w.Slice(k * columns, columns));
            }
        }
    }

    /// <summary>Writes the bias row b [1 x columns] into every row of C [rows x columns].</summary>
    public static void FillRows(Span<double> c, ReadOnlySpan<double> bias, int rows)
    {
        for (var r = 0; r < rows; r++)
        {
            bias.CopyTo(c.Slice(r * bias.Length, bias.Length));
        }
    }

    /// <summary>db [1 x columns] += column sums of D [rows x columns].</summary>
    public static void AddColumnSums(ReadOnlySpan<double> d, Span<double> db, int rows)
    {
        for (var r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(db, d.Slice(r * db.Length, db.Length), db);
        }
    }

    /// <summary>The entries of a matrix, row after row.</summary>
    public static double[] RowMajor(Matrix<double> matrix)
    {
        var flat = new double[matrix.RowCount * matrix.ColumnCount];
        for (var r = 0; r < matrix.RowCount; r++)
        {
            for (var c = 0; c < matrix.ColumnCount; c++)
            {
                flat[(r * matrix.ColumnCount) + c] = matrix.At(r, c);
            }
        }

        return flat;
    }

    /// <summary>A row-major buffer as a matrix.</summary>
    public static Matrix<double> ToMatrix(double[] flat, int rows, int columns) =>
        Matrix<double>.Build.Dense(rows, columns, (r, c) => flat[(r * columns) + c]);
}
