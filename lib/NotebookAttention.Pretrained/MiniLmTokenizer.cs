using FastBertTokenizer;

namespace NotebookAttention.Pretrained;

/// <summary>Word pieces of a text as the model reads them.</summary>
/// <param name="Ids">Vocabulary ids, [CLS] first and [SEP] last.</param>
/// <param name="Tokens">The word pieces themselves (continuations start with ##, unknown characters are [UNK]).</param>
/// <param name="Truncated">Whether the text was cut to the piece limit it was encoded with (only when asked for).</param>
public sealed record WordPieces(long[] Ids, IReadOnlyList<string> Tokens, bool Truncated);

/// <summary>
/// The model's WordPiece tokenizer (FastBertTokenizer with the vocabulary shipped inside the model package),
/// lowercasing as all-MiniLM-L6-v2 expects.
/// </summary>
public sealed class MiniLmTokenizer
{
    /// <summary>
    /// The most word pieces a text is given to the model by default, [CLS] and [SEP] included: 256, where Sentence
    /// Transformers cuts this model's input (its model card and <c>sentence_bert_config.json</c>). The model was
    /// fine-tuned on at most <see cref="TrainedTokens"/>; its position table has <see cref="PositionLimit"/> rows.
    /// </summary>
    public const int MaxTokens = 256;

    /// <summary>The sequence length all-MiniLM-L6-v2 was fine-tuned with (its model card): 128 pieces.</summary>
    public const int TrainedTokens = 128;

    /// <summary>Rows of the model's learned position table (<c>max_position_embeddings</c>): no sequence can be longer.</summary>
    public const int PositionLimit = 512;

    /// <summary>The piece the model puts first.</summary>
    public const string Classifier = "[CLS]";

    /// <summary>The piece the model puts last.</summary>
    public const string Separator = "[SEP]";

    /// <summary>The piece for characters the vocabulary lacks.</summary>
    public const string Unknown = "[UNK]";

    /// <summary>The piece that pads a text to a batch's length (id 0).</summary>
    public const string Padding = "[PAD]";

    private readonly BertTokenizer tokenizer = new();
    private readonly string[] vocabulary;

    private MiniLmTokenizer()
    {
        string text;
        using (var reader = MiniLmWeights.Vocabulary())
        {
            text = reader.ReadToEnd();
        }

        using var lines = new StringReader(text);
        tokenizer.LoadVocabulary(lines, true);
        vocabulary = [.. text.Split('\n').Select(line => line.TrimEnd('\r'))];
    }

    /// <summary>Loads the vocabulary from the model package.</summary>
    public static MiniLmTokenizer Load() => new();

    /// <summary>Splits a text into word pieces.</summary>
    /// <param name="text">Any Unicode text.</param>
    /// <param name="truncate">Cut a text longer than <paramref name="maxTokens"/> (and say so in the result) instead of refusing it.</param>
    /// <param name="maxTokens">
    /// The most pieces to give the model, [CLS] and [SEP] included: <see cref="MaxTokens"/> (256, as Sentence
    /// Transformers) by default, at most <see cref="PositionLimit"/> (the position table), at least 2.
    /// </param>
    /// <returns>Ids and pieces.</returns>
    /// <exception cref="ArgumentException">The text is empty, or longer than <paramref name="maxTokens"/> and <paramref name="truncate"/> is false.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxTokens"/> is below 2 or above <see cref="PositionLimit"/>.</exception>
    public WordPieces Encode(string text, bool truncate = false, int maxTokens = MaxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (maxTokens < 2 || maxTokens > PositionLimit)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxTokens), maxTokens, $"the limit is {maxTokens} pieces: give 2 ([CLS] and [SEP]) to {PositionLimit} (the rows of the model's position table); Sentence Transformers uses {MaxTokens}.");
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("the text is empty: type at least one word.", nameof(text));
        }

        var (ids, _, _) = tokenizer.Encode(text, 1_000_000);
        var all = ids.ToArray();
        var truncated = false;
        if (all.Length > maxTokens)
        {
            if (!truncate)
            {
                throw new ArgumentException(
                    $"the text has {all.Length} word pieces but it is given to the model with at most {maxTokens} ([CLS] and [SEP] included; Sentence Transformers cuts this model's input at {MaxTokens}, and the model was fine-tuned on at most {TrainedTokens}): shorten it, or pass truncate: true to keep the first {maxTokens}.",
                    nameof(text));
            }

            // Keep [CLS] and the first pieces, and close with the [SEP] the full encoding ended with.
            all = [.. all.Take(maxTokens - 1), all[^1]];
            truncated = true;
        }

        return new WordPieces(all, [.. all.Select(id => vocabulary[id])], truncated);
    }
}
