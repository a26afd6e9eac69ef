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
    private readonly int threads;

    /// <summary>Builds the fast encoder from the model's weights (packs every weight matrix once).</summary>
    /// <param name="weights">The model.</param>
    /// <param name="threads">Cores the products and heads run on (null for all), e.g. to compare with another runtime on the same number.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    public FastMiniLmEncoder(MiniLmWeights weights, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (threads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "give at least 1 thread, or null for all cores.");
        }

        this.threads = threads ?? Environment.ProcessorCount;
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
        var valid = CheckSequence(ids, validLength ?? ids.Count, nameof(ids), nameof(validLength), "the sequence");
        var x = new float[ids.Count * hidden];
        Encode([ids], [valid], x);
        return x;
    }

    /// <summary>
    /// The last hidden states of a padded batch, as ONNX Runtime takes it ([batch x n] ids and an attention mask that
    /// is 1 for the first <paramref name="validLengths"/>[b] ids of sequence b): one [n x hidden] row-major array per
    /// sequence, padding rows zero.
    /// </summary>
    /// <remarks>
    /// The real tokens of all sequences are stacked into one matrix, so each projection and feed-forward product runs
    /// once for the whole batch on taller (faster) matrices, and padding positions cost nothing; attention runs per
    /// sequence and head on that sequence's rows only. Each sequence's result is bit for bit what
    /// <see cref="Forward"/> gives for it alone.
    /// </remarks>
    /// <exception cref="ArgumentException">An empty batch, sequences of different lengths, or a sequence or valid length <see cref="Forward"/> would refuse.</exception>
    public float[][] ForwardBatch(IReadOnlyList<IReadOnlyList<long>> ids, IReadOnlyList<int> validLengths)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(validLengths);
        if (ids.Count == 0 || validLengths.Count != ids.Count)
        {
            throw new ArgumentException($"the batch has {ids.Count} sequences and {validLengths.Count} valid lengths: give one or more sequences and one valid length each.", nameof(validLengths));
        }

        var length = ids[0]?.Count ?? 0;
        var valid = new int[ids.Count];
        for (var b = 0; b < ids.Count; b++)
        {
            ArgumentNullException.ThrowIfNull(ids[b], $"{nameof(ids)}[{b}]");
            if (ids[b].Count != length)
            {
                throw new ArgumentException($"sequence {b} has {ids[b].Count} ids but sequence 0 has {length}: pad every sequence of a batch to one length.", nameof(ids));
            }

            valid[b] = CheckSequence(ids[b], validLengths[b], nameof(ids), nameof(validLengths), $"sequence {b}");
        }

        var stacked = new float[valid.Sum() * hidden];
        Encode(ids, valid, stacked);
        var results = new float[ids.Count][];
        for (int b = 0, row = 0; b < ids.Count; row += valid[b], b++)
        {
            results[b] = new float[length * hidden];
            stacked.AsSpan(row * hidden, valid[b] * hidden).CopyTo(results[b]);
        }

        return results;
    }

    private int CheckSequence(IReadOnlyList<long> ids, int valid, string idsName, string validName, string what)
    {
        var n = ids.Count;
        if (n == 0 || n > maxTokens)
        {
            throw new ArgumentException($"{what} has {n} ids but the model reads 1 to {maxTokens}.", idsName);
        }

        if (valid < 1 || valid > n)
        {
            throw new ArgumentException($"the valid length of {what} is {valid} but there are {n} ids: give 1 to {n} real tokens.", validName);
        }

        var vocabulary = wordEmbeddings.Length / hidden;
        for (var i = 0; i < valid; i++)
        {
            if ((ulong)ids[i] >= (ulong)vocabulary)
            {
                throw new ArgumentException($"id {ids[i]} at position {i} of {what} is outside the vocabulary of {vocabulary} pieces.", idsName);
            }
        }

        return valid;
    }

    /// <summary>Runs the layers on the real tokens of every sequence, stacked in <paramref name="x"/> (rows past them untouched).</summary>
    private void Encode(IReadOnlyList<IReadOnlyList<long>> ids, int[] valid, float[] x)
    {
        var rows = valid.Sum();
        var starts = new int[valid.Length];
        for (int b = 0, row = 0; b < valid.Length; row += valid[b], b++)
        {
            starts[b] = row;
            for (var i = 0; i < valid[b]; i++)
            {
                var target = x.AsSpan((row + i) * hidden, hidden);
                TensorPrimitives.Add(wordEmbeddings.AsSpan((int)ids[b][i] * hidden, hidden), positionEmbeddings.AsSpan(i * hidden, hidden), target);
                TensorPrimitives.Add(target, tokenType, target);
            }
        }

        LayerNorm(x, rows, embeddingNorm);
        var pool = ArrayPool<float>.Shared;
        var qkv = pool.Rent(rows * 3 * hidden);
        var context = pool.Rent(rows * hidden);
        var sum = pool.Rent(rows * hidden);
        var up = pool.Rent(rows * intermediate);
        var scratch = pool.Rent(Math.Max(PackedMatrix.ScratchLength(rows, intermediate), PackedMatrix.ScratchLength(rows, hidden)));
        try
        {
            foreach (var layer in layers)
            {
                Multiply(layer.Qkv, x, qkv, rows, scratch);
                Attend(qkv, context, starts, valid);
                Multiply(layer.Output, context, sum, rows, scratch);
                TensorPrimitives.Add(x.AsSpan(0, rows * hidden), sum.AsSpan(0, rows * hidden), x);
                LayerNorm(x, rows, layer.AttentionNorm);
                Multiply(layer.Up, x, up, rows, scratch, gelu: true);
                Multiply(layer.Down, up, sum, rows, scratch);
                TensorPrimitives.Add(x.AsSpan(0, rows * hidden), sum.AsSpan(0, rows * hidden), x);
                LayerNorm(x, rows, layer.OutputNorm);
            }
        }
        finally
        {
            foreach (var buffer in new[] { qkv, context, sum, up, scratch })
            {
                pool.Return(buffer);
            }
        }
    }

    private unsafe void Multiply(PackedMatrix matrix, float[] a, float[] c, int rows, float[] scratch, bool gelu = false)
    {
        fixed (float* pa = a, pc = c, ps = scratch)
        {
            matrix.Multiply(pa, matrix.Inner, rows, pc, matrix.Columns, threads, ps, gelu);
        }
    }

    /// <summary>
    /// Every head's softmax(Q_h K_h^T / sqrt(d_k)) V_h of every sequence through the shared attention core, read from the
    /// fused projection's column slices of that sequence's rows and written to the context's, (sequence, head) pairs in
    /// parallel (one core each).
    /// </summary>
    /// <remarks>
    /// The strip pass: for a strip of queries all scores, the shifted exponentials per row and their share of the
    /// output, so a strip of scores stays in cache between the two products; each output row is divided by its sum
    /// at the end (softmax's normalisation on d_k numbers instead of n).
    /// </remarks>
    private unsafe void Attend(float[] qkv, float[] context, int[] starts, int[] lengths)
    {
        var width = 3 * hidden;
        fixed (float* pqkv = qkv, pcontext = context)
        {
            var (source, target) = ((nint)pqkv, (nint)pcontext);
            Workers.Run(lengths.Length * heads, part =>
            {
                var (sequence, head) = Math.DivRem(part, heads);
                var column = (float*)source + ((long)starts[sequence] * width) + (head * headSize);
                AttentionCore.Run(AttentionPass.Strips,
                    new StridedRows(column, width), new StridedRows(column + hidden, width), new StridedRows(column + (2 * hidden), width),
                    new StridedRows((float*)target + ((long)starts[sequence] * hidden) + (head * headSize), hidden),
                    lengths[sequence], lengths[sequence], headSize, headSize, mask: default, threads: 1, checkNumbers: false, CancellationToken.None);
            }, threads);
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
