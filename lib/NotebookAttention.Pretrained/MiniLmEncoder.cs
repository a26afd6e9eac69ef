using System.Globalization;
using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Analysis;
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

    /// <summary>Real tokens; positions from here on are padding.</summary>
    public int ValidLength { get; init; } = Tokens.Count;

    /// <summary>The text that was encoded, when it came as text.</summary>
    public string? Text { get; init; }

    /// <summary>Whether the text was cut to its piece limit (<see cref="MiniLmTokenizer.MaxTokens"/> by default; only when that was asked for).</summary>
    public bool Truncated { get; init; }

    /// <summary>Number of layers.</summary>
    public int Layers => Attention.Count;

    /// <summary>Heads per layer.</summary>
    public int Heads => Attention[0].HeadCount;

    /// <summary>Positions of [CLS] and [SEP] among the real tokens.</summary>
    public IReadOnlyList<int> SpecialPositions =>
        [.. Enumerable.Range(0, ValidLength).Where(i => Tokens[i] is MiniLmTokenizer.Classifier or MiniLmTokenizer.Separator)];

    /// <summary>The weights of one head of one layer, [tokens x tokens] (row = query, column = key).</summary>
    /// <param name="layer">Layer, 0 to <see cref="Layers"/> - 1.</param>
    /// <param name="head">Head, 0 to <see cref="Heads"/> - 1.</param>
    /// <returns>The head's steps, weights included.</returns>
    /// <exception cref="ArgumentOutOfRangeException">No such layer or head.</exception>
    public AttentionResult Head(int layer, int head)
    {
        if ((uint)layer >= (uint)Layers)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the model has layers 0 to {Layers - 1}.");
        }

        if ((uint)head >= (uint)Heads)
        {
            throw new ArgumentOutOfRangeException(nameof(head), head, $"each layer has heads 0 to {Heads - 1}.");
        }

        return Attention[layer].Heads[head];
    }

    /// <summary>Where a word piece is: its position among the tokens.</summary>
    /// <param name="piece">A word piece as the tokenizer wrote it (lowercase; continuations start with ##).</param>
    /// <param name="occurrence">Which occurrence, 0 for the first.</param>
    /// <exception cref="ArgumentException">The piece is not there; the message lists the pieces that are.</exception>
    public int Position(string piece, int occurrence = 0)
    {
        ArgumentNullException.ThrowIfNull(piece);
        var found = Enumerable.Range(0, ValidLength).Where(i => string.Equals(Tokens[i], piece, StringComparison.Ordinal)).ToList();
        if (occurrence < 0 || occurrence >= found.Count)
        {
            var shown = string.Join(" ", Tokens.Take(Math.Min(ValidLength, 60)));
            throw new ArgumentException(
                $"\"{piece}\" occurs {found.Count} time(s) among the word pieces, so occurrence {occurrence} does not exist. The pieces are: {shown}{(ValidLength > 60 ? " ..." : string.Empty)}",
                nameof(piece));
        }

        return found[occurrence];
    }

    /// <summary>
    /// Where one token looks, layer by layer: row <paramref name="position"/> of each layer's weights, averaged
    /// over the heads, as a matrix [layers x tokens].
    /// </summary>
    /// <param name="position">The query token's position.</param>
    /// <returns>Row l is layer l's mean attention from that token to every token.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The position is not a real token.</exception>
    public Matrix<double> AttentionFrom(int position)
    {
        if ((uint)position >= (uint)ValidLength)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"the real tokens are at positions 0 to {ValidLength - 1}.");
        }

        return LayerProbe.MeanOverHeads(Attention, position);
    }

    /// <summary>The weight from one word piece to another, layer by layer: mean over heads, or the strongest head.</summary>
    /// <param name="from">The query piece (its first occurrence).</param>
    /// <param name="to">The key piece (its first occurrence).</param>
    /// <param name="strongestHead">Take the largest weight of any head instead of the mean.</param>
    /// <returns>One value per layer.</returns>
    /// <exception cref="ArgumentException">A piece is not in the text.</exception>
    public IReadOnlyList<double> Weight(string from, string to, bool strongestHead = false)
    {
        var query = Position(from);
        var key = Position(to);
        return strongestHead ? [.. LayerProbe.StrongestHead(Attention, query, key).Select(p => p.Weight)] : LayerProbe.MeanWeight(Attention, query, key);
    }

    /// <summary>
    /// Entropy, and the shares of each head's attention mass over the real pieces (same, previous, next piece,
    /// [CLS], [SEP], punctuation, other: disjoint, summing to 1; see <see cref="NotebookAttention.Analysis.HeadTraits"/>), for every head.
    /// </summary>
    /// <returns>One entry per layer and head.</returns>
    public IReadOnlyList<HeadTraits> HeadTraits() => NotebookAttention.Analysis.HeadTraits.Measure(Attention, ValidLength);

    /// <summary>The text (shortened to 200 characters here), the number of pieces and padding, and whether the text was cut.</summary>
    public string Summary =>
        $"{(Text is null ? string.Empty : $"\"{(Text.Length > 200 ? Text[..200] + " ..." : Text)}\": ")}{ValidLength} word pieces{(Tokens.Count > ValidLength ? $" (+{Tokens.Count - ValidLength} padding)" : string.Empty)} through {Layers} layers x {Heads} heads{(Truncated ? $"; the text was CUT to its first {ValidLength} pieces (Sentence Transformers cuts this model's input at {MiniLmTokenizer.MaxTokens}), the rest is not read" : string.Empty)}";

    /// <inheritdoc />
    public override string ToString() => $"{Summary}: {string.Join(" ", Tokens.Take(Math.Min(ValidLength, 40)))}{(ValidLength > 40 ? " ..." : string.Empty)}";
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
        return Forward(pieces.Ids, pieces.Ids.Length, pieces.Tokens) with { Truncated = pieces.Truncated };
    }

    /// <summary>
    /// Encodes texts of different lengths as one padded batch: each is padded with [PAD] to the longest, and the
    /// library's padding mask (<see cref="Mask.Padding(int, int)"/>) keeps every query away from the padded keys.
    /// </summary>
    /// <param name="batch">Word pieces of each text, from <see cref="MiniLmTokenizer.Encode"/>.</param>
    /// <returns>One result per text, all of the padded length, with <see cref="EncoderResult.ValidLength"/> real pieces.</returns>
    /// <exception cref="ArgumentException">The batch is empty.</exception>
    public IReadOnlyList<EncoderResult> Forward(IReadOnlyList<WordPieces> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            throw new ArgumentException("the batch is empty: give at least one text.", nameof(batch));
        }

        var length = batch.Max(pieces => pieces.Ids.Length);
        return [.. batch.Select(pieces =>
        {
            var padding = length - pieces.Ids.Length;
            long[] ids = [.. pieces.Ids, .. Enumerable.Repeat(0L, padding)];
            string[] tokens = [.. pieces.Tokens, .. Enumerable.Repeat(MiniLmTokenizer.Padding, padding)];
            return Forward(ids, pieces.Ids.Length, tokens) with { Truncated = pieces.Truncated };
        })];
    }

    /// <summary>
    /// Encodes a padded sequence: positions from <paramref name="validLength"/> on are padding and masked. Ids given
    /// here directly may use all <see cref="MiniLmTokenizer.PositionLimit"/> rows of the position table (texts go
    /// through <see cref="MiniLmTokenizer.Encode"/>, which stops at <see cref="MiniLmTokenizer.MaxTokens"/>); more are refused.
    /// </summary>
    /// <param name="ids">Vocabulary ids, padded to the batch length.</param>
    /// <param name="validLength">Real tokens.</param>
    /// <param name="tokens">Labels for the positions, or null.</param>
    /// <returns>States and attention of every layer.</returns>
    public EncoderResult Forward(IReadOnlyList<long> ids, int validLength, IReadOnlyList<string>? tokens = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0 || ids.Count > positionEmbeddings.RowCount)
        {
            throw new ArgumentException($"the sequence has {ids.Count} ids but the model's position table has {positionEmbeddings.RowCount} rows: give 1 to {positionEmbeddings.RowCount} ids (texts are cut at {MiniLmTokenizer.MaxTokens} by MiniLmTokenizer.Encode).", nameof(ids));
        }

        if (validLength < 1 || validLength > ids.Count)
        {
            throw new ArgumentException($"the valid length is {validLength} but there are {ids.Count} ids: give 1 to {ids.Count} real tokens.", nameof(validLength));
        }

        if (tokens is not null && tokens.Count != ids.Count)
        {
            throw new ArgumentException($"there are {tokens.Count} token labels for {ids.Count} ids: give one label per id.", nameof(tokens));
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

        return new EncoderResult(labels, states, attentions) { ValidLength = validLength };
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
