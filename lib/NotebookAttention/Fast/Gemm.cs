using System.Runtime.CompilerServices;

namespace NotebookAttention.Fast;

/// <summary>
/// The GEMM driver: C = A B (+ bias) on packed operands. B is cut into strips of <see cref="PanelWidth"/> columns,
/// each stored k by k; A is packed into row tiles; the shared dimension is blocked by <see cref="DepthBlock"/> so a
/// strip of B stays in L1 while every row tile passes it; the strips are split over the cores. The register tiles
/// themselves are <see cref="Microkernels.PackedTile"/>.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>Depth of one block of the shared dimension: a strip of B for one block is 32 KiB at 32 columns.</summary>
    public const int DepthBlock = 256;

    /// <summary>Columns per packed strip of B.</summary>
    public static int PanelWidth(bool wide) => wide ? 32 : 16;

    /// <summary>Floats a packed copy of A [rows x inner] needs, for either tile height (<see cref="Microkernels.PackedRows"/>).</summary>
    public static int PackedRowsLength(int rows, int inner) =>
        Math.Max(RoundUp(rows, Microkernels.PackedRows(wide: true)), RoundUp(rows, Microkernels.PackedRows(wide: false))) * inner;

    private static int RoundUp(int rows, int tileRows) => (rows + tileRows - 1) / tileRows * tileRows;

    /// <summary>Packs B [inner x columns] (row stride <paramref name="stride"/>) into strips, zero-padded past the last column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackColumns(float* source, int stride, int inner, int columns, float* packed, bool wide)
    {
        var width = PanelWidth(wide);
        for (var first = 0; first < columns; first += width)
        {
            var strip = packed + ((long)first * inner);
            var count = Math.Min(width, columns - first);
            for (var k = 0; k < inner; k++)
            {
                var target = strip + ((long)k * width);
                new ReadOnlySpan<float>(source + ((long)k * stride) + first, count).CopyTo(new Span<float>(target, count));
                new Span<float>(target + count, width - count).Clear();
            }
        }
    }

    /// <summary>Packs the row tiles from <paramref name="firstTile"/> up to <paramref name="endTile"/> of A [rows x inner] (row stride <paramref name="stride"/>) into tiles of <paramref name="tileRows"/> rows, k-major, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackRows(float* a, int stride, int rows, int inner, float* packed, int tileRows, int firstTile, int endTile)
    {
        var sources = stackalloc nint[tileRows];
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
    /// C [rows x columns] = A [rows x inner] B (+ bias), overwriting C: packs A (row stride aStride) into
    /// <paramref name="scratch"/> (at least <see cref="PackedRowsLength"/> floats) and splits the strips of B (packed by
    /// <see cref="PackColumns"/>, 32 wide for the AVX-512 tile, else 16) over <paramref name="threads"/> workers. The
    /// bias is padded to whole strips, or null; <paramref name="gelu"/> applies GELU to each finished tile of C.
    /// </summary>
    public static void Run(float* a, int aStride, int rows, int inner, float* packedB, int columns, float* bias, float* c, int cStride, int threads, float* scratch, bool wide, bool gelu = false)
    {
        var panels = (columns + PanelWidth(wide) - 1) / PanelWidth(wide);
        var workers = Math.Clamp(threads, 1, panels);
        var job = new Job((nint)scratch, (nint)packedB, (nint)bias, (nint)c, rows, inner, columns, cStride, workers, wide, gelu);
        var tileRows = Microkernels.PackedRows(wide);
        var tiles = RoundUp(rows, tileRows) / tileRows;
        if (workers == 1)
        {
            PackRows(a, aStride, rows, inner, scratch, tileRows, 0, tiles);
            Work(0, job);
            return;
        }

        var source = (nint)a;
        Workers.Run(workers, worker =>
            PackRows((float*)source, aStride, rows, inner, (float*)job.A, tileRows, tiles * worker / workers, tiles * (worker + 1) / workers));
        Workers.Run(workers, worker => Work(worker, job));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Work(int worker, Job job)
    {
        var wide = job.Wide;
        var width = PanelWidth(wide);
        var tileRows = Microkernels.PackedRows(wide);
        var panels = (job.Columns + width - 1) / width;
        var firstPanel = (int)((long)panels * worker / job.Workers);
        var lastPanel = (int)((long)panels * (worker + 1) / job.Workers);
        var tiles = (job.Rows + tileRows - 1) / tileRows;
        var a = (float*)job.A;
        var b = (float*)job.B;
        var c = (float*)job.C;
        var bias = (float*)job.Bias;
        var scratch = stackalloc float[8 * 32];
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
                        Microkernels.PackedTile(wide, tileA, strip, depth, target, job.CStride);
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

                    Microkernels.PackedTile(wide, tileA, strip, depth, scratch, width);
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
