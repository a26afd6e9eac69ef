using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Fast;

namespace NotebookAttention.Tests.Support;

/// <summary>How the entries of a generated attention problem are drawn.</summary>
internal enum Entries
{
    /// <summary>Q, K, V uniform in [-2, 2].</summary>
    Uniform,

    /// <summary>Q and K up to ±30: scores up to about 900·sqrt(d) ≈ 1e4, far past where exp overflows (88 in fp32, 709 in fp64).</summary>
    Large,

    /// <summary>Entries from {-1, 0, 1}: many scores tie exactly.</summary>
    Ties,

    /// <summary>Every key is the same vector: every query's scores are all equal.</summary>
    EqualRows,

    /// <summary>One key scores about 200 above every other for every query: the softmax is saturated.</summary>
    DominantKey,

    /// <summary>Q, K, V of size about 1e-20: scores underflow fp32 to (near) zero, values stay normal.</summary>
    Tiny,
}

/// <summary>One generated attention problem Q [queries x d], K [keys x d], V [keys x d_v].</summary>
internal sealed record AttentionCase(Matrix<double> Q, Matrix<double> K, Matrix<double> V, Entries Kind)
{
    public int Queries => Q.RowCount;

    public int Keys => K.RowCount;

    public int Depth => Q.ColumnCount;

    public override string ToString() => $"{Kind}: Q [{Queries} x {Depth}], K [{Keys} x {Depth}], V [{Keys} x {V.ColumnCount}]";
}

/// <summary>Generators of the inputs attention sees: matrices, masks, permutations.</summary>
internal static class Generators
{
    /// <summary>
    /// Sequence lengths: six in seven small (1..40, cheap), one in seven beyond one tile of the tiled kernel
    /// (<see cref="FastAttention.QueryBlock"/> = 96 queries, <see cref="FastAttention.KeyBlock"/> = 128 keys) up to
    /// 300, so several query blocks, several key blocks and a ragged last block of each occur.
    /// </summary>
    public static readonly Gen<int> Length = Gen.Frequency((6, Gen.Int[1, 40]), (1, Gen.Int[FastAttention.QueryBlock + 1, 300]));

    /// <summary>Depths d from 1 to 128, with the powers of two models use (16, 64, 128) drawn often.</summary>
    public static readonly Gen<int> Depth = Gen.Frequency((3, Gen.Int[1, 32]), (1, Gen.Int[33, 128]), (2, Gen.OneOf(Gen.Const(16), Gen.Const(64), Gen.Const(128))));

    /// <summary>A [rows x columns] matrix with entries in [-bound, bound].</summary>
    public static Gen<Matrix<double>> Matrix(int rows, int columns, double bound = 3) =>
        Gen.Double[-bound, bound].Array[rows * columns].Select(values => Matrix<double>.Build.Dense(rows, columns, values));

    /// <summary>
    /// Attention problems: independent query and key counts (n_q ≠ n_k), or equal ones when <paramref name="square"/>
    /// (self-attention); every <see cref="Entries"/> kind, one in three cases adversarial.
    /// </summary>
    public static Gen<AttentionCase> AttentionProblem(bool square = false, int maxValueDepth = 40) =>
        from queries in Length
        from otherKeys in Length
        from depth in Depth
        from valueDepth in Gen.Frequency((4, Gen.Int[1, maxValueDepth]), (1, Gen.Const(64)))
        from kind in Gen.Frequency(
            (6, Gen.Const(Entries.Uniform)), (1, Gen.Const(Entries.Large)), (1, Gen.Const(Entries.Ties)),
            (1, Gen.Const(Entries.EqualRows)), (1, Gen.Const(Entries.DominantKey)), (1, Gen.Const(Entries.Tiny)))
        let keys = square ? queries : otherKeys
        from q in Matrix(queries, depth, 2)
        from k in Matrix(keys, depth, 2)
        from v in Matrix(keys, valueDepth, 2)
        from dominant in Gen.Int[0, keys - 1]
        select Shape(new AttentionCase(q, k, v, kind), dominant);

    /// <summary>Fast-path masks that fit [queries x keys]: padding, causal and window, alone or together.</summary>
    public static Gen<FastMask> FastMask(int queries, int keys) =>
        from valid in Gen.Int[0, Math.Min(queries, keys)]
        from usePadding in Gen.Int[0, 3]
        from causal in Gen.Bool
        from window in Gen.Int[0, 20]
        from useWindow in Gen.Int[0, 3]
        select new FastMask(usePadding == 0 ? valid : null, causal, useWindow == 0 ? window : null);

    /// <summary>A random [queries x keys] mask; some rows may end up fully masked.</summary>
    public static Gen<Mask> Mask(int queries, int keys) =>
        Gen.Int[0, 9].Array[queries * keys].Select(draws =>
            Attention.Mask.FromFunction(queries, keys, (query, key) => draws[(query * keys) + key] < 7));

    /// <summary>A permutation of 0..n-1.</summary>
    public static Gen<int[]> Permutation(int n) =>
        Gen.Double.Array[n].Select(keys => Enumerable.Range(0, n).OrderBy(i => keys[i]).ThenBy(i => i).ToArray());

    /// <summary>Rows of <paramref name="matrix"/> in the order <paramref name="permutation"/> gives.</summary>
    public static Matrix<double> PermuteRows(Matrix<double> matrix, int[] permutation) =>
        Matrix<double>.Build.DenseOfRowVectors(permutation.Select(matrix.Row));

    /// <summary>Turns uniform draws into the entries <see cref="AttentionCase.Kind"/> asks for.</summary>
    private static AttentionCase Shape(AttentionCase c, int dominant)
    {
        var (q, k, v) = (c.Q.Clone(), c.K.Clone(), c.V.Clone());
        switch (c.Kind)
        {
            case Entries.Large:
                q.MapInplace(x => 15 * x);
                k.MapInplace(x => 15 * x);
                break;
            case Entries.Ties:
                q.MapInplace(Math.Round);
                k.MapInplace(Math.Round);
                v.MapInplace(Math.Round);
                q.MapInplace(x => Math.Clamp(x, -1, 1));
                k.MapInplace(x => Math.Clamp(x, -1, 1));
                break;
            case Entries.EqualRows:
                for (var row = 1; row < k.RowCount; row++)
                {
                    k.SetRow(row, k.Row(0));
                }

                break;
            case Entries.DominantKey:
                // Every query has q_0 = 1, so key `dominant` gains 200 sqrt(d) in its dot product, 200 in its scaled
                // score, while any other score is at most 4 d / sqrt(d) = 4 sqrt(d) <= 46 for d <= 128.
                q.SetColumn(0, Vector<double>.Build.Dense(q.RowCount, 1));
                k[dominant, 0] = 200 * Math.Sqrt(k.ColumnCount);
                break;
            case Entries.Tiny:
                q.MapInplace(x => 1e-20 * x);
                k.MapInplace(x => 1e-20 * x);
                v.MapInplace(x => 1e-20 * x);
                break;
            case Entries.Uniform:
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(c), c.Kind, "unknown kind of entries");
        }

        return c with { Q = q, K = k, V = v };
    }
}
