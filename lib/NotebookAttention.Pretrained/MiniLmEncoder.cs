using System.Globalization;
using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Pretrained;

/// <summary>What the encoder computed: the states after every layer and every layer's attention.</summary>
/// <param name="Tokens">The word pieces (with [PAD] for padding positions).</param>
/// <param name="HiddenStates">Embedding output, then the output of each layer, each [tokens x 384].</param>
/// <param name="Attention">Each layer's multi-head attention, weights [heads x tokens x tokens] included.</param>
public sealed record EncoderResult(IReadOnlyList<string> Tokens, IReadOnlyList<Matrix<double>> HiddenStates, IReadOnlyList<MultiHeadAttentionResult> Attention)
{
    /// <summary>The output of the last layer, [tokens x 384] (ONNX: last_hidden_state).</summary>
    public Matrix<double> LastHiddenState => HiddenStates[^1];
}

/// <summary>
/// The BERT encoder of all-MiniLM-L6-v2, run by this library's own <see cref="MultiHeadAttention"/>: embeddings
/// (word + position + token type, then LayerNorm), and per layer: multi-head self-attention, residual, LayerNorm,
/// feed-forward with exact GELU, residual, LayerNorm.
/// </summary>
public sealed class MiniLmEncoder
{
    private const double LayerNormEpsilon = 1e-12;
    private readonly Matrix<double> wordEmbeddings;
    private readonly Matrix<double> positionEmbeddings;
    private readonly Vector<double> tokenType;
    private readonly LayerNormWeights embeddingNorm;
    private readonly MiniLmLayer[] layers;

    /// <summary>Builds the encoder from the model's weights.</summary>
    /// <param name="weights">The weights.</param>
    public MiniLmEncoder(MiniLmWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        wordEmbeddings = weights.Matrix("embeddings.word_embeddings.weight");
        positionEmbeddings = weights.Matrix("embeddings.position_embeddings.weight");
        tokenType = weights.Matrix("embeddings.token_type_embeddings.weight").Row(0);
        embeddingNorm = weights.Norm("embeddings.LayerNorm");
        layers = [.. Enumerable.Range(0, weights.Layers).Select(weights.Layer)];
    }

    /// <summary>Encodes word pieces.</summary>
    /// <param name="pieces">From <see cref="MiniLmTokenizer.Encode"/>.</param>
    /// <returns>States and attention of every layer.</returns>
    public EncoderResult Forward(WordPieces pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        return Forward(pieces.Ids, pieces.Ids.Length, pieces.Tokens);
    }

    /// <summary>Encodes a padded sequence: positions from <paramref name="validLength"/> on are padding and masked.</summary>
    /// <param name="ids">Vocabulary ids, padded to the batch length.</param>
    /// <param name="validLength">Real tokens.</param>
    /// <param name="tokens">Labels for the positions, or null.</param>
    /// <returns>States and attention of every layer.</returns>
    public EncoderResult Forward(IReadOnlyList<long> ids, int validLength, IReadOnlyList<string>? tokens = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0 || ids.Count > positionEmbeddings.RowCount)
        {
            throw new ArgumentException($"the sequence has {ids.Count} ids but the model reads 1 to {positionEmbeddings.RowCount}.", nameof(ids));
        }

        var labels = tokens ?? [.. ids.Select(id => id.ToString(CultureInfo.InvariantCulture))];
        var x = Matrix<double>.Build.Dense(ids.Count, wordEmbeddings.ColumnCount, (i, c) => wordEmbeddings[(int)ids[i], c] + positionEmbeddings[i, c] + tokenType[c]);
        x = LayerNorm(x, embeddingNorm);                                       // [tokens x 384]
        var mask = validLength < ids.Count ? Mask.Padding(validLength, ids.Count) : null;
        var states = new List<Matrix<double>> { x };
        var attentions = new List<MultiHeadAttentionResult>();
        foreach (var layer in layers)
        {
            var attention = layer.Attention.Forward(x, mask, tokens: labels);  // 12 heads of 32
            attentions.Add(attention);
            var h = LayerNorm(x + attention.Output, layer.AttentionNorm);
            var feedForward = layer.Down.Apply(layer.Up.Apply(h).Map(Gelu));   // 384 -> 1536 -> 384
            x = LayerNorm(h + feedForward, layer.OutputNorm);
            states.Add(x);
        }

        return new EncoderResult(labels, states, attentions);
    }

    /// <summary>GELU, exact: x * Phi(x) = x/2 (1 + erf(x / sqrt 2)).</summary>
    /// <param name="x">Input.</param>
    /// <returns>GELU(x).</returns>
    public static double Gelu(double x) => 0.5 * x * (1 + SpecialFunctions.Erf(x / Math.Sqrt(2)));

    private static Matrix<double> LayerNorm(Matrix<double> x, LayerNormWeights norm)
    {
        var result = x.Clone();
        for (var row = 0; row < x.RowCount; row++)
        {
            var values = x.Row(row);
            var mean = values.Average();
            var variance = values.Select(v => (v - mean) * (v - mean)).Average();
            var scale = 1 / Math.Sqrt(variance + LayerNormEpsilon);
            result.SetRow(row, ((values - mean) * scale).PointwiseMultiply(norm.Gamma) + norm.Beta);
        }

        return result;
    }
}
