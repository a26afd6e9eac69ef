using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Tests.Support;

/// <summary>Generators of the inputs attention sees: matrices, masks, permutations.</summary>
internal static class Generators
{
    /// <summary>A [rows x columns] matrix with entries in [-bound, bound].</summary>
    public static Gen<Matrix<double>> Matrix(int rows, int columns, double bound = 3) =>
        Gen.Double[-bound, bound].Array[rows * columns].Select(values => Matrix<double>.Build.Dense(rows, columns, values));

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

    /// <summary>Largest absolute entry of a - b.</summary>
    public static double MaxAbsDifference(Matrix<double> a, Matrix<double> b) => (a - b).Enumerate().Max(Math.Abs);
}
