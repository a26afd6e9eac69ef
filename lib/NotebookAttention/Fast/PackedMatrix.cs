using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NotebookAttention.Fast;

/// <summary>
/// A weight matrix B [inner x columns] (and optional bias) packed once for fast products C = A B + bias: B is cut
/// into strips of <see cref="PanelWidth"/> columns, each stored contiguously k by k, so the kernel streams it from
/// L1 instead of striding across rows (a 16-column strip of a 1536-wide row-major matrix lands on few cache sets).
/// </summary>
/// <remarks>
/// The product packs A the same way (tiles of rows, k-major), blocks the shared dimension so a strip of B stays in
/// L1 while every row tile passes it, and splits the strips over the cores. The register tile is 12 x 32 with
/// AVX-512 and 6 x 16 with AVX2 + FMA; elsewhere portable loops compute the same sums.
/// </remarks>
public sealed class PackedMatrix
{
    /// <summary>Depth of one block of the shared dimension: a strip of B for one block is 32 KiB at 32 columns.</summary>
    private const int DepthBlock = 256;

    private readonly float[] panels;   // [panel][inner][PanelWidth], zero-padded past Columns
    private readonly float[] bias;     // [panels * PanelWidth], zero when there is none

    /// <summary>Packs B and its bias.</summary>
    /// <param name="b">B [inner x columns], row-major.</param>
    /// <param name="bias">Added to every row of the product (length columns), or empty for none.</param>
    /// <param name="inner">Rows of B.</param>
    /// <param name="columns">Columns of B.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public PackedMatrix(ReadOnlySpan<float> b, ReadOnlySpan<float> bias, int inner, int columns)
        : this(b, bias, inner, columns, Kernels.Wide)
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
            Gemm.PackColumns(source, columns, inner, columns, transposed: false, packed, wide);
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

    /// <summary>C = A B + bias.</summary>
    /// <param name="a">A [rows x <see cref="Inner"/>], row-major.</param>
    /// <param name="c">Receives C [rows x <see cref="Columns"/>], row-major.</param>
    /// <param name="rows">Rows of A and C.</param>
    /// <param name="threads">Cores to use; null for all.</param>
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

        var scratch = ArrayPool<float>.Shared.Rent(Gemm.PackedRowsLength(rows, Inner, Wide));
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
    internal static int ScratchLength(int rows, int inner) => Gemm.PackedRowsLength(rows, inner, Kernels.Wide);

    /// <summary>Floats that B [inner x columns] packed into strips needs.</summary>
    internal static int PackedLength(int inner, int columns, bool? wide = null) => Gemm.PackedColumnsLength(inner, columns, wide ?? Kernels.Wide);

    /// <summary>Packs B [inner x columns] read with a row stride, or transposed (B[k, j] = source[j * stride + k]).</summary>
    internal static unsafe void Pack(float* source, int stride, int inner, int columns, bool transposed, float* packed, bool? wide = null) =>
        Gemm.PackColumns(source, stride, inner, columns, transposed, packed, wide ?? Kernels.Wide);

    /// <summary>
    /// C = A B on one core with A read where it is (no packing): for products with few output columns, where packing
    /// A would cost as much as the arithmetic (attention's P V, and Q K^T with its short rows).
    /// </summary>
    internal static unsafe void MultiplyDirect(float* a, int aStride, int rows, int inner, float* packedB, int columns, float* c, int cStride, bool? wide = null) =>
        Gemm.RunDirect(a, aStride, rows, inner, packedB, columns, c, cStride, wide ?? Kernels.Wide);

    /// <summary>C = A B + bias on raw buffers with strides, for callers that keep their own scratch (A packed here).</summary>
    /// <param name="a">A, row stride <paramref name="aStride"/>.</param>
    /// <param name="aStride">Row stride of A.</param>
    /// <param name="rows">Rows of A and C.</param>
    /// <param name="c">C, row stride <paramref name="cStride"/>; overwritten.</param>
    /// <param name="cStride">Row stride of C.</param>
    /// <param name="threads">Cores to use.</param>
    /// <param name="scratch">At least <see cref="ScratchLength"/>(rows, <see cref="Inner"/>) floats.</param>
    /// <param name="gelu">Apply GELU to C as each tile is finished, while it is still in cache.</param>
    internal unsafe void Multiply(float* a, int aStride, int rows, float* c, int cStride, int threads, float* scratch, bool gelu = false)
    {
        fixed (float* pb = panels, pbias = bias)
        {
            Gemm.Run(a, aStride, rows, Inner, pb, Columns, pbias, c, cStride, threads, scratch, Wide, gelu);
        }
    }

    /// <summary>The blocked product on packed operands, shared by <see cref="PackedMatrix"/> and the fast encoder's attention.</summary>
    internal static unsafe class Gemm
    {
        /// <summary>Columns per packed strip of B.</summary>
        public static int PanelWidth(bool wide) => wide ? 32 : 16;

        /// <summary>Rows per register tile.</summary>
        public static int TileRows(bool wide) => wide ? Kernels.WideRows : Kernels.NarrowRows;

        /// <summary>Floats a packed copy of A [rows x inner] needs.</summary>
        public static int PackedRowsLength(int rows, int inner, bool wide) => (rows + TileRows(wide) - 1) / TileRows(wide) * TileRows(wide) * inner;

        /// <summary>Floats a packed copy of B [inner x columns] needs.</summary>
        public static int PackedColumnsLength(int inner, int columns, bool wide) => (columns + PanelWidth(wide) - 1) / PanelWidth(wide) * PanelWidth(wide) * inner;

        /// <summary>Packs B [inner x columns] (row stride <paramref name="stride"/>) into strips; or, transposed, B[k, j] = source[j * stride + k].</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void PackColumns(float* source, int stride, int inner, int columns, bool transposed, float* packed, bool wide)
        {
            var width = PanelWidth(wide);
            for (var first = 0; first < columns; first += width)
            {
                var strip = packed + ((long)first * inner);
                var count = Math.Min(width, columns - first);
                for (var k = 0; k < inner; k++)
                {
                    var target = strip + ((long)k * width);
                    if (transposed)
                    {
                        for (var j = 0; j < count; j++)
                        {
                            target[j] = source[((long)(first + j) * stride) + k];
                        }
                    }
                    else
                    {
                        new ReadOnlySpan<float>(source + ((long)k * stride) + first, count).CopyTo(new Span<float>(target, count));
                    }

                    new Span<float>(target + count, width - count).Clear();
                }
            }
        }

        /// <summary>Packs A [rows x inner] (row stride <paramref name="stride"/>) into row tiles, k-major, zero-padded.</summary>
        public static void PackRows(float* a, int stride, int rows, int inner, float* packed, bool wide) =>
            PackRows(a, stride, rows, inner, packed, 0, (rows + TileRows(wide) - 1) / TileRows(wide), wide);

        /// <summary>Packs the row tiles from <paramref name="firstTile"/> up to <paramref name="endTile"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void PackRows(float* a, int stride, int rows, int inner, float* packed, int firstTile, int endTile, bool wide)
        {
            var tileRows = TileRows(wide);
            var sources = stackalloc nint[Kernels.WideRows];
            for (var t = firstTile; t < endTile; t++)
            {
                var first = t * tileRows;
                var tile = packed + ((long)first * inner);
                var count = Math.Min(tileRows, rows - first);
                if (count < tileRows)
                {
                    new Span<float>(tile, tileRows * inner).Clear();
                }

                for (var r = 0; r < count; r++)
                {
                    sources[r] = (nint)(a + ((long)(first + r) * stride));
                }

                // k outside, rows inside: the writes run sequentially and each row is read in order.
                for (var k = 0; k < inner; k++)
                {
                    var target = tile + (k * tileRows);
                    for (var r = 0; r < count; r++)
                    {
                        target[r] = ((float*)sources[r])[k];
                    }
                }
            }
        }

        /// <summary>
        /// C = A B (+ bias): packs A into <paramref name="scratch"/> and splits B's strips over <paramref name="threads"/> workers.
        /// </summary>
        /// <param name="a">A, row stride <paramref name="aStride"/>.</param>
        /// <param name="aStride">Row stride of A.</param>
        /// <param name="rows">Rows of A and C.</param>
        /// <param name="inner">Columns of A, rows of B.</param>
        /// <param name="packedB">B packed by <see cref="PackColumns"/>.</param>
        /// <param name="columns">Columns of B and C.</param>
        /// <param name="bias">Bias padded to whole strips, or null.</param>
        /// <param name="c">C, row stride <paramref name="cStride"/>; overwritten.</param>
        /// <param name="cStride">Row stride of C.</param>
        /// <param name="threads">Workers.</param>
        /// <param name="scratch">At least <see cref="PackedRowsLength"/> floats.</param>
        /// <param name="wide">The AVX-512 tile (B packed in strips of 32) or the AVX2 one (16).</param>
        /// <param name="gelu">Apply GELU to each finished tile of C.</param>
        public static void Run(float* a, int aStride, int rows, int inner, float* packedB, int columns, float* bias, float* c, int cStride, int threads, float* scratch, bool wide, bool gelu = false)
        {
            var panels = (columns + PanelWidth(wide) - 1) / PanelWidth(wide);
            var workers = Math.Clamp(threads, 1, panels);
            var job = new Job((nint)scratch, (nint)packedB, (nint)bias, (nint)c, rows, inner, columns, cStride, workers, wide, gelu);
            if (workers == 1)
            {
                PackRows(a, aStride, rows, inner, scratch, wide);
                Work(0, job);
                return;
            }

            var tiles = (rows + TileRows(wide) - 1) / TileRows(wide);
            var source = (nint)a;
            Workers.Run(workers, worker =>
                PackRows((float*)source, aStride, rows, inner, (float*)job.A, tiles * worker / workers, tiles * (worker + 1) / workers, wide));
            Workers.Run(workers, worker => Work(worker, job));
        }

        /// <summary>C = A B, one core, A unpacked (row stride <paramref name="aStride"/>), B packed; tiles of 6 rows.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void RunDirect(float* a, int aStride, int rows, int inner, float* packedB, int columns, float* c, int cStride, bool wide)
        {
            const int tileRows = Kernels.NarrowRows;
            var full = rows / tileRows * tileRows;
            var tail = stackalloc float[tileRows * 32];
            var tailA = ArrayPool<float>.Shared.Rent(rows > full ? tileRows * inner : 0);
            try
            {
                fixed (float* pTailA = tailA)
                {
                    RunDirectRows(a, aStride, rows, inner, packedB, columns, c, cStride, wide, full, pTailA, tail);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(tailA);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void RunDirectRows(float* a, int aStride, int rows, int inner, float* packedB, int columns, float* c, int cStride, bool wide, int full, float* pTailA, float* tail)
        {
            var width = PanelWidth(wide);
            const int tileRows = Kernels.NarrowRows;
            for (var r = full; r < rows; r++)
            {
                new ReadOnlySpan<float>(a + ((long)r * aStride), inner).CopyTo(new Span<float>(pTailA + ((r - full) * inner), inner));
            }

            for (var first = 0; first < columns; first += width)
            {
                var count = Math.Min(width, columns - first);
                for (var k0 = 0; k0 < inner; k0 += DepthBlock)
                {
                    var depth = Math.Min(DepthBlock, inner - k0);
                    var overwrite = k0 == 0;
                    var strip = packedB + ((((long)first * inner) + ((long)k0 * width)));
                    for (var top = 0; top < full; top += tileRows)
                    {
                        var source = a + ((long)top * aStride) + k0;
                        var target = c + ((long)top * cStride) + first;
                        if (count == width)
                        {
                            Kernels.AccumulateDirect(wide, source, aStride, strip, depth, target, cStride, overwrite);
                        }
                        else
                        {
                            Ragged(wide, source, aStride, strip, depth, target, cStride, tileRows, count, tail, overwrite);
                        }
                    }

                    if (full < rows)
                    {
                        Ragged(wide, pTailA + k0, inner, strip, depth, c + ((long)full * cStride) + first, cStride, rows - full, count, tail, overwrite);
                    }
                }
            }
        }

        private static void Ragged(bool wide, float* a, int aStride, float* strip, int depth, float* target, int cStride, int height, int count, float* tail, bool overwrite)
        {
            var width = PanelWidth(wide);
            new Span<float>(tail, Kernels.NarrowRows * width).Clear();
            for (var r = 0; r < height && !overwrite; r++)
            {
                new ReadOnlySpan<float>(target + ((long)r * cStride), count).CopyTo(new Span<float>(tail + (r * width), count));
            }

            Kernels.AccumulateDirect(wide, a, aStride, strip, depth, tail, width, overwrite: false);
            for (var r = 0; r < height; r++)
            {
                new ReadOnlySpan<float>(tail + (r * width), count).CopyTo(new Span<float>(target + ((long)r * cStride), count));
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Work(int worker, Job job)
        {
            var wide = job.Wide;
            var width = PanelWidth(wide);
            var tileRows = TileRows(wide);
            var panels = (job.Columns + width - 1) / width;
            var firstPanel = (int)((long)panels * worker / job.Workers);
            var lastPanel = (int)((long)panels * (worker + 1) / job.Workers);
            var tiles = (job.Rows + tileRows - 1) / tileRows;
            var a = (float*)job.A;
            var b = (float*)job.B;
            var c = (float*)job.C;
            var bias = (float*)job.Bias;
            var scratch = stackalloc float[Kernels.WideRows * 32];
            for (var p = firstPanel; p < lastPanel; p++)
            {
                var first = p * width;
                var count = Math.Min(width, job.Columns - first);
                for (var r = 0; r < job.Rows; r++)
                {
                    var target = new Span<float>(c + ((long)r * job.CStride) + first, count);
                    if (bias == null)
                    {
                        target.Clear();
                    }
                    else
                    {
                        new ReadOnlySpan<float>(bias + first, count).CopyTo(target);
                    }
                }
            }

            for (var k0 = 0; k0 < job.Inner; k0 += DepthBlock)
            {
                var depth = Math.Min(DepthBlock, job.Inner - k0);
                for (var p = firstPanel; p < lastPanel; p++)
                {
                    var strip = b + ((((long)p * job.Inner) + k0) * width);
                    var first = p * width;
                    var count = Math.Min(width, job.Columns - first);
                    for (var t = 0; t < tiles; t++)
                    {
                        var tileA = a + ((((long)t * job.Inner) + k0) * tileRows);
                        var top = t * tileRows;
                        var height = Math.Min(tileRows, job.Rows - top);
                        var target = c + ((long)top * job.CStride) + first;
                        var last = job.Gelu && k0 + depth == job.Inner;
                        if (height == tileRows && count == width)
                        {
                            Kernels.Accumulate(wide, tileA, strip, depth, target, job.CStride);
                            if (last)
                            {
                                for (var r = 0; r < tileRows; r++)
                                {
                                    Activations.Gelu(target + ((long)r * job.CStride), width);
                                }
                            }

                            continue;
                        }

                        // A ragged edge: run the full tile on a scratch copy and write back what exists.
                        for (var r = 0; r < tileRows; r++)
                        {
                            for (var j = 0; j < width; j++)
                            {
                                scratch[(r * width) + j] = r < height && j < count ? target[((long)r * job.CStride) + j] : 0;
                            }
                        }

                        Kernels.Accumulate(wide, tileA, strip, depth, scratch, width);
                        for (var r = 0; r < height; r++)
                        {
                            if (last)
                            {
                                Activations.Gelu(scratch + (r * width), count);
                            }

                            new ReadOnlySpan<float>(scratch + (r * width), count).CopyTo(new Span<float>(target + ((long)r * job.CStride), count));
                        }
                    }
                }
            }
        }

        private readonly record struct Job(nint A, nint B, nint Bias, nint C, int Rows, int Inner, int Columns, int CStride, int Workers, bool Wide, bool Gelu);
    }

    /// <summary>The register tiles: C[tile] += A_tile B_strip over one depth block, both packed.</summary>
    internal static unsafe class Kernels
    {
        /// <summary>Rows of the AVX-512 tile.</summary>
        public const int WideRows = 12;

        /// <summary>Rows of the AVX2 tile.</summary>
        public const int NarrowRows = 6;

        /// <summary>Whether this machine uses the AVX-512 tile by default.</summary>
        public static bool Wide { get; } = Avx512F.IsSupported && Microkernels.Accelerated;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Accumulate(bool wide, float* a, float* b, int depth, float* c, int cStride)
        {
            if (wide)
            {
                if (Avx512F.IsSupported)
                {
                    Wide12x32(a, b, depth, c, cStride);
                }
                else
                {
                    Portable(a, b, depth, c, cStride, WideRows, 32);
                }
            }
            else if (Microkernels.Accelerated)
            {
                Narrow6x16(a, b, depth, c, cStride);
            }
            else
            {
                Portable(a, b, depth, c, cStride, NarrowRows, 16);
            }
        }

        /// <summary>C[6 x strip] (+)= A[6 x depth] (unpacked, row stride <paramref name="aStride"/>) B_strip; C is overwritten when <paramref name="overwrite"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void AccumulateDirect(bool wide, float* a, int aStride, float* b, int depth, float* c, int cStride, bool overwrite)
        {
            if (wide && Avx512F.IsSupported)
            {
                Direct6x32(a, aStride, b, depth, c, cStride, overwrite);
                return;
            }

            if (overwrite)
            {
                for (var r = 0; r < NarrowRows; r++)
                {
                    new Span<float>(c + ((long)r * cStride), wide ? 32 : 16).Clear();
                }
            }

            if (!wide && Microkernels.Accelerated)
            {
                Microkernels.AccumulateProduct(a, aStride, b, 16, depth, c, cStride, NarrowRows, 16);
            }
            else
            {
                var width = wide ? 32 : 16;
                for (var r = 0; r < NarrowRows; r++)
                {
                    for (var k = 0; k < depth; k++)
                    {
                        var x = a[((long)r * aStride) + k];
                        for (var j = 0; j < width; j++)
                        {
                            c[((long)r * cStride) + j] += x * b[(k * width) + j];
                        }
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Direct6x32(float* a, int aStride, float* b, int depth, float* c, int cStride, bool overwrite)
        {
            var a0 = a;
            var a1 = a0 + aStride;
            var a2 = a1 + aStride;
            var a3 = a2 + aStride;
            var a4 = a3 + aStride;
            var a5 = a4 + aStride;
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            var o = c;
            if (!overwrite)
            {
                c00 = Vector512.Load(o); c01 = Vector512.Load(o + 16); o += cStride;
                c10 = Vector512.Load(o); c11 = Vector512.Load(o + 16); o += cStride;
                c20 = Vector512.Load(o); c21 = Vector512.Load(o + 16); o += cStride;
                c30 = Vector512.Load(o); c31 = Vector512.Load(o + 16); o += cStride;
                c40 = Vector512.Load(o); c41 = Vector512.Load(o + 16); o += cStride;
                c50 = Vector512.Load(o); c51 = Vector512.Load(o + 16);
            }

            for (var k = 0; k < depth; k++, b += 32)
            {
                var b0 = Vector512.Load(b);
                var b1 = Vector512.Load(b + 16);
                var x = Vector512.Create(a0[k]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(a1[k]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(a2[k]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(a3[k]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
                x = Vector512.Create(a4[k]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(a5[k]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            }

            o = c;
            c00.Store(o); c01.Store(o + 16); o += cStride;
            c10.Store(o); c11.Store(o + 16); o += cStride;
            c20.Store(o); c21.Store(o + 16); o += cStride;
            c30.Store(o); c31.Store(o + 16); o += cStride;
            c40.Store(o); c41.Store(o + 16); o += cStride;
            c50.Store(o); c51.Store(o + 16);
        }

        public static void Portable(float* a, float* b, int depth, float* c, int cStride, int rows, int width)
        {
            for (var k = 0; k < depth; k++)
            {
                for (var r = 0; r < rows; r++)
                {
                    var x = a[(k * rows) + r];
                    for (var j = 0; j < width; j++)
                    {
                        c[(r * cStride) + j] += x * b[(k * width) + j];
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Wide12x32(float* a, float* b, int depth, float* c, int cStride)
        {
            var c00 = Vector512.Load(c); var c01 = Vector512.Load(c + 16); var o = c + cStride;
            var c10 = Vector512.Load(o); var c11 = Vector512.Load(o + 16); o += cStride;
            var c20 = Vector512.Load(o); var c21 = Vector512.Load(o + 16); o += cStride;
            var c30 = Vector512.Load(o); var c31 = Vector512.Load(o + 16); o += cStride;
            var c40 = Vector512.Load(o); var c41 = Vector512.Load(o + 16); o += cStride;
            var c50 = Vector512.Load(o); var c51 = Vector512.Load(o + 16); o += cStride;
            var c60 = Vector512.Load(o); var c61 = Vector512.Load(o + 16); o += cStride;
            var c70 = Vector512.Load(o); var c71 = Vector512.Load(o + 16); o += cStride;
            var c80 = Vector512.Load(o); var c81 = Vector512.Load(o + 16); o += cStride;
            var c90 = Vector512.Load(o); var c91 = Vector512.Load(o + 16); o += cStride;
            var ca0 = Vector512.Load(o); var ca1 = Vector512.Load(o + 16); o += cStride;
            var cb0 = Vector512.Load(o); var cb1 = Vector512.Load(o + 16);
            for (var k = 0; k < depth; k++, a += WideRows, b += 32)
            {
                var b0 = Vector512.Load(b);
                var b1 = Vector512.Load(b + 16);
                var x = Vector512.Create(a[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(a[1]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(a[2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(a[3]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
                x = Vector512.Create(a[4]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(a[5]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
                x = Vector512.Create(a[6]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
                x = Vector512.Create(a[7]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
                x = Vector512.Create(a[8]); c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81);
                x = Vector512.Create(a[9]); c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91);
                x = Vector512.Create(a[10]); ca0 = Avx512F.FusedMultiplyAdd(x, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(x, b1, ca1);
                x = Vector512.Create(a[11]); cb0 = Avx512F.FusedMultiplyAdd(x, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(x, b1, cb1);
            }

            o = c;
            c00.Store(o); c01.Store(o + 16); o += cStride;
            c10.Store(o); c11.Store(o + 16); o += cStride;
            c20.Store(o); c21.Store(o + 16); o += cStride;
            c30.Store(o); c31.Store(o + 16); o += cStride;
            c40.Store(o); c41.Store(o + 16); o += cStride;
            c50.Store(o); c51.Store(o + 16); o += cStride;
            c60.Store(o); c61.Store(o + 16); o += cStride;
            c70.Store(o); c71.Store(o + 16); o += cStride;
            c80.Store(o); c81.Store(o + 16); o += cStride;
            c90.Store(o); c91.Store(o + 16); o += cStride;
            ca0.Store(o); ca1.Store(o + 16); o += cStride;
            cb0.Store(o); cb1.Store(o + 16);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Narrow6x16(float* a, float* b, int depth, float* c, int cStride)
        {
            var c00 = Avx.LoadVector256(c); var c01 = Avx.LoadVector256(c + 8); var o = c + cStride;
            var c10 = Avx.LoadVector256(o); var c11 = Avx.LoadVector256(o + 8); o += cStride;
            var c20 = Avx.LoadVector256(o); var c21 = Avx.LoadVector256(o + 8); o += cStride;
            var c30 = Avx.LoadVector256(o); var c31 = Avx.LoadVector256(o + 8); o += cStride;
            var c40 = Avx.LoadVector256(o); var c41 = Avx.LoadVector256(o + 8); o += cStride;
            var c50 = Avx.LoadVector256(o); var c51 = Avx.LoadVector256(o + 8);
            for (var k = 0; k < depth; k++, a += NarrowRows, b += 16)
            {
                var b0 = Avx.LoadVector256(b);
                var b1 = Avx.LoadVector256(b + 8);
                var x = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
                x = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
                x = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
                x = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
                x = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
                x = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
            }

            o = c;
            Avx.Store(o, c00); Avx.Store(o + 8, c01); o += cStride;
            Avx.Store(o, c10); Avx.Store(o + 8, c11); o += cStride;
            Avx.Store(o, c20); Avx.Store(o + 8, c21); o += cStride;
            Avx.Store(o, c30); Avx.Store(o + 8, c31); o += cStride;
            Avx.Store(o, c40); Avx.Store(o + 8, c41); o += cStride;
            Avx.Store(o, c50); Avx.Store(o + 8, c51);
        }
    }
}
