namespace NotebookAttention.Tokens;

/// <summary>
/// One token of a sentence: its text, its position in the token sequence, and where it sits in the sentence
/// as the learner typed it (so a notebook can highlight it).
/// </summary>
/// <param name="Text">
/// The token in Unicode NFC, without the invisible format characters typed inside it (a soft hyphen, a
/// right-to-left mark, a word joiner): <c>atten\u00ADtion</c> gives <c>attention</c>. Joiners that change
/// what is drawn (ZWJ and ZWNJ, variation selectors) stay, so an emoji ZWJ sequence keeps its picture.
/// </param>
/// <param name="Position">Zero-based index in the token sequence: row <c>Position</c> of every [tokens x d] matrix.</param>
/// <param name="Start">Offset (UTF-16 code units) of the token's first character in the sentence as typed.</param>
/// <param name="Length">Number of UTF-16 code units the token covers in the sentence as typed; this can differ from
/// <c>Text.Length</c> when normalisation composed characters or dropped invisible ones.</param>
public readonly record struct Token(string Text, int Position, int Start, int Length)
{
    /// <inheritdoc />
    public override string ToString() => Text;
}
