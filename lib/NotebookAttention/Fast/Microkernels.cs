using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NotebookAttention.Fast;

/// <summary>
/// Register-blocked fp32 kernels: a tile of 6 rows x 16 columns lives in 12 AVX registers while the shared
/// dimension streams through, two FMAs per loaded vector pair per row. Everything above them (blocking, softmax,
/// threads) is in the callers.
/// </summary>
internal static unsafe class Microkernels
{
    /// <summary>Rows of a register tile.</summary>
    public const int Rows = 6;

    /// <summary>Columns of a register tile: two vectors of eight floats.</summary>
    public const int Columns = 16;

    /// <summary>Whether the AVX2 + FMA kernels run; otherwise portable loops give the same results more slowly.</summary>
    public static bool Accelerated { get; set; } = Avx.IsSupported && Fma.IsSupported;

    /// <summary>
    /// C[r, c] = sum_t A[r, t] Bt[t, c] for r &lt; rows and c &lt; columns: rows of A against columns of Bt
    /// (Bt holds B transposed, e.g. keys packed so that 16 keys of one dimension are contiguous).
    /// </summary>
    /// <param name="a">A, row stride <paramref name="aStride"/>.</param>
    /// <param name="aStride">Row stride of A.</param>
    /// <param name="bt">Bt, [depth x columns] with row stride <paramref name="btStride"/>.</param>
    /// <param name="btStride">Row stride of Bt.</param>
    /// <param name="depth">Shared dimension.</param>
    /// <param name="c">C, written (not accumulated), row stride <paramref name="cStride"/>.</param>
    /// <param name="cStride">Row stride of C.</param>
    /// <param name="rows">Rows, a multiple of <see cref="Rows"/>.</param>
    /// <param name="columns">Columns, a multiple of <see cref="Columns"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowsTimesColumns(float* a, int aStride, float* bt, int btStride, int depth, float* c, int cStride, int rows, int columns)
    {
        if (!Accelerated)
        {
            for (var r = 0; r < rows; r++)
            {
                for (var j = 0; j < columns; j++)
                {
                    var sum = 0f;
                    for (var t = 0; t < depth; t++)
                    {
                        sum += a[(r * aStride) + t] * bt[(t * btStride) + j];
                    }

                    c[(r * cStride) + j] = sum;
                }
            }

            return;
        }

        for (var r = 0; r < rows; r += Rows)
        {
            var a0 = a + (r * aStride);
            var a1 = a0 + aStride;
            var a2 = a1 + aStride;
            var a3 = a2 + aStride;
            var a4 = a3 + aStride;
            var a5 = a4 + aStride;
            for (var j = 0; j < columns; j += Columns)
            {
                Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
                Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
                var b = bt + j;
                for (var t = 0; t < depth; t++, b += btStride)
                {
                    var b0 = Avx.LoadVector256(b);
                    var b1 = Avx.LoadVector256(b + 8);
                    var x = Vector256.Create(a0[t]);
                    c00 = Fma.MultiplyAdd(x, b0, c00);
                    c01 = Fma.MultiplyAdd(x, b1, c01);
                    x = Vector256.Create(a1[t]);
                    c10 = Fma.MultiplyAdd(x, b0, c10);
                    c11 = Fma.MultiplyAdd(x, b1, c11);
                    x = Vector256.Create(a2[t]);
                    c20 = Fma.MultiplyAdd(x, b0, c20);
                    c21 = Fma.MultiplyAdd(x, b1, c21);
                    x = Vector256.Create(a3[t]);
                    c30 = Fma.MultiplyAdd(x, b0, c30);
                    c31 = Fma.MultiplyAdd(x, b1, c31);
                    x = Vector256.Create(a4[t]);
                    c40 = Fma.MultiplyAdd(x, b0, c40);
                    c41 = Fma.MultiplyAdd(x, b1, c41);
                    x = Vector256.Create(a5[t]);
                    c50 = Fma.MultiplyAdd(x, b0, c50);
                    c51 = Fma.MultiplyAdd(x, b1, c51);
                }

                var o = c + (r * cStride) + j;
                Store(o, c00, c01);
                Store(o + cStride, c10, c11);
                Store(o + (2 * cStride), c20, c21);
                Store(o + (3 * cStride), c30, c31);
                Store(o + (4 * cStride), c40, c41);
                Store(o + (5 * cStride), c50, c51);
            }
        }
    }

    /// <summary>
    /// C[r, c] += sum_k A[r, k] B[k, c] for r &lt; rows and c &lt; width: the weighted sum P V, and matrix products.
    /// </summary>
    /// <param name="a">A, row stride <paramref name="aStride"/>.</param>
    /// <param name="aStride">Row stride of A.</param>
    /// <param name="b">B, [inner x width] with row stride <paramref name="bStride"/>.</param>
    /// <param name="bStride">Row stride of B.</param>
    /// <param name="inner">Shared dimension.</param>
    /// <param name="c">C, accumulated into, row stride <paramref name="cStride"/>.</param>
    /// <param name="cStride">Row stride of C.</param>
    /// <param name="rows">Rows, a multiple of <see cref="Rows"/>.</param>
    /// <param name="width">Columns, a multiple of <see cref="Columns"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateProduct(float* a, int aStride, float* b, int bStride, int inner, float* c, int cStride, int rows, int width)
    {
        if (!Accelerated)
        {
            for (var r = 0; r < rows; r++)
            {
                for (var k = 0; k < inner; k++)
                {
                    var weight = a[(r * aStride) + k];
                    for (var j = 0; j < width; j++)
                    {
                        c[(r * cStride) + j] += weight * b[(k * bStride) + j];
                    }
                }
            }

            return;
        }

        for (var r = 0; r < rows; r += Rows)
        {
            var a0 = a + (r * aStride);
            var a1 = a0 + aStride;
            var a2 = a1 + aStride;
            var a3 = a2 + aStride;
            var a4 = a3 + aStride;
            var a5 = a4 + aStride;
            for (var j = 0; j < width; j += Columns)
            {
                var o = c + (r * cStride) + j;
                var c00 = Avx.LoadVector256(o);
                var c01 = Avx.LoadVector256(o + 8);
                var c10 = Avx.LoadVector256(o + cStride);
                var c11 = Avx.LoadVector256(o + cStride + 8);
                var c20 = Avx.LoadVector256(o + (2 * cStride));
                var c21 = Avx.LoadVector256(o + (2 * cStride) + 8);
                var c30 = Avx.LoadVector256(o + (3 * cStride));
                var c31 = Avx.LoadVector256(o + (3 * cStride) + 8);
                var c40 = Avx.LoadVector256(o + (4 * cStride));
                var c41 = Avx.LoadVector256(o + (4 * cStride) + 8);
                var c50 = Avx.LoadVector256(o + (5 * cStride));
                var c51 = Avx.LoadVector256(o + (5 * cStride) + 8);
                var bk = b + j;
                for (var k = 0; k < inner; k++, bk += bStride)
                {
                    var b0 = Avx.LoadVector256(bk);
                    var b1 = Avx.LoadVector256(bk + 8);
                    var x = Vector256.Create(a0[k]);
                    c00 = Fma.MultiplyAdd(x, b0, c00);
                    c01 = Fma.MultiplyAdd(x, b1, c01);
                    x = Vector256.Create(a1[k]);
                    c10 = Fma.MultiplyAdd(x, b0, c10);
                    c11 = Fma.MultiplyAdd(x, b1, c11);
                    x = Vector256.Create(a2[k]);
                    c20 = Fma.MultiplyAdd(x, b0, c20);
                    c21 = Fma.MultiplyAdd(x, b1, c21);
                    x = Vector256.Create(a3[k]);
                    c30 = Fma.MultiplyAdd(x, b0, c30);
                    c31 = Fma.MultiplyAdd(x, b1, c31);
                    x = Vector256.Create(a4[k]);
                    c40 = Fma.MultiplyAdd(x, b0, c40);
                    c41 = Fma.MultiplyAdd(x, b1, c41);
                    x = Vector256.Create(a5[k]);
                    c50 = Fma.MultiplyAdd(x, b0, c50);
                    c51 = Fma.MultiplyAdd(x, b1, c51);
                }

                Store(o, c00, c01);
                Store(o + cStride, c10, c11);
                Store(o + (2 * cStride), c20, c21);
                Store(o + (3 * cStride), c30, c31);
                Store(o + (4 * cStride), c40, c41);
                Store(o + (5 * cStride), c50, c51);
            }
        }
    }

    /// <summary>The largest value of a row (minus infinity when every entry is masked).</summary>
    /// <param name="row">The row.</param>
    /// <param name="count">Its length (any; AVX-512 and AVX2 take whole vectors, a scalar loop the rest).</param>
    /// <returns>The maximum.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float RowMax(float* row, int count)
    {
        var max = float.NegativeInfinity;
        var j = 0;
        if (Accelerated && Avx512F.IsSupported && count >= 16)
        {
            // vmaxps returns its second operand when either is NaN, so a NaN followed by any number in its lane
            // would vanish from the maximum: NaN lanes are collected on the side and returned as NaN.
            var m = Vector512.Create(float.NegativeInfinity);
            var nan = Vector512<float>.Zero;
            for (; j + 16 <= count; j += 16)
            {
                var x = Vector512.Load(row + j);
                m = Avx512F.Max(m, x);
                nan |= Vector512.Equals(x, x) ^ Vector512<float>.AllBitsSet;
            }

            max = nan == Vector512<float>.Zero ? Reduce(Avx.Max(m.GetLower(), m.GetUpper())) : float.NaN;
        }
        else if (Accelerated && count >= 8)
        {
            var m = Vector256.Create(float.NegativeInfinity);
            var nan = Vector256<float>.Zero;
            for (; j + 8 <= count; j += 8)
            {
                var x = Avx.LoadVector256(row + j);
                m = Avx.Max(m, x);
                nan = Avx.Or(nan, Avx.CompareUnordered(x, x));
            }

            max = Avx.TestZ(nan, nan) ? Reduce(m) : float.NaN;
        }

        for (; j < count; j++)
        {
            max = MathF.Max(max, row[j]);
        }

        return max;
    }

    /// <summary>
    /// Replaces each entry x of a row with exp((x - shift) * scale) and returns their sum (masked entries give
    /// exactly 0). Folding the 1/sqrt(d) scale in here leaves Q untouched; with the row maximum as the shift no
    /// exponential overflows, so softmax is this sum's reciprocal times the row.
    /// </summary>
    /// <param name="row">The row; every entry must be at most <paramref name="shift"/>.</param>
    /// <param name="count">Its length (any; AVX-512 and AVX2 take whole vectors, a scalar loop the rest).</param>
    /// <param name="shift">The row maximum (so no exponent is positive).</param>
    /// <param name="scale">A positive factor applied after the shift.</param>
    /// <returns>The sum of the new entries.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShiftedInPlace(float* row, int count, float shift, float scale)
    {
        var total = 0f;
        var j = 0;
        if (Accelerated && Avx512F.IsSupported && count >= 16)
        {
            var sum = Vector512<float>.Zero;
            var by = Vector512.Create(shift);
            var factor = Vector512.Create(scale);
            for (; j + 16 <= count; j += 16)
            {
                var e = Exp((Vector512.Load(row + j) - by) * factor);
                e.Store(row + j);
                sum += e;
            }

            total = Vector512.Sum(sum);
        }
        else if (Accelerated && count >= 8)
        {
            var sum = Vector256<float>.Zero;
            var by = Vector256.Create(shift);
            var factor = Vector256.Create(scale);
            for (; j + 8 <= count; j += 8)
            {
                var e = Exp(Avx.Multiply(Avx.Subtract(Avx.LoadVector256(row + j), by), factor));
                Avx.Store(row + j, e);
                sum = Avx.Add(sum, e);
            }

            total = Vector256.Sum(sum);
        }

        for (; j < count; j++)
        {
            row[j] = MathF.Exp((row[j] - shift) * scale);
            total += row[j];
        }

        return total;
    }

    /// <summary>
    /// Index of the first NaN or infinity in <paramref name="data"/>, or -1 when every entry is finite: one vectorised
    /// pass of <see cref="TensorPrimitives.IsFiniteAll{T}(ReadOnlySpan{T})"/>, and a search for the index only when an
    /// entry is not finite.
    /// </summary>
    /// <param name="data">The entries.</param>
    /// <param name="count">How many.</param>
    /// <returns>The index, or -1.</returns>
    public static long FirstNonFinite(float* data, long count)
    {
        for (long start = 0; start < count; start += int.MaxValue)
        {
            var length = (int)Math.Min(int.MaxValue, count - start);
            if (!TensorPrimitives.IsFiniteAll(new ReadOnlySpan<float>(data + start, length)))
            {
                for (var i = start; ; i++)
                {
                    if (!float.IsFinite(data[i]))
                    {
                        return i;
                    }
                }
            }
        }

        return -1;
    }

    private static float Reduce(Vector256<float> m)
    {
        var half = Sse.Max(m.GetLower(), m.GetUpper());
        half = Sse.Max(half, Sse.MoveHighToLow(half, half));
        half = Sse.Max(half, Sse.Shuffle(half, half, 0b01));
        return half.ToScalar();
    }

    /// <summary>Multiplies a row by a factor.</summary>
    /// <param name="row">The row.</param>
    /// <param name="count">Its length, a multiple of 8.</param>
    /// <param name="factor">The factor.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(float* row, int count, float factor)
    {
        if (!Accelerated)
        {
            for (var j = 0; j < count; j++)
            {
                row[j] *= factor;
            }

            return;
        }

        var f = Vector256.Create(factor);
        for (var j = 0; j < count; j += 8)
        {
            Avx.Store(row + j, Avx.Multiply(Avx.LoadVector256(row + j), f));
        }
    }

    /// <summary>
    /// exp(x) for x &lt;= 0 in about 15 instructions per 8 floats: 2^(x log2 e) split into 2^n (built in the exponent
    /// bits) times 2^f with |f| &lt;= 1/2 from its degree-6 Taylor polynomial (relative error below 2e-7).
    /// Below -87.3 (and for minus infinity) the result is exactly 0; NaN stays NaN.
    /// </summary>
    /// <param name="x">Arguments, none above 0.</param>
    /// <returns>exp(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var lowest = Vector256.Create(-87.3f);
        var underflow = Avx.CompareLessThan(x, lowest);
        // MAXPS returns its second operand when either is NaN: x second lets a NaN score through to the row sum,
        // where the caller detects it, instead of turning it into a tiny weight.
        var t = Avx.Multiply(Avx.Max(lowest, x), Vector256.Create(1.44269504f));
        var n = Avx.RoundToNearestInteger(t);
        var f = Avx.Subtract(t, n);
        var p = Vector256.Create(1.5403530e-4f);
        p = Fma.MultiplyAdd(p, f, Vector256.Create(1.3333558e-3f));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(9.6181291e-3f));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(5.5504109e-2f));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(2.4022651e-1f));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(6.9314718e-1f));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(1f));
        var power = Avx2.ShiftLeftLogical(Avx2.Add(Avx.ConvertToVector256Int32(n), Vector256.Create(127)), 23).AsSingle();
        return Avx.AndNot(underflow, Avx.Multiply(p, power));
    }

    /// <summary>The same exp(x) for x &lt;= 0 on sixteen floats (AVX-512); NaN stays NaN (Vector512.Max propagates it).</summary>
    /// <param name="x">Arguments, none above 0.</param>
    /// <returns>exp(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var lowest = Vector512.Create(-87.3f);
        var underflow = Vector512.LessThan(x, lowest);
        var t = Vector512.Max(x, lowest) * Vector512.Create(1.44269504f);
        var n = Avx512F.RoundScale(t, 0);
        var f = t - n;
        var p = Vector512.Create(1.5403530e-4f);
        p = Avx512F.FusedMultiplyAdd(p, f, Vector512.Create(1.3333558e-3f));
        p = Avx512F.FusedMultiplyAdd(p, f, Vector512.Create(9.6181291e-3f));
        p = Avx512F.FusedMultiplyAdd(p, f, Vector512.Create(5.5504109e-2f));
        p = Avx512F.FusedMultiplyAdd(p, f, Vector512.Create(2.4022651e-1f));
        p = Avx512F.FusedMultiplyAdd(p, f, Vector512.Create(6.9314718e-1f));
        p = Avx512F.FusedMultiplyAdd(p, f, Vector512<float>.One);
        var power = Vector512.ShiftLeft(Avx512F.ConvertToVector512Int32(n) + Vector512.Create(127), 23).AsSingle();
        return Vector512.AndNot(p * power, underflow);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* destination, Vector256<float> low, Vector256<float> high)
    {
        Avx.Store(destination, low);
        Avx.Store(destination + 8, high);
    }
}
