using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using NotebookAttention.Fast;

namespace NotebookAttention.Pretrained;

/// <summary>
/// The same encoder on the fast fp32 path, for speed; it returns only the last hidden state. Every weight is packed
/// once (<see cref="PackedMatrix"/>), W_Q, W_K and W_V are fused into one product, and each head's attention reads
/// its queries, keys and values where the fused product left them (no per-head copies), heads spread over the cores.
/// </summary>
/// <remarks>
/// The attention of each head is softmax(Q_h K_h^T / sqrt(d_k)) V_h over the real tokens only (the padding mask of
/// a padded sequence), computed by the same <see cref="AttentionCore"/> as <see cref="FastAttention"/>; LayerNorm and exact GELU (erf from
/// Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7) run vectorized. Rows of padding positions are zero
/// in the result.
/// </remarks>
public sealed class FastMiniLmEncoder
{
    private const float LayerNormEpsilon = 1e-12f;

    private readonly int hidden;
    private readonly int intermediate;
    private readonly int heads;
    private readonly int headSize;
    private readonly int maxTokens;
    private readonly float[] wordEmbeddings;
    private readonly float[] positionEmbeddings;
    private readonly float[] tokenType;
    private readonly (float[] Gamma, float[] Beta) embeddingNorm;
    private readonly FastLayer[] layers;

    /// <summary>Builds the fast encoder from the model's weights (packs every weight matrix once).</summary>
    public FastMiniLmEncoder(MiniLmWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        hidden = weights.Hidden;
        heads = MiniLmWeights.Heads;
        headSize = hidden / heads;
        wordEmbeddings = Fp32.FromMatrix(weights.Matrix("embeddings.word_embeddings.weight"));
        positionEmbeddings = Fp32.FromMatrix(weights.Matrix("embeddings.position_embeddings.weight"));
        maxTokens = positionEmbeddings.Length / hidden;
        tokenType = Fp32.FromVector(weights.Matrix("embeddings.token_type_embeddings.weight").Row(0));
        embeddingNorm = Norm(weights.Norm("embeddings.LayerNorm"));
        layers = [.. Enumerable.Range(0, weights.Layers).Select(weights.Layer).Select(layer =>
        {
            var projections = layer.Attention.Projections;
            var fused = Fp32.FromMatrix(projections.Query.Weight.Append(projections.Key.Weight).Append(projections.Value.Weight));
            float[] fusedBias = [.. Fp32.FromVector(projections.Query.Bias!), .. Fp32.FromVector(projections.Key.Bias!), .. Fp32.FromVector(projections.Value.Bias!)];
            var output = layer.Attention.OutputProjection;
            return new FastLayer(
                new PackedMatrix(fused, fusedBias, hidden, 3 * hidden),
                new PackedMatrix(Fp32.FromMatrix(output.Weight), Fp32.FromVector(output.Bias!), hidden, hidden),
                Norm(layer.AttentionNorm),
                new PackedMatrix(Fp32.FromMatrix(layer.Up.Weight), Fp32.FromVector(layer.Up.Bias!), hidden, layer.Up.OutputSize),
                new PackedMatrix(Fp32.FromMatrix(layer.Down.Weight), Fp32.FromVector(layer.Down.Bias!), layer.Up.OutputSize, hidden),
                Norm(layer.OutputNorm));
        })];
        intermediate = layers[0].Up.Columns;
    }

    /// <summary>The last hidden state [tokens x hidden], row-major fp32, for ids padded to a batch length.</summary>
    /// <remarks>The first <paramref name="validLength"/> ids are real tokens (null for all); the rest is padding, masked, and zero in the result.</remarks>
    /// <exception cref="ArgumentException">No ids, more than the model's 512 positions, or a valid length outside 1 to the id count.</exception>
    public float[] Forward(IReadOnlyList<long> ids, int? validLength = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var n = ids.Count;
        if (n == 0 || n > maxTokens)
        {
            throw new ArgumentException($"the sequence has {n} ids but the model reads 1 to {maxTokens}.", nameof(ids));
        }

        var valid = validLength ?? n;
        if (valid < 1 || valid > n)
        {
            throw new ArgumentException($"the valid length is {valid} but there are {n} ids: give 1 to {n} real tokens.", nameof(validLength));
        }

        var vocabulary = wordEmbeddings.Length / hidden;
        var x = new float[n * hidden];
        for (var i = 0; i < valid; i++)
        {
            if ((ulong)ids[i] >= (ulong)vocabulary)
            {
                throw new ArgumentException($"id {ids[i]} at position {i} is outside the vocabulary of {vocabulary} pieces.", nameof(ids));
            }

            var row = x.AsSpan(i * hidden, hidden);
            TensorPrimitives.Add(wordEmbeddings.AsSpan((int)ids[i] * hidden, hidden), positionEmbeddings.AsSpan(i * hidden, hidden), row);
            TensorPrimitives.Add(row, tokenType, row);
        }

        LayerNorm(x, valid, embeddingNorm);
        var pool = ArrayPool<float>.Shared;
        var qkv = pool.Rent(valid * 3 * hidden);
        var context = pool.Rent(valid * hidden);
        var sum = pool.Rent(valid * hidden);
        var up = pool.Rent(valid * intermediate);
        var scratch = pool.Rent(Math.Max(PackedMatrix.ScratchLength(valid, intermediate), PackedMatrix.ScratchLength(valid, hidden)));
        try
        {
            foreach (var layer in layers)
            {
                Multiply(layer.Qkv, x, qkv, valid, scratch);
                Attend(qkv, context, valid);
                Multiply(layer.Output, context, sum, valid, scratch);
                TensorPrimitives.Add(x.AsSpan(0, valid * hidden), sum.AsSpan(0, valid * hidden), x);
                LayerNorm(x, valid, layer.AttentionNorm);
                Multiply(layer.Up, x, up, valid, scratch, gelu: true);
                Multiply(layer.Down, up, sum, valid, scratch);
                TensorPrimitives.Add(x.AsSpan(0, valid * hidden), sum.AsSpan(0, valid * hidden), x);
                LayerNorm(x, valid, layer.OutputNorm);
            }
        }
        finally
        {
            foreach (var buffer in new[] { qkv, context, sum, up, scratch })
            {
                pool.Return(buffer);
            }
        }

        return x;
    }

    private static unsafe void Multiply(PackedMatrix matrix, float[] a, float[] c, int rows, float[] scratch, bool gelu = false)
    {
        fixed (float* pa = a, pc = c, ps = scratch)
        {
            matrix.Multiply(pa, matrix.Inner, rows, pc, matrix.Columns, Environment.ProcessorCount, ps, gelu);
        }
    }

    /// <summary>
    /// Every head's softmax(Q_h K_h^T / sqrt(d_k)) V_h through the shared attention core, read from the fused
    /// projection's column slices and written to the context's, heads in parallel (one core each).
    /// </summary>
    /// <remarks>
    /// The strip pass: for a strip of queries all scores, the shifted exponentials per row and their share of the
    /// output, so a strip of scores stays in cache between the two products; each output row is divided by its sum
    /// at the end (softmax's normalisation on d_k numbers instead of n).
    /// </remarks>
    private unsafe void Attend(float[] qkv, float[] context, int n)
    {
        var width = 3 * hidden;
        fixed (float* pqkv = qkv, pcontext = context)
        {
            var (source, target) = ((nint)pqkv, (nint)pcontext);
            Workers.Run(heads, head =>
            {
                var column = (float*)source + (head * headSize);
                AttentionCore.Run(AttentionPass.Strips,
                    new StridedRows(column, width), new StridedRows(column + hidden, width), new StridedRows(column + (2 * hidden), width),
                    new StridedRows((float*)target + (head * headSize), hidden),
                    n, n, headSize, headSize, mask: default, threads: 1, checkNumbers: false, CancellationToken.None);
            });
        }
    }

    private void LayerNorm(float[] x, int n, (float[] Gamma, float[] Beta) norm)
    {
        for (var i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * hidden, hidden);
            var mean = TensorPrimitives.Sum(row) / hidden;
            TensorPrimitives.Subtract(row, mean, row);
            var variance = TensorPrimitives.SumOfSquares(row) / hidden;
            TensorPrimitives.Multiply(row, 1f / MathF.Sqrt(variance + LayerNormEpsilon), row);
            TensorPrimitives.FusedMultiplyAdd(row, norm.Gamma, norm.Beta, row);
        }
    }

    private static (float[] Gamma, float[] Beta) Norm(LayerNormWeights norm) => (Fp32.FromVector(norm.Gamma), Fp32.FromVector(norm.Beta));

    private sealed record FastLayer(
        PackedMatrix Qkv,
        PackedMatrix Output,
        (float[] Gamma, float[] Beta) AttentionNorm,
        PackedMatrix Up,
        PackedMatrix Down,
        (float[] Gamma, float[] Beta) OutputNorm);
}
