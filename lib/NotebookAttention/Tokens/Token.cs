namespace NotebookAttention.Tokens;

/// <summary>
/// One token of a sentence: its text, its position in the token sequence, and where it sits in the
/// original sentence (so a notebook can highlight it).
/// </summary>
/// <param name="Text">The token as it appears in the sentence (Unicode NFC).</param>
/// <param name="Position">Zero-based index in the token sequence: row <c>Position</c> of every [tokens x d] matrix.</param>
/// <param name="Start">Offset of the first character in the original (normalised) sentence.</param>
/// <param name="Length">Number of UTF-16 characters the token covers.</param>
public readonly record struct Token(string Text, int Position, int Start, int Length)
{
    /// <inheritdoc />
    public override string ToString() => Text;
}
