using FastBertTokenizer;

namespace NotebookAttention.Pretrained;

/// <summary>Word pieces of a text as the model reads them.</summary>
/// <param name="Ids">Vocabulary ids, [CLS] first and [SEP] last.</param>
/// <param name="Tokens">The word pieces themselves (continuations start with ##, unknown characters are [UNK]).</param>
/// <param name="Truncated">Whether the text was cut to fit the model's 512 positions (only when asked for).</param>
public sealed record WordPieces(long[] Ids, IReadOnlyList<string> Tokens, bool Truncated);

/// <summary>
/// The model's WordPiece tokenizer (FastBertTokenizer with the vocabulary shipped inside the model package),
/// lowercasing as all-MiniLM-L6-v2 expects.
/// </summary>
public sealed class MiniLmTokenizer
{
    /// <summary>The most positions the model has, [CLS] and [SEP] included.</summary>
    public const int MaxTokens = 512;

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
    /// <returns>The tokenizer.</returns>
    public static MiniLmTokenizer Load() => new();

    /// <summary>Splits a text into word pieces.</summary>
    /// <param name="text">Any Unicode text.</param>
    /// <param name="truncate">Cut a text longer than <see cref="MaxTokens"/> (and say so in the result) instead of refusing it.</param>
    /// <returns>Ids and pieces.</returns>
    /// <exception cref="ArgumentException">The text is empty, or too long and <paramref name="truncate"/> is false.</exception>
    public WordPieces Encode(string text, bool truncate = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("the text is empty: type at least one word.", nameof(text));
        }

        var (ids, _, _) = tokenizer.Encode(text, 1_000_000);
        var all = ids.ToArray();
        var truncated = false;
        if (all.Length > MaxTokens)
        {
            if (!truncate)
            {
                throw new ArgumentException(
                    $"the text has {all.Length} word pieces but the model reads at most {MaxTokens} ([CLS] and [SEP] included): shorten it, or pass truncate: true to keep the first {MaxTokens}.",
                    nameof(text));
            }

            // Keep [CLS] and the first pieces, and close with the [SEP] the full encoding ended with.
            all = [.. all.Take(MaxTokens - 1), all[^1]];
            truncated = true;
        }

        return new WordPieces(all, [.. all.Select(id => vocabulary[id])], truncated);
    }
}
