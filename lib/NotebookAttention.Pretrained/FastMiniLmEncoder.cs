using System.Runtime.CompilerServices;
using NotebookAttention.Fast;

namespace NotebookAttention.Pretrained;

/// <summary>
/// The same encoder on the fast fp32 path: <see cref="FastMultiHeadAttention"/> and <see cref="FastMatrix"/> for
/// every product, with LayerNorm and exact GELU in fp32. For speed; it returns only the last hidden state.
/// </summary>
public sealed class FastMiniLmEncoder
{
    private const float LayerNormEpsilon = 1e-12f;
    private readonly int hidden;
    private readonly int intermediate;
    private readonly float[] wordEmbeddings;
    private readonly float[] positionEmbeddings;
    private readonly float[] tokenType;
    private readonly (float[] Gamma, float[] Beta) embeddingNorm;
    private readonly FastLayer[] layers;

    /// <summary>Builds the fast encoder from the model's weights.</summary>
    /// <param name="weights">The weights.</param>
    public FastMiniLmEncoder(MiniLmWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        hidden = weights.Hidden;
        wordEmbeddings = Fp32.FromMatrix(weights.Matrix("embeddings.word_embeddings.weight"));
        positionEmbeddings = Fp32.FromMatrix(weights.Matrix("embeddings.position_embeddings.weight"));
        tokenType = Fp32.FromVector(weights.Matrix("embeddings.token_type_embeddings.weight").Row(0));
        embeddingNorm = Norm(weights.Norm("embeddings.LayerNorm"));
        layers = [.. Enumerable.Range(0, weights.Layers).Select(weights.Layer).Select(layer => new FastLayer(
            new FastMultiHeadAttention(layer.Attention),
            Norm(layer.AttentionNorm),
            Fp32.FromMatrix(layer.Up.Weight), Fp32.FromVector(layer.Up.Bias!),
            Fp32.FromMatrix(layer.Down.Weight), Fp32.FromVector(layer.Down.Bias!),
            Norm(layer.OutputNorm)))];
        intermediate = layers[0].UpBias.Length;
    }

    /// <summary>The last hidden state [tokens x hidden], row-major fp32, for ids padded to a batch length.</summary>
    /// <param name="ids">Vocabulary ids.</param>
    /// <param name="validLength">Real tokens (the rest is padding), or null for all.</param>
    /// <returns>The states.</returns>
    public float[] Forward(IReadOnlyList<long> ids, int? validLength = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var n = ids.Count;
        if (n == 0 || n * hidden > positionEmbeddings.Length)
        {
            throw new ArgumentException($"the sequence has {n} ids but the model reads 1 to {positionEmbeddings.Length / hidden}.", nameof(ids));
        }

        var mask = new FastMask(validLength);
        var x = new float[n * hidden];
        for (var i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * hidden, hidden);
            System.Numerics.Tensors.TensorPrimitives.Add(wordEmbeddings.AsSpan((int)ids[i] * hidden, hidden), positionEmbeddings.AsSpan(i * hidden, hidden), row);
            System.Numerics.Tensors.TensorPrimitives.Add(row, tokenType, row);
        }

        LayerNorm(x, n, embeddingNorm);
        var attention = new float[n * hidden];
        var up = new float[n * intermediate];
        var down = new float[n * hidden];
        foreach (var layer in layers)
        {
            layer.Attention.Forward(x, attention, n, mask);
            System.Numerics.Tensors.TensorPrimitives.Add(x, attention, x);
            LayerNorm(x, n, layer.AttentionNorm);
            FastMatrix.Multiply(x, layer.Up, layer.UpBias, up, n, hidden, intermediate);
            Gelu(up);
            FastMatrix.Multiply(up, layer.Down, layer.DownBias, down, n, intermediate, hidden);
            System.Numerics.Tensors.TensorPrimitives.Add(x, down, x);
            LayerNorm(x, n, layer.OutputNorm);
        }

        return x;
    }

    /// <summary>
    /// erf with the Abramowitz and Stegun 7.1.26 approximation (absolute error below 1.5e-7), in fp32 arithmetic.
    /// </summary>
    /// <param name="x">Input.</param>
    /// <returns>erf(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Erf(float x)
    {
        var sign = MathF.Sign(x);
        x = MathF.Abs(x);
        var t = 1f / (1f + (0.3275911f * x));
        var poly = ((((((1.061405429f * t) - 1.453152027f) * t) + 1.421413741f) * t) - 0.284496736f) * t;
        poly = (poly + 0.254829592f) * t;
        return sign * (1f - (poly * MathF.Exp(-x * x)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gelu(float[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            values[i] = 0.5f * v * (1f + Erf(v * 0.70710678f));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void LayerNorm(float[] x, int n, (float[] Gamma, float[] Beta) norm)
    {
        for (var i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * hidden, hidden);
            var mean = System.Numerics.Tensors.TensorPrimitives.Sum(row) / hidden;
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, mean, row);
            var variance = System.Numerics.Tensors.TensorPrimitives.SumOfSquares(row) / hidden;
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, 1f / MathF.Sqrt(variance + LayerNormEpsilon), row);
            System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(row, norm.Gamma, norm.Beta, row);
        }
    }

    private static (float[] Gamma, float[] Beta) Norm(LayerNormWeights norm) => (Fp32.FromVector(norm.Gamma), Fp32.FromVector(norm.Beta));

    private sealed record FastLayer(
        FastMultiHeadAttention Attention,
        (float[] Gamma, float[] Beta) AttentionNorm,
        float[] Up,
        float[] UpBias,
        float[] Down,
        float[] DownBias,
        (float[] Gamma, float[] Beta) OutputNorm);
}
