namespace NotebookAttention.Fast;

/// <summary>fp32 matrix products, for callers that multiply by a matrix once (for repeated products keep a <see cref="PackedMatrix"/>).</summary>
public static class FastMatrix
{
    /// <summary>C = A B (+ bias on every row), all row-major: B is packed for this one product, then multiplied.</summary>
    /// <param name="a">A [rows x inner].</param>
    /// <param name="b">B [inner x columns].</param>
    /// <param name="bias">Added to every row of C (length columns), or empty for none.</param>
    /// <param name="c">Receives C [rows x columns].</param>
    /// <param name="rows">Rows of A and C.</param>
    /// <param name="inner">Columns of A, rows of B.</param>
    /// <param name="columns">Columns of B and C.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int rows, int inner, int columns) =>
        new PackedMatrix(b, bias, inner, columns).Multiply(a, c, rows);
}
