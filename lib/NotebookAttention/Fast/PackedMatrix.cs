using System.Buffers;

namespace NotebookAttention.Fast;

/// <summary>
/// A weight matrix B [inner x columns] (and optional bias) packed once for fast products C = A B + bias: B is cut
/// into strips of <see cref="PanelWidth"/> columns, each stored contiguously k by k, so the kernel streams it from
/// L1 instead of striding across rows (a 16-column strip of a 1536-wide row-major matrix lands on few cache sets).
/// </summary>
/// <remarks>
/// The product itself is <see cref="Gemm"/>: it packs A the same way (tiles of rows, k-major), blocks the shared
/// dimension so a strip of B stays in L1 while every row tile passes it, and splits the strips over the cores. The
/// register tile (<see cref="Microkernels.PackedTile"/>) is 8 x 32 with AVX-512 and 6 x 16 with AVX2 + FMA;
/// elsewhere portable loops compute the same sums.
/// </remarks>
public sealed class PackedMatrix
{
    private readonly float[] panels;   // [panel][inner][PanelWidth], zero-padded past Columns
    private readonly float[] bias;     // [panels * PanelWidth], zero when there is none

    /// <summary>Packs B [inner x columns], row-major, and its bias (added to every row of the product: one per column, or empty for none).</summary>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public PackedMatrix(ReadOnlySpan<float> b, ReadOnlySpan<float> bias, int inner, int columns)
        : this(b, bias, inner, columns, Microkernels.Wide)
    {
    }

    /// <summary>Packs B for the AVX-512 tile (<paramref name="wide"/>) or the AVX2 one; tests use both on one machine.</summary>
    internal unsafe PackedMatrix(ReadOnlySpan<float> b, ReadOnlySpan<float> bias, int inner, int columns, bool wide)
    {
        Check.AtLeast(inner, 1, "inner size", nameof(inner));
        Check.AtLeast(columns, 1, "columns", nameof(columns));
        if (b.Length != (long)inner * columns)
        {
            throw new ArgumentException($"B has {b.Length:N0} floats but a row-major [{inner} x {columns}] matrix needs {(long)inner * columns:N0}.", nameof(b));
        }

        if (bias.Length != 0 && bias.Length != columns)
        {
            throw new ArgumentException($"the bias has {bias.Length} entries but B has {columns} columns: give one per column, or none.", nameof(bias));
        }

        Inner = inner;
        Columns = columns;
        Wide = wide;
        panels = GC.AllocateArray<float>(PanelCount * inner * PanelWidth, pinned: true);
        fixed (float* source = b, packed = panels)
        {
            Gemm.PackColumns(source, columns, inner, columns, packed, wide);
        }

        this.bias = new float[PanelCount * PanelWidth];
        bias.CopyTo(this.bias);
    }

    /// <summary>Rows of B (columns of A).</summary>
    public int Inner { get; }

    /// <summary>Columns of B and of the product.</summary>
    public int Columns { get; }

    /// <summary>Columns per packed strip: 32 with AVX-512, else 16.</summary>
    public int PanelWidth => Gemm.PanelWidth(Wide);

    private int PanelCount => (Columns + PanelWidth - 1) / PanelWidth;

    private bool Wide { get; }

    /// <summary>C [rows x <see cref="Columns"/>] = A [rows x <see cref="Inner"/>] B + bias, row-major, on <paramref name="threads"/> cores (null for all).</summary>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public unsafe void Multiply(ReadOnlySpan<float> a, Span<float> c, int rows, int? threads = null)
    {
        Check.AtLeast(rows, 1, "rows", nameof(rows));
        if (a.Length != (long)rows * Inner)
        {
            throw new ArgumentException($"A has {a.Length:N0} floats but a row-major [{rows} x {Inner}] matrix needs {(long)rows * Inner:N0}.", nameof(a));
        }

        if (c.Length != (long)rows * Columns)
        {
            throw new ArgumentException($"C has {c.Length:N0} floats but a row-major [{rows} x {Columns}] matrix needs {(long)rows * Columns:N0}.", nameof(c));
        }

        var scratch = ArrayPool<float>.Shared.Rent(Gemm.PackedRowsLength(rows, Inner));
        try
        {
            fixed (float* pa = a, pc = c, pb = panels, pbias = bias, ps = scratch)
            {
                Gemm.Run(pa, Inner, rows, Inner, pb, Columns, pbias, pc, Columns, threads ?? Environment.ProcessorCount, ps, Wide);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>Floats of scratch that a product of A [rows x inner] needs (A packed into row tiles).</summary>
    internal static int ScratchLength(int rows, int inner) => Gemm.PackedRowsLength(rows, inner);

    /// <summary>
    /// C = A B + bias on raw buffers with row strides, C overwritten, for callers that keep their own scratch (at least
    /// <see cref="ScratchLength"/>(rows, <see cref="Inner"/>) floats; A is packed there). <paramref name="gelu"/> applies
    /// GELU to C as each tile is finished, while it is still in cache.
    /// </summary>
    internal unsafe void Multiply(float* a, int aStride, int rows, float* c, int cStride, int threads, float* scratch, bool gelu = false)
    {
        fixed (float* pb = panels, pbias = bias)
        {
            Gemm.Run(a, aStride, rows, Inner, pb, Columns, pbias, c, cStride, threads, scratch, Wide, gelu);
        }
    }
}
