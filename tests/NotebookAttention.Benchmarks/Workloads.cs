using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Fast;

namespace NotebookAttention.Benchmarks;

/// <summary>Seeded inputs for one head of attention, in every form the competitors take.</summary>
public sealed class Workload
{
    /// <summary>Makes Q, K, V with entries uniform in [-1, 1].</summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="d">Head dimension.</param>
    public Workload(int n, int d)
    {
        N = n;
        D = d;
        var random = new Random(20261124);
        Queries = Fill(random, n * d);
        Keys = Fill(random, n * d);
        Values = Fill(random, n * d);
        Output = new float[n * d];
    }

    /// <summary>Sequence length.</summary>
    public int N { get; }

    /// <summary>Head dimension.</summary>
    public int D { get; }

    /// <summary>Q, row-major.</summary>
    public float[] Queries { get; }

    /// <summary>K, row-major.</summary>
    public float[] Keys { get; }

    /// <summary>V, row-major.</summary>
    public float[] Values { get; }

    /// <summary>The output buffer.</summary>
    public float[] Output { get; }

    /// <summary>The inputs as MathNet fp32 matrices.</summary>
    public (Matrix<float> Q, Matrix<float> K, Matrix<float> V) SingleMatrices() =>
        (Matrix<float>.Build.Dense(D, N, Queries).Transpose(), Matrix<float>.Build.Dense(D, N, Keys).Transpose(), Matrix<float>.Build.Dense(D, N, Values).Transpose());

    /// <summary>The inputs as MathNet fp64 matrices, for the reference path.</summary>
    public (Matrix<double> Q, Matrix<double> K, Matrix<double> V) DoubleMatrices() =>
        (Fp32.ToMatrix(Queries, N, D), Fp32.ToMatrix(Keys, N, D), Fp32.ToMatrix(Values, N, D));

    private static float[] Fill(Random random, int count) => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1))];
}

/// <summary>The baseline the fast paths are compared with: attention written directly with MathNet fp32 matrices.</summary>
public static class MathNetAttention
{
    /// <summary>softmax(Q K^T / sqrt(d)) V with MathNet's managed matrix products and a row-wise stable softmax.</summary>
    /// <param name="q">Q.</param>
    /// <param name="k">K.</param>
    /// <param name="v">V.</param>
    /// <returns>The output.</returns>
    public static Matrix<float> Compute(Matrix<float> q, Matrix<float> k, Matrix<float> v)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        var scores = q * k.Transpose() / MathF.Sqrt(q.ColumnCount);
        for (var row = 0; row < scores.RowCount; row++)
        {
            var r = scores.Row(row);
            var max = r.Maximum();
            r.MapInplace(x => MathF.Exp(x - max));
            scores.SetRow(row, r / r.Sum());
        }

        return scores * v;
    }

    /// <summary>The reference path, for completeness: fp64, every step kept.</summary>
    /// <param name="q">Q.</param>
    /// <param name="k">K.</param>
    /// <param name="v">V.</param>
    /// <returns>The output.</returns>
    public static Matrix<double> Reference(Matrix<double> q, Matrix<double> k, Matrix<double> v) =>
        ScaledDotProductAttention.Compute(q, k, v).Output;
}
