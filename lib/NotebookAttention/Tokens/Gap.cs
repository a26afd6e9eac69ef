namespace NotebookAttention.Tokens;

/// <summary>
/// Characters of a sentence that belong to no token: whitespace, control characters and invisible format
/// characters outside a word (a right-to-left mark, a word joiner, a lone ZWJ or variation selector).
/// </summary>
/// <param name="Start">Offset (UTF-16 code units) of the first skipped character in the sentence as typed.</param>
/// <param name="Length">Number of UTF-16 code units skipped.</param>
/// <param name="Text">The skipped characters exactly as typed.</param>
public readonly record struct Gap(int Start, int Length, string Text);
