namespace NotebookAttention.Tokens;

/// <summary>
/// A sentence cut into tokens and the gaps between them. Tokens and gaps are spans of the sentence as typed;
/// together, in order of <c>Start</c>, they cover every character exactly once, so nothing is lost silently.
/// </summary>
public sealed class Segmentation
{
    internal Segmentation(string sentence, IReadOnlyList<Token> tokens, IReadOnlyList<Gap> gaps)
    {
        Sentence = sentence;
        Tokens = tokens;
        Gaps = gaps;
    }

    /// <summary>The sentence as typed.</summary>
    public string Sentence { get; }

    /// <summary>The tokens in order; empty when the sentence has nothing visible.</summary>
    public IReadOnlyList<Token> Tokens { get; }

    /// <summary>What was skipped between (and around) the tokens, in order.</summary>
    public IReadOnlyList<Gap> Gaps { get; }
}
