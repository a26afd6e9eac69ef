using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NotebookAttention.Training;

/// <summary>
/// The one matrix product the transformer's fast path needs, on flat row-major fp64 arrays:
/// C[i, j] += sum over p of A(i, p) B[p, j], for the rows i and inner indices p given as lists.
/// </summary>
/// <remarks>
/// <para>A is read through strides, A(i, p) = a[aOffset + i·aRowStride + p·aColumnStride], so A^T is the same array with
/// the strides swapped; B and C are row-major with leading dimensions, so a head's columns are a slice. The row and
/// inner lists let the backward pass skip rows whose gradient is exactly zero (positions nothing is scored at):
/// skipping a zero term changes no sum.</para>
/// <para>Kernel: four rows of C by eight columns at a time in eight 256-bit accumulators (one broadcast of A per row,
/// two loads of B per inner index), fused multiply-add where the CPU has it. Each C entry is summed over p in the
/// list's order whatever the thread count, so results do not depend on it.</para>
/// </remarks>
internal static class RowMajorProduct
{
    /// <summary>C[rows, 0..n) += A[rows, inner] · B[inner, 0..n).</summary>
    public static unsafe void MultiplyAdd(
        double[] a, int aOffset, int aRowStride, int aColumnStride,
        double[] b, int bOffset, int bStride,
        double[] c, int cOffset, int cStride,
        ReadOnlySpan<int> rows, ReadOnlySpan<int> inner, int n)
    {
        if (rows.IsEmpty || inner.IsEmpty || n == 0)
        {
            return;
        }

        fixed (double* pa = a, pb = b, pc = c)
        fixed (int* pr = rows, pi = inner)
        {
            var operands = new Operands(pa + aOffset, aRowStride, aColumnStride, pb + bOffset, bStride, pc + cOffset, cStride, pi, inner.Length);
            var r = 0;
            for (; r + 4 <= rows.Length; r += 4)
            {
                FourRows(operands, pr[r], pr[r + 1], pr[r + 2], pr[r + 3], n);
            }

            for (; r < rows.Length; r++)
            {
                OneRow(operands, pr[r], n);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Fused(Vector256<double> x, Vector256<double> y, Vector256<double> sum) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, sum) : (x * y) + sum;

    private static unsafe void FourRows(in Operands o, int i0, int i1, int i2, int i3, int n)
    {
        double* a0 = o.A + (i0 * o.ARow), a1 = o.A + (i1 * o.ARow), a2 = o.A + (i2 * o.ARow), a3 = o.A + (i3 * o.ARow);
        double* c0 = o.C + (i0 * o.CStride), c1 = o.C + (i1 * o.CStride), c2 = o.C + (i2 * o.CStride), c3 = o.C + (i3 * o.CStride);
        var j = 0;
        for (; j + 8 <= n; j += 8)
        {
            Vector256<double> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
            for (var q = 0; q < o.InnerCount; q++)
            {
                var p = o.Inner[q];
                var bp = o.B + (p * o.BStride) + j;
                var b0 = Vector256.Load(bp);
                var b1 = Vector256.Load(bp + 4);
                var offset = p * o.AColumn;
                var x0 = Vector256.Create(a0[offset]);
                var x1 = Vector256.Create(a1[offset]);
                var x2 = Vector256.Create(a2[offset]);
                var x3 = Vector256.Create(a3[offset]);
                s00 = Fused(x0, b0, s00);
                s01 = Fused(x0, b1, s01);
                s10 = Fused(x1, b0, s10);
                s11 = Fused(x1, b1, s11);
                s20 = Fused(x2, b0, s20);
                s21 = Fused(x2, b1, s21);
                s30 = Fused(x3, b0, s30);
                s31 = Fused(x3, b1, s31);
            }

            Accumulate(c0 + j, s00, s01);
            Accumulate(c1 + j, s10, s11);
            Accumulate(c2 + j, s20, s21);
            Accumulate(c3 + j, s30, s31);
        }

        for (; j + 4 <= n; j += 4)
        {
            Vector256<double> s0 = default, s1 = default, s2 = default, s3 = default;
            for (var q = 0; q < o.InnerCount; q++)
            {
                var p = o.Inner[q];
                var b0 = Vector256.Load(o.B + (p * o.BStride) + j);
                var offset = p * o.AColumn;
                s0 = Fused(Vector256.Create(a0[offset]), b0, s0);
                s1 = Fused(Vector256.Create(a1[offset]), b0, s1);
                s2 = Fused(Vector256.Create(a2[offset]), b0, s2);
                s3 = Fused(Vector256.Create(a3[offset]), b0, s3);
            }

            Vector256.Store(Vector256.Load(c0 + j) + s0, c0 + j);
            Vector256.Store(Vector256.Load(c1 + j) + s1, c1 + j);
            Vector256.Store(Vector256.Load(c2 + j) + s2, c2 + j);
            Vector256.Store(Vector256.Load(c3 + j) + s3, c3 + j);
        }

        for (; j < n; j++)
        {
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (var q = 0; q < o.InnerCount; q++)
            {
                var p = o.Inner[q];
                var bj = o.B[(p * o.BStride) + j];
                var offset = p * o.AColumn;
                s0 += a0[offset] * bj;
                s1 += a1[offset] * bj;
                s2 += a2[offset] * bj;
                s3 += a3[offset] * bj;
            }

            c0[j] += s0;
            c1[j] += s1;
            c2[j] += s2;
            c3[j] += s3;
        }
    }

    private static unsafe void OneRow(in Operands o, int i, int n)
    {
        var a = o.A + (i * o.ARow);
        var c = o.C + (i * o.CStride);
        var j = 0;
        for (; j + 8 <= n; j += 8)
        {
            Vector256<double> s0 = default, s1 = default;
            for (var q = 0; q < o.InnerCount; q++)
            {
                var p = o.Inner[q];
                var bp = o.B + (p * o.BStride) + j;
                var x = Vector256.Create(a[p * o.AColumn]);
                s0 = Fused(x, Vector256.Load(bp), s0);
                s1 = Fused(x, Vector256.Load(bp + 4), s1);
            }

            Accumulate(c + j, s0, s1);
        }

        for (; j + 4 <= n; j += 4)
        {
            Vector256<double> s0 = default;
            for (var q = 0; q < o.InnerCount; q++)
            {
                var p = o.Inner[q];
                s0 = Fused(Vector256.Create(a[p * o.AColumn]), Vector256.Load(o.B + (p * o.BStride) + j), s0);
            }

            Vector256.Store(Vector256.Load(c + j) + s0, c + j);
        }

        for (; j < n; j++)
        {
            double s = 0;
            for (var q = 0; q < o.InnerCount; q++)
            {
                var p = o.Inner[q];
                s += a[p * o.AColumn] * o.B[(p * o.BStride) + j];
            }

            c[j] += s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Accumulate(double* c, Vector256<double> low, Vector256<double> high)
    {
        Vector256.Store(Vector256.Load(c) + low, c);
        Vector256.Store(Vector256.Load(c + 4) + high, c + 4);
    }

    private readonly unsafe struct Operands(double* a, int aRow, int aColumn, double* b, int bStride, double* c, int cStride, int* inner, int innerCount)
    {
        public readonly double* A = a;
        public readonly int ARow = aRow;
        public readonly int AColumn = aColumn;
        public readonly double* B = b;
        public readonly int BStride = bStride;
        public readonly double* C = c;
        public readonly int CStride = cStride;
        public readonly int* Inner = inner;
        public readonly int InnerCount = innerCount;
    }
}
