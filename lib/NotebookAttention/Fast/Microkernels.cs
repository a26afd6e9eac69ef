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
/// The register tiles of every fp32 product on the fast path, in one place: a tile of C lives in registers while the
/// shared dimension streams through, one broadcast of A and one load of B per fused multiply-add of a row.
/// </summary>
/// <remarks>
/// <para>Two shapes, each with an AVX-512 tile, an AVX2 tile and one portable loop:</para>
/// <list type="bullet">
/// <item><see cref="Product"/>: C (+)= A B with A and B read in place through row strides, six rows at a time, 32
/// columns per AVX-512 tile and 16 per AVX2 tile. Attention's Q K^T and P V, linear and windowed attention, and the
/// direct (unpacked A) products of <see cref="Gemm"/> use it.</item>
/// <item><see cref="PackedTile"/>: C[tile] += A_tile B_strip with both operands packed by <see cref="Gemm"/>: 12 x 32
/// with AVX-512, 6 x 16 with AVX2. The blocked product of <see cref="PackedMatrix"/> uses it.</item>
/// </list>
/// <para>Every tile adds the terms of an entry of C in the order of the shared index with one rounding per term
/// (fused multiply-add), and so does the portable loop: all levels give the same bits, which the tests check.</para>
/// </remarks>
internal static unsafe class Microkernels
{
    /// <summary>Rows of a <see cref="Product"/> tile: callers give a multiple of it.</summary>
    public const int Rows = 6;

    /// <summary>Columns of the narrowest <see cref="Product"/> tile (two AVX2 vectors): callers give a multiple of it.</summary>
    public const int Columns = 16;

    /// <summary>Rows of the AVX-512 packed tile.</summary>
    public const int WideRows = 12;

    /// <summary>Rows of the AVX2 packed tile.</summary>
    public const int NarrowRows = 6;

    private static KernelLevel level = Supported;

    /// <summary>The widest level this CPU runs.</summary>
    public static KernelLevel Supported { get; } =
        !(Avx2.IsSupported && Fma.IsSupported) ? KernelLevel.Portable : Avx512F.IsSupported ? KernelLevel.Avx512 : KernelLevel.Avx2;

    /// <summary>Whether packed products default to the AVX-512 layout (strips of 32 columns, tiles of 12 rows).</summary>
    public static bool Wide { get; } = Supported == KernelLevel.Avx512;

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
    /// copy (keys packed so that 16 keys of one dimension are contiguous) or a packed strip.
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
                    Tile6x32(ar, aStride, b + j, bStride, depth, cr + j, cStride, accumulate);
                }
            }

            if (at != KernelLevel.Portable)
            {
                for (; j + 16 <= columns; j += 16)
                {
                    Tile6x16(ar, aStride, b + j, bStride, depth, cr + j, cStride, accumulate);
                }
            }

            if (j < columns)
            {
                TilePortable(ar, aStride, b + j, bStride, depth, cr + j, cStride, columns - j, accumulate);
            }
        }
    }

    /// <summary>
    /// C[tile] += A_tile B_strip over one depth block: A packed k-major in tiles of <see cref="WideRows"/> rows (wide)
    /// or <see cref="NarrowRows"/>, B packed k-major in strips of 32 (wide) or 16 columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PackedTile(bool wide, float* a, float* b, int depth, float* c, int cStride)
    {
        if (wide && level == KernelLevel.Avx512)
        {
            Packed12x32(a, b, depth, c, cStride);
        }
        else if (!wide && level != KernelLevel.Portable)
        {
            Packed6x16(a, b, depth, c, cStride);
        }
        else
        {
            PackedPortable(a, b, depth, c, cStride, wide ? WideRows : NarrowRows, wide ? 32 : 16);
        }
    }

    /// <summary>The portable <see cref="Product"/> tile: six rows by <paramref name="width"/> columns.</summary>
    private static void TilePortable(float* a, int aStride, float* b, int bStride, int depth, float* c, int cStride, int width, bool accumulate)
    {
        for (var r = 0; r < Rows; r++)
        {
            var row = c + ((long)r * cStride);
            for (var j = 0; j < width; j++)
            {
                var sum = accumulate ? row[j] : 0f;
                for (var k = 0; k < depth; k++)
                {
                    sum = MathF.FusedMultiplyAdd(a[((long)r * aStride) + k], b[((long)k * bStride) + j], sum);
                }

                row[j] = sum;
            }
        }
    }

    /// <summary>The AVX2 <see cref="Product"/> tile: 6 x 16 in twelve 8-float registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile6x16(float* a, int aStride, float* b, int bStride, int depth, float* c, int cStride, bool accumulate)
    {
        var a0 = a;
        var a1 = a0 + aStride;
        var a2 = a1 + aStride;
        var a3 = a2 + aStride;
        var a4 = a3 + aStride;
        var a5 = a4 + aStride;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        var o = c;
        if (accumulate)
        {
            c00 = Avx.LoadVector256(o); c01 = Avx.LoadVector256(o + 8); o += cStride;
            c10 = Avx.LoadVector256(o); c11 = Avx.LoadVector256(o + 8); o += cStride;
            c20 = Avx.LoadVector256(o); c21 = Avx.LoadVector256(o + 8); o += cStride;
            c30 = Avx.LoadVector256(o); c31 = Avx.LoadVector256(o + 8); o += cStride;
            c40 = Avx.LoadVector256(o); c41 = Avx.LoadVector256(o + 8); o += cStride;
            c50 = Avx.LoadVector256(o); c51 = Avx.LoadVector256(o + 8);
        }

        for (var k = 0; k < depth; k++, b += bStride)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var x = Vector256.Create(a0[k]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[k]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[k]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[k]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(a4[k]); c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(a5[k]); c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
        }

        o = c;
        Avx.Store(o, c00); Avx.Store(o + 8, c01); o += cStride;
        Avx.Store(o, c10); Avx.Store(o + 8, c11); o += cStride;
        Avx.Store(o, c20); Avx.Store(o + 8, c21); o += cStride;
        Avx.Store(o, c30); Avx.Store(o + 8, c31); o += cStride;
        Avx.Store(o, c40); Avx.Store(o + 8, c41); o += cStride;
        Avx.Store(o, c50); Avx.Store(o + 8, c51);
    }

    /// <summary>The AVX-512 <see cref="Product"/> tile: 6 x 32 in twelve 16-float registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile6x32(float* a, int aStride, float* b, int bStride, int depth, float* c, int cStride, bool accumulate)
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
        if (accumulate)
        {
            c00 = Vector512.Load(o); c01 = Vector512.Load(o + 16); o += cStride;
            c10 = Vector512.Load(o); c11 = Vector512.Load(o + 16); o += cStride;
            c20 = Vector512.Load(o); c21 = Vector512.Load(o + 16); o += cStride;
            c30 = Vector512.Load(o); c31 = Vector512.Load(o + 16); o += cStride;
            c40 = Vector512.Load(o); c41 = Vector512.Load(o + 16); o += cStride;
            c50 = Vector512.Load(o); c51 = Vector512.Load(o + 16);
        }

        for (var k = 0; k < depth; k++, b += bStride)
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

    /// <summary>The portable <see cref="PackedTile"/>: <paramref name="rows"/> x <paramref name="width"/>.</summary>
    private static void PackedPortable(float* a, float* b, int depth, float* c, int cStride, int rows, int width)
    {
        for (var k = 0; k < depth; k++)
        {
            for (var r = 0; r < rows; r++)
            {
                var x = a[(k * rows) + r];
                var row = c + ((long)r * cStride);
                for (var j = 0; j < width; j++)
                {
                    row[j] = MathF.FusedMultiplyAdd(x, b[(k * width) + j], row[j]);
                }
            }
        }
    }

    /// <summary>The AVX2 <see cref="PackedTile"/>: 6 x 16 in twelve 8-float registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Packed6x16(float* a, float* b, int depth, float* c, int cStride)
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

    /// <summary>The AVX-512 <see cref="PackedTile"/>: 12 x 32 in twenty-four 16-float registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Packed12x32(float* a, float* b, int depth, float* c, int cStride)
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
}
