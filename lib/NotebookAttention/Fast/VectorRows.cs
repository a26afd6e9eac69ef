using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NotebookAttention.Fast;

/// <summary>
/// Row operations of softmax on fp32 rows: the maximum, the shifted exponentials and their sum, a rescale, and the
/// finiteness scan the checks use. AVX-512 and AVX2 take whole vectors at the level <see cref="Microkernels.Level"/>
/// allows, a scalar loop the rest; the products around them are the register tiles in <see cref="Microkernels"/>.
/// </summary>
internal static unsafe class VectorRows
{
    /// <summary>The largest value of a row of any length (minus infinity when every entry is masked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float RowMax(float* row, int count)
    {
        var max = float.NegativeInfinity;
        var j = 0;
        if (Microkernels.Level == KernelLevel.Avx512 && count >= 16)
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
        else if (Microkernels.Accelerated && count >= 8)
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShiftedInPlace(float* row, int count, float shift, float scale)
    {
        var total = 0f;
        var j = 0;
        if (Microkernels.Level == KernelLevel.Avx512 && count >= 16)
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
        else if (Microkernels.Accelerated && count >= 8)
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

    /// <summary>Multiplies a row, of a length that is a multiple of 8, by a factor.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(float* row, int count, float factor)
    {
        if (!Microkernels.Accelerated)
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
}
