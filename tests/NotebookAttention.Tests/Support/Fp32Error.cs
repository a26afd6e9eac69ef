using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Fast;

namespace NotebookAttention.Tests.Support;

/// <summary>
/// Worst-case rounding error bounds for the fp32 fast paths against the fp64 reference (whose own error, about
/// 1e-16 relative, is negligible here). u = 2^-24 is fp32's unit roundoff; gamma(n) = n u / (1 - n u) bounds the
/// relative error of n successive roundings (Higham, Accuracy and Stability of Numerical Algorithms, 3.1).
/// </summary>
/// <remarks>
/// These are deterministic bounds: typical errors are about sqrt(n) u rather than n u, so the measured error sits
/// well below them. They are not padded with headroom; a wrong mask, scale, block edge or accumulation breaks them.
/// </remarks>
internal static class Fp32Error
{
    /// <summary>fp32 unit roundoff, 2^-24.</summary>
    public const double UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>
    /// Error of the vectorised exp(x) for x in [-87.3, 0]: its polynomial's relative error (below 2e-7, stated and
    /// tested in the library), plus the rounding of x - max, of the scale and of x log2(e), each at most u |x| with
    /// |x| <= 88, as an absolute error on the exponent.
    /// </summary>
    public const double ExpError = 2e-7 + (3 * UnitRoundoff * 88);

    /// <summary>
    /// Absolute error of one fp32 rounding in the subnormal range, 2^-150, half the smallest subnormal 2^-149:
    /// below about 1e-38 the relative bound u |x| no longer holds, and an entry under 1.4e-45 becomes 0.
    /// </summary>
    public const double Underflow = 7.006492321624085e-46;

    /// <summary>gamma(n) = n u / (1 - n u).</summary>
    public static double Gamma(int n) => n * UnitRoundoff / (1 - (n * UnitRoundoff));

    /// <summary>
    /// Entrywise bound on |fl32(A B + bias) - (A B + bias)|: rounding A, B and the bias to fp32 (u each) and a dot
    /// product of <c>inner</c> fused multiply-adds plus the bias add give gamma(inner + 3) (|A| |B| + |bias|); tiny
    /// entries add <see cref="Underflow"/> per rounding: (sum_k |a_ik| + sum_k |b_kj| + inner + 4) Underflow.
    /// </summary>
    public static Matrix<double> Product(Matrix<double> a, Matrix<double> b, Vector<double>? bias = null)
    {
        var absA = a.PointwiseAbs();
        var absB = b.PointwiseAbs();
        var magnitude = absA * absB;
        var absBias = bias?.PointwiseAbs();
        var aRows = absA.RowSums();
        var bColumns = absB.ColumnSums();
        return magnitude.MapIndexed((i, j, x) =>
            (Gamma(a.ColumnCount + 3) * (x + (absBias?[j] ?? 0))) + ((aRows[i] + bColumns[j] + a.ColumnCount + 4) * Underflow));
    }

    /// <summary>
    /// Bound on max |fast - reference| of attention softmax(Q K^T / sqrt(d)) V computed in fp32, when Q, K and V
    /// themselves carry entrywise errors of at most <paramref name="queryError"/>, <paramref name="keyError"/>,
    /// <paramref name="valueError"/> (zero for exact inputs).
    /// </summary>
    /// <remarks>
    /// <para>Scores: each scaled score s_ij = q_i . k_j / sqrt(d) is off by at most
    /// eps = scale [ sum_t (eq |k_jt| + |q_it| ek + eq ek) + gamma(d + 3) sum_t (|q_it| + eq)(|k_jt| + ek) ] + ExpError.</para>
    /// <para>Softmax: scores each off by at most eps change every weight by a factor within e^(±2 eps), so (weights
    /// summing to 1) the output moves by at most expm1(2 eps) max |v|.</para>
    /// <para>P V: the unnormalised sum over n_k keys (fused multiply-adds), the rescaling by the running maximum at
    /// each key block, the row sum of n_k exponentials and the final division add at most
    /// (2 n_k + 3 keyBlocks + 4) (u max |v| + <see cref="Underflow"/>); value errors add ev.</para>
    /// </remarks>
    public static double Attention(Matrix<double> q, Matrix<double> k, Matrix<double> v, double queryError = 0, double keyError = 0, double valueError = 0)
    {
        var depth = q.ColumnCount;
        var scale = 1 / Math.Sqrt(depth);
        var absQ = q.PointwiseAbs();
        var absK = k.PointwiseAbs();
        var qRowSums = absQ.RowSums();
        var kRowSums = absK.RowSums();
        var largestProduct = 0.0;
        var largestInputTerm = 0.0;
        var products = absQ * absK.Transpose();
        for (var i = 0; i < q.RowCount; i++)
        {
            for (var j = 0; j < k.RowCount; j++)
            {
                largestProduct = Math.Max(largestProduct, products[i, j] + (keyError * qRowSums[i]) + (queryError * kRowSums[j]) + (depth * queryError * keyError));
                largestInputTerm = Math.Max(largestInputTerm, (queryError * kRowSums[j]) + (keyError * qRowSums[i]) + (depth * queryError * keyError));
            }
        }

        var scoreError = (scale * (largestInputTerm + (Gamma(depth + 3) * largestProduct))) + ExpError;
        var keyBlocks = (k.RowCount + FastAttention.KeyBlock - 1) / FastAttention.KeyBlock;
        var largestValue = v.Enumerate().Max(Math.Abs) + valueError;
        return ((Math.Exp(2 * scoreError) - 1) * largestValue) + (((2 * k.RowCount) + (3 * keyBlocks) + 4) * ((UnitRoundoff * largestValue) + Underflow)) + valueError;
    }
}
