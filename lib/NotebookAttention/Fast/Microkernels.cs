using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NotebookAttention.Fast;

/// <summary>Which register tiles run: the widest the CPU has, or a narrower one that tests force.</summary>
internal enum KernelLevel
{
    /// <summary>Scalar loops (any CPU), with fused multiply-adds so each sum rounds as in the vector tiles.</summary>
    Portable,

    /// <summary>8-float registers: AVX2 and FMA.</summary>
    Avx2,

    /// <summary>16-float registers: AVX-512F.</summary>
    Avx512,
}

/// <summary>
/// The register tile of every fp32 product on the fast path, in one place: a tile of 6 (or 8) rows by two vectors of C
/// lives in registers while the shared dimension streams through, one broadcast of A per row and two loads of B per
/// step.
/// </summary>
/// <remarks>
/// <para>One tile, <see cref="Tile{TLanes, TVector, TRows}"/>, written once for any vector width and height: 6 x 32 with
/// AVX-512 (<see cref="Lanes16"/>), 6 x 16 with AVX2 (<see cref="Lanes8"/>), 8 x 32 for the packed products on AVX-512
/// (16 accumulators of its 32 registers: 16 multiply-adds per 10 loads instead of 12 per 8), and one portable loop.
/// It reads A through a row stride and a step per k, so the same tile serves A in place (attention's Q and P, step 1)
/// and A packed k-major by <see cref="Gemm"/> (row stride 1, step 6 or 8). Two entry points:</para>
/// <list type="bullet">
/// <item><see cref="Product"/>: C (+)= A B with A and B read in place through row strides, 6-row tiles. Attention's
/// Q K^T and P V, linear and windowed attention use it.</item>
/// <item><see cref="PackedTile"/>: C[tile] += A_tile B_strip with both operands packed by <see cref="Gemm"/>. The
/// blocked product of <see cref="PackedMatrix"/> uses it.</item>
/// </list>
/// <para>Every level adds the terms of an entry of C in the order of the shared index with one rounding per term
/// (fused multiply-add), and so does the portable loop: all levels give the same bits, which the tests check.</para>
/// </remarks>
internal static unsafe class Microkernels
{
    /// <summary>Rows of a tile: callers give a multiple of it.</summary>
    public const int Rows = 6;

    /// <summary>Columns of the narrowest vector tile (two AVX2 vectors): <see cref="Product"/>'s callers give a multiple of it.</summary>
    public const int Columns = 16;

    /// <summary>The widest level this CPU runs.</summary>
    public static KernelLevel Supported { get; } =
        !(Avx2.IsSupported && Fma.IsSupported) ? KernelLevel.Portable : Avx512F.IsSupported ? KernelLevel.Avx512 : KernelLevel.Avx2;

    /// <summary>Whether packed products default to the AVX-512 layout (strips of 32 columns) rather than strips of 16.</summary>
    public static bool Wide { get; } = Supported == KernelLevel.Avx512;

    // After Supported: static fields start in the order they are written.
    private static KernelLevel level = Supported;

    /// <summary>
    /// The level the kernels run at: <see cref="Supported"/> unless a test forces a narrower one to prove it equal.
    /// Process-wide; tests that set it run alone.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The CPU does not have the level.</exception>
    public static KernelLevel Level
    {
        get => level;
        set => level = value <= Supported
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"this CPU runs kernels up to {Supported}: force {Supported} or a narrower level.");
    }

    /// <summary>Whether vector kernels run (AVX2 or wider); otherwise portable loops give the same results more slowly.</summary>
    public static bool Accelerated => level != KernelLevel.Portable;

    /// <summary>
    /// C[r, j] = (accumulate ? C[r, j] : 0) + sum_k A[r, k] B[k, j] for r &lt; rows, j &lt; columns, k &lt; depth;
    /// A, B and C row-major with row strides.
    /// </summary>
    /// <remarks>
    /// Rows must be a multiple of <see cref="Rows"/> and columns of <see cref="Columns"/>. B is often a transposed
    /// copy (keys packed so that the keys of one dimension are contiguous).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Product(float* a, int aStride, float* b, int bStride, int depth, float* c, int cStride, int rows, int columns, bool accumulate)
    {
        var at = level;
        for (var r = 0; r < rows; r += Rows)
        {
            var ar = a + ((long)r * aStride);
            var cr = c + ((long)r * cStride);
            var j = 0;
            if (at == KernelLevel.Avx512)
            {
                for (; j + 32 <= columns; j += 32)
                {
                    Tile<Lanes16, Vector512<float>, SixRows>(ar, aStride, 1, b + j, bStride, depth, cr + j, cStride, accumulate);
                }
            }

            if (at != KernelLevel.Portable)
            {
                for (; j + 16 <= columns; j += 16)
                {
                    Tile<Lanes8, Vector256<float>, SixRows>(ar, aStride, 1, b + j, bStride, depth, cr + j, cStride, accumulate);
                }
            }

            if (j < columns)
            {
                TilePortable(ar, aStride, 1, b + j, bStride, depth, cr + j, cStride, Rows, columns - j, accumulate);
            }
        }
    }

    /// <summary>Rows of a packed A tile for strips of B of the given width: 8 for the AVX-512 layout (32 columns), else 6.</summary>
    public static int PackedRows(bool wide) => wide ? 8 : Rows;

    /// <summary>
    /// C[rows x width] += A_tile B_strip over one depth block, both packed k-major: A_tile[k, r] at a[rows k + r], B_strip[k, j]
    /// at b[width k + j]; 8 x 32 (<paramref name="wide"/>, <see cref="PackedRows"/>) or 6 x 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PackedTile(bool wide, float* a, float* b, int depth, float* c, int cStride)
    {
        var (rows, width) = wide ? (8, 32) : (Rows, 16);
        if (wide && level == KernelLevel.Avx512)
        {
            Tile<Lanes16, Vector512<float>, EightRows>(a, 1, rows, b, width, depth, c, cStride, accumulate: true);
        }
        else if (level != KernelLevel.Portable)
        {
            // A wider or taller tile on a narrower level: 16-column tiles of 6 rows, the rows left by the portable loop,
            // each entry's sum in the same order.
            for (var j = 0; j < width; j += 16)
            {
                Tile<Lanes8, Vector256<float>, SixRows>(a, 1, rows, b + j, width, depth, c + j, cStride, accumulate: true);
            }

            if (rows > Rows)
            {
                TilePortable(a + Rows, 1, rows, b, width, depth, c + ((long)Rows * cStride), cStride, rows - Rows, width, accumulate: true);
            }
        }
        else
        {
            TilePortable(a, 1, rows, b, width, depth, c, cStride, rows, width, accumulate: true);
        }
    }

    /// <summary>The portable tile: <paramref name="rows"/> rows by <paramref name="width"/> columns, A[r, k] at a[r aStride + k aStep].</summary>
    private static void TilePortable(float* a, int aStride, int aStep, float* b, int bStride, int depth, float* c, int cStride, int rows, int width, bool accumulate)
    {
        for (var r = 0; r < rows; r++)
        {
            var row = c + ((long)r * cStride);
            for (var j = 0; j < width; j++)
            {
                var sum = accumulate ? row[j] : 0f;
                for (var k = 0; k < depth; k++)
                {
                    sum = MathF.FusedMultiplyAdd(a[((long)r * aStride) + ((long)k * aStep)], b[((long)k * bStride) + j], sum);
                }

                row[j] = sum;
            }
        }
    }

    /// <summary>
    /// The vector tile: C[rows x 2 lanes] (+)= A B with A[r, k] at a[r aStride + k aStep] and B[k, j] at b[k bStride + j],
    /// two accumulators of <typeparamref name="TVector"/> per row, 6 or 8 rows (<typeparamref name="TRows"/>). The JIT
    /// compiles it once per width and height, as if written out (the branches on the row count disappear).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TLanes, TVector, TRows>(float* a, int aStride, int aStep, float* b, int bStride, int depth, float* c, int cStride, bool accumulate)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TRows : struct, IRowCount
    {
        var half = TLanes.Count;
        var eight = TRows.Count == 8;
        var (s1, s2, s3, s4, s5, s6, s7) = (aStride, 2 * aStride, 3 * aStride, 4 * aStride, 5 * aStride, 6 * aStride, 7 * aStride);
        TVector c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        TVector c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        TVector c60 = default, c61 = default, c70 = default, c71 = default;
        if (accumulate)
        {
            (c00, c01) = (TLanes.Load(c), TLanes.Load(c + half));
            (c10, c11) = (TLanes.Load(c + cStride), TLanes.Load(c + cStride + half));
            (c20, c21) = (TLanes.Load(c + (2 * cStride)), TLanes.Load(c + (2 * cStride) + half));
            (c30, c31) = (TLanes.Load(c + (3 * cStride)), TLanes.Load(c + (3 * cStride) + half));
            (c40, c41) = (TLanes.Load(c + (4 * cStride)), TLanes.Load(c + (4 * cStride) + half));
            (c50, c51) = (TLanes.Load(c + (5 * cStride)), TLanes.Load(c + (5 * cStride) + half));
            if (eight)
            {
                (c60, c61) = (TLanes.Load(c + (6 * cStride)), TLanes.Load(c + (6 * cStride) + half));
                (c70, c71) = (TLanes.Load(c + (7 * cStride)), TLanes.Load(c + (7 * cStride) + half));
            }
        }

        for (var k = 0; k < depth; k++, a += aStep, b += bStride)
        {
            var (b0, b1) = (TLanes.Load(b), TLanes.Load(b + half));
            var x = TLanes.Broadcast(a[0]); c00 = TLanes.MultiplyAdd(x, b0, c00); c01 = TLanes.MultiplyAdd(x, b1, c01);
            x = TLanes.Broadcast(a[s1]); c10 = TLanes.MultiplyAdd(x, b0, c10); c11 = TLanes.MultiplyAdd(x, b1, c11);
            x = TLanes.Broadcast(a[s2]); c20 = TLanes.MultiplyAdd(x, b0, c20); c21 = TLanes.MultiplyAdd(x, b1, c21);
            x = TLanes.Broadcast(a[s3]); c30 = TLanes.MultiplyAdd(x, b0, c30); c31 = TLanes.MultiplyAdd(x, b1, c31);
            x = TLanes.Broadcast(a[s4]); c40 = TLanes.MultiplyAdd(x, b0, c40); c41 = TLanes.MultiplyAdd(x, b1, c41);
            x = TLanes.Broadcast(a[s5]); c50 = TLanes.MultiplyAdd(x, b0, c50); c51 = TLanes.MultiplyAdd(x, b1, c51);
            if (eight)
            {
                x = TLanes.Broadcast(a[s6]); c60 = TLanes.MultiplyAdd(x, b0, c60); c61 = TLanes.MultiplyAdd(x, b1, c61);
                x = TLanes.Broadcast(a[s7]); c70 = TLanes.MultiplyAdd(x, b0, c70); c71 = TLanes.MultiplyAdd(x, b1, c71);
            }
        }

        TLanes.Store(c00, c); TLanes.Store(c01, c + half);
        TLanes.Store(c10, c + cStride); TLanes.Store(c11, c + cStride + half);
        TLanes.Store(c20, c + (2 * cStride)); TLanes.Store(c21, c + (2 * cStride) + half);
        TLanes.Store(c30, c + (3 * cStride)); TLanes.Store(c31, c + (3 * cStride) + half);
        TLanes.Store(c40, c + (4 * cStride)); TLanes.Store(c41, c + (4 * cStride) + half);
        TLanes.Store(c50, c + (5 * cStride)); TLanes.Store(c51, c + (5 * cStride) + half);
        if (eight)
        {
            TLanes.Store(c60, c + (6 * cStride)); TLanes.Store(c61, c + (6 * cStride) + half);
            TLanes.Store(c70, c + (7 * cStride)); TLanes.Store(c71, c + (7 * cStride) + half);
        }
    }
}

/// <summary>A tile's row count as a type, so the JIT compiles one tile per height.</summary>
internal interface IRowCount
{
    /// <summary>Rows: 6 or 8.</summary>
    static abstract int Count { get; }
}

/// <summary>Six rows: twelve accumulators, which with two loads of B and a broadcast fit AVX2's 16 registers.</summary>
internal readonly struct SixRows : IRowCount
{
    public static int Count => 6;
}

/// <summary>Eight rows: sixteen accumulators, for AVX-512's 32 registers (more multiply-adds per load of B).</summary>
internal readonly struct EightRows : IRowCount
{
    public static int Count => 8;
}

/// <summary>The operations a register tile needs on one vector register of fp32 lanes.</summary>
internal unsafe interface ILanes<TVector>
    where TVector : struct
{
    /// <summary>Floats per register.</summary>
    static abstract int Count { get; }

    static abstract TVector Load(float* source);

    static abstract void Store(TVector value, float* target);

    /// <summary>The value in every lane.</summary>
    static abstract TVector Broadcast(float value);

    /// <summary>x y + addend in every lane, rounded once.</summary>
    static abstract TVector MultiplyAdd(TVector x, TVector y, TVector addend);
}

/// <summary>Eight lanes: AVX2 and FMA.</summary>
internal readonly unsafe struct Lanes8 : ILanes<Vector256<float>>
{
    public static int Count => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Avx.LoadVector256(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, float* target) => Avx.Store(target, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> x, Vector256<float> y, Vector256<float> addend) => Fma.MultiplyAdd(x, y, addend);
}

/// <summary>Sixteen lanes: AVX-512F.</summary>
internal readonly unsafe struct Lanes16 : ILanes<Vector512<float>>
{
    public static int Count => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, float* target) => value.Store(target);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> x, Vector512<float> y, Vector512<float> addend) => Avx512F.FusedMultiplyAdd(x, y, addend);
}
