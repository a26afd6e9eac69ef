using BenchmarkDotNet.Attributes;
using NotebookAttention.Fast;

namespace NotebookAttention.Benchmarks;

/// <summary>
/// The fast sliding-window and linear attention kernels beside the tiled exact kernel in the same run (one head,
/// d = d_v = 64, all cores): each kernel's GFLOP/s on its own arithmetic is compared with the rate the tiled kernel
/// reaches here.
/// </summary>
[MemoryDiagnoser]
public class ApproximationBenchmarks
{
    /// <summary>The window of the sliding-window cases (each token sees 2 x 128 + 1 keys).</summary>
    public const int Window = 128;

    private Workload work = null!;

    /// <summary>Sequence length.</summary>
    [Params(4096, 16384)]
    public int N { get; set; }

    /// <summary>Makes the inputs.</summary>
    [GlobalSetup]
    public void Setup() => work = new Workload(N, 64);

    /// <summary>The tiled exact kernel: the FMA rate the approximations are held to.</summary>
    [Benchmark]
    public void ExactTiled() => FastAttention.Tiled(work.Queries, work.Keys, work.Values, work.Output, N, N, 64, 64);

    /// <summary>Sliding window, w = 128.</summary>
    [Benchmark]
    public void SlidingWindow() => FastSlidingWindow.Compute(work.Queries, work.Keys, work.Values, work.Output, N, 64, 64, Window);

    /// <summary>Sliding window, w = 128, backwards only.</summary>
    [Benchmark]
    public void SlidingWindowCausal() => FastSlidingWindow.Compute(work.Queries, work.Keys, work.Values, work.Output, N, 64, 64, Window, causal: true);

    /// <summary>Linear attention (Katharopoulos et al. 2020).</summary>
    [Benchmark]
    public void Linear() => FastLinearAttention.Compute(work.Queries, work.Keys, work.Values, work.Output, N, 64, 64);

    /// <summary>Causal linear attention (running sums).</summary>
    [Benchmark]
    public void LinearCausal() => FastLinearAttention.Compute(work.Queries, work.Keys, work.Values, work.Output, N, 64, 64, causal: true);

    /// <summary>The arithmetic a method needs at length n (d = d_v = 64), the count its GFLOP/s are computed from; null for other methods.</summary>
    /// <param name="method">Benchmark method name.</param>
    /// <param name="n">Sequence length.</param>
    /// <returns>FLOPs, or null.</returns>
    public static double? Flops(string method, int n) => method switch
    {
        nameof(ExactTiled) => NotebookAttention.Cost.AttentionCost.Flops(n, 64),
        nameof(SlidingWindow) => FastSlidingWindow.Flops(n, 64, 64, Window),
        nameof(SlidingWindowCausal) => FastSlidingWindow.Flops(n, 64, 64, Window, causal: true),
        nameof(Linear) or nameof(LinearCausal) => FastLinearAttention.Flops(n, 64, 64),
        _ => null,
    };
}
