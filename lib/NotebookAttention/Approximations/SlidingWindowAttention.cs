using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Fast;

namespace NotebookAttention.Approximations;

/// <summary>
/// Sliding-window (local) attention: each token attends only to the tokens at most <c>window</c> positions away
/// (Longformer, Mistral and others use it). Cost O(n w d) instead of O(n^2 d); tokens further apart than w reach
/// each other only through several layers.
/// </summary>
/// <remarks>
/// It runs on <see cref="FastSlidingWindow"/>, which scores only the band of keys each block of queries can see, so
/// the work grows linearly in n for a fixed window. Inside the window it is exact attention. The readable fp64
/// version is <see cref="Attention.ScaledDotProductAttention"/> with <see cref="Mask"/>.
/// </remarks>
public static class SlidingWindowAttention
{
    /// <summary>Sliding-window attention on fp32 row-major buffers.</summary>
    /// <param name="queries">Q [n x d].</param>
    /// <param name="keys">K [n x d].</param>
    /// <param name="values">V [n x d_v].</param>
    /// <param name="output">Receives [n x d_v].</param>
    /// <param name="n">Sequence length.</param>
    /// <param name="depth">d.</param>
    /// <param name="valueDepth">d_v.</param>
    /// <param name="window">How far a token may look in each direction.</param>
    /// <param name="causal">Look only backwards.</param>
    /// <param name="cancellation">Stops a long run.</param>
    public static void Compute(
        ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        int n, int depth, int valueDepth, int window, bool causal = false, CancellationToken cancellation = default) =>
        FastSlidingWindow.Compute(queries, keys, values, output, n, depth, valueDepth, window, causal, cancellation: cancellation);

    /// <summary>Sliding-window attention on MathNet matrices.</summary>
    /// <param name="queries">Q [n x d].</param>
    /// <param name="keys">K [n x d].</param>
    /// <param name="values">V [n x d_v].</param>
    /// <param name="window">How far a token may look in each direction.</param>
    /// <param name="causal">Look only backwards.</param>
    /// <returns>The output [n x d_v].</returns>
    public static Matrix<double> Compute(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, int window, bool causal = false)
    {
        var (q, k, v, n, d, dv) = FastLinearAttention.SelfAttentionInputs(queries, keys, values);
        var output = new float[n * dv];
        FastSlidingWindow.Compute(q, k, v, output, n, d, dv, window, causal);
        return Fp32.ToMatrix(output, n, dv);
    }

    /// <summary>What each token may see, as a mask for pictures and for the reference path.</summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="window">How far a token may look in each direction.</param>
    /// <param name="causal">Look only backwards.</param>
    /// <returns>The [n x n] mask.</returns>
    public static Attention.Mask Mask(int n, int window, bool causal = false) => new FastMask(Causal: causal, Window: window).ToMask(n, n);
}
