namespace NotebookAttention.Tokens;

/// <summary>
/// Numbers the distinct tokens of some sentences. Id 0 is the padding token and id 1 the unknown token,
/// so a padded batch can be written as a matrix of ids.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>The text of the padding token, id <see cref="PadId"/>.</summary>
    public const string PadToken = "<pad>";

    /// <summary>The text of the unknown token, id <see cref="UnknownId"/>.</summary>
    public const string UnknownToken = "<unk>";

    /// <summary>Id of <see cref="PadToken"/>.</summary>
    public const int PadId = 0;

    /// <summary>Id of <see cref="UnknownToken"/>.</summary>
    public const int UnknownId = 1;

    private readonly Dictionary<string, int> idOf = new(StringComparer.Ordinal);
    private readonly List<string> textOf = [];

    /// <summary>Creates a vocabulary that holds only the padding and unknown tokens.</summary>
    public Vocabulary()
    {
        Add(PadToken);
        Add(UnknownToken);
    }

    /// <summary>Builds a vocabulary from sentences, numbering tokens in order of first appearance.</summary>
    /// <param name="sentences">Sentences to tokenize with <see cref="Tokenizer"/>.</param>
    public static Vocabulary FromSentences(IEnumerable<string> sentences)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        var vocabulary = new Vocabulary();
        foreach (var sentence in sentences)
        {
            foreach (var token in Tokenizer.Tokenize(sentence))
            {
                vocabulary.Add(token.Text);
            }
        }

        return vocabulary;
    }

    /// <summary>Number of entries, the two special tokens included.</summary>
    public int Count => textOf.Count;

    /// <summary>Adds a token if it is new.</summary>
    /// <param name="token">Token text.</param>
    /// <returns>The token's id.</returns>
    public int Add(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (idOf.TryGetValue(token, out var id))
        {
            return id;
        }

        id = textOf.Count;
        idOf.Add(token, id);
        textOf.Add(token);
        return id;
    }

    /// <summary>Id of a token, or <see cref="UnknownId"/> when it is not in the vocabulary.</summary>
    /// <param name="token">Token text.</param>
    public int IdOf(string token) => idOf.GetValueOrDefault(token, UnknownId);

    /// <summary>Text of the token with the given id.</summary>
    /// <param name="id">An id in [0, <see cref="Count"/>).</param>
    /// <returns>The token text.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The id is not in the vocabulary.</exception>
    public string TextOf(int id)
    {
        if ((uint)id >= (uint)textOf.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"id {id} is not in this vocabulary of {Count} tokens: ids run from 0 to {Count - 1}.");
        }

        return textOf[id];
    }

    /// <summary>Ids of the tokens of a sentence.</summary>
    /// <param name="tokens">Tokens from <see cref="Tokenizer.Tokenize"/>.</param>
    /// <returns>One id per token.</returns>
    public int[] Encode(IReadOnlyList<Token> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return [.. tokens.Select(t => IdOf(t.Text))];
    }
}
