using System.Numerics.Tensors;

namespace NotebookAttention.Training;

/// <summary>
/// The three products backpropagation through time needs, on flat row-major fp64 buffers, written with
/// <see cref="RowMajorProduct"/> (the transformer's fast kernel), plus the bias broadcast and its gradient.
/// </summary>
internal static class FlatKernels
{
    private static readonly int[] Counting = [.. Enumerable.Range(0, 4096)];

    /// <summary>C [rows x columns] += A [rows x inner] · W [inner x columns]; A and C start at the given offsets.</summary>
    public static void MultiplyAdd(double[] a, int aOffset, double[] w, double[] c, int cOffset, int rows, int inner, int columns) =>
        RowMajorProduct.MultiplyAdd(a, aOffset, inner, 1, w, 0, columns, c, cOffset, columns, Indices(rows), Indices(inner), columns);

    /// <summary>G [inner x columns] += Aᵀ · D for A [rows x inner] and D [rows x columns] (a weight gradient).</summary>
    public static void TransposeMultiplyAdd(double[] a, int aOffset, double[] d, int dOffset, double[] g, int rows, int inner, int columns) =>
        RowMajorProduct.MultiplyAdd(a, aOffset, 1, inner, d, dOffset, columns, g, 0, columns, Indices(inner), Indices(rows), columns);

    /// <summary>C [rows x inner] = D [rows x columns] · Wᵀ, given Wᵀ [columns x inner] row-major (a gradient sent back through W).</summary>
    public static void MultiplyTransposed(double[] d, int dOffset, double[] wTransposed, double[] c, int cOffset, int rows, int columns, int inner)
    {
        c.AsSpan(cOffset, rows * inner).Clear();
        RowMajorProduct.MultiplyAdd(d, dOffset, columns, 1, wTransposed, 0, inner, c, cOffset, inner, Indices(rows), Indices(columns), inner);
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

    /// <summary>0, 1, ..., count - 1: every row (or inner index) of a product.</summary>
    private static ReadOnlySpan<int> Indices(int count) => count <= Counting.Length ? Counting.AsSpan(0, count) : Enumerable.Range(0, count).ToArray();
}
