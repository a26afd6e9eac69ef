using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Fast;

namespace NotebookAttention.Benchmarks;

/// <summary>The exact fast paths at the sizes the targets name (one head, d = 64, both cores).</summary>
[MemoryDiagnoser]
public class FastPathBenchmarks
{
    private Workload work = null!;

    /// <summary>Sequence length.</summary>
    [Params(1024, 4096)]
    public int N { get; set; }

    /// <summary>Makes the inputs.</summary>
    [GlobalSetup]
    public void Setup() => work = new Workload(N, 64);

    /// <summary>Tiled, online softmax.</summary>
    [Benchmark]
    public void Tiled() => FastAttention.Tiled(work.Queries, work.Keys, work.Values, work.Output, N, N, 64, 64);

    /// <summary>Materializing, n x n scores.</summary>
    [Benchmark]
    public void Materialized() => FastAttention.Materialized(work.Queries, work.Keys, work.Values, work.Output, N, N, 64, 64);

    /// <summary>
    /// Tiled without its number checks (no scan of Q, K, V for NaN and infinity, no check of row sums and outputs for
    /// fp32 overflow): <see cref="Tiled"/> minus this is what the checks cost.
    /// </summary>
    [Benchmark]
    public void TiledUnchecked() => FastAttention.Tiled(work.Queries, work.Keys, work.Values, work.Output, N, N, 64, 64, default, null, checkNumbers: false, CancellationToken.None);

    /// <summary>Tiled with a causal mask (half the tiles).</summary>
    [Benchmark]
    public void TiledCausal() => FastAttention.Tiled(work.Queries, work.Keys, work.Values, work.Output, N, N, 64, 64, new FastMask(Causal: true));
}

/// <summary>The slow baselines at n = 1024: MathNet fp32 matrices and the fp64 reference path.</summary>
[MemoryDiagnoser]
public class BaselineBenchmarks
{
    private Workload work = null!;
    private Matrix<float> q = null!;
    private Matrix<float> k = null!;
    private Matrix<float> v = null!;
    private Matrix<double> rq = null!;
    private Matrix<double> rk = null!;
    private Matrix<double> rv = null!;

    /// <summary>Sequence length.</summary>
    [Params(1024)]
    public int N { get; set; }

    /// <summary>Makes the inputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        work = new Workload(N, 64);
        (q, k, v) = work.SingleMatrices();
        (rq, rk, rv) = work.DoubleMatrices();
    }

    /// <summary>Attention written with MathNet fp32 matrices.</summary>
    [Benchmark]
    public Matrix<float> MathNetMatrices() => MathNetAttention.Compute(q, k, v);

    /// <summary>The library's reference path (fp64, keeps every step).</summary>
    [Benchmark]
    public Matrix<double> ReferencePath() => MathNetAttention.Reference(rq, rk, rv);
}
