using System.Globalization;
using System.Text;

namespace NotebookAttention.PageCheck;

/// <summary>
/// Characters a browser draws with a colour emoji font: on a machine without one (a plain Debian Chromium) they show as
/// empty boxes. The series marks exercises and editable cells with ✓ ✗ ✎ instead, which DejaVu Sans (the default
/// sans-serif there) and the usual system fonts have.
/// </summary>
/// <remarks>
/// Emoji here means: the variation selector U+FE0F (which asks for the emoji form of the character before it), every
/// character from U+1F000 up (the emoji and pictograph blocks), and the characters below U+1F000 that Unicode draws as
/// emoji by default (Emoji_Presentation=Yes in emoji-data.txt, Unicode 15.1), such as ✅ U+2705 and ❌ U+274C.
/// Characters such as ✓ U+2713, ✗ U+2717, ✎ U+270E or ■ U+25A0 are text and are not counted.
/// </remarks>
public static class EmojiCharacters
{
    private static readonly (int First, int Last)[] PresentedAsEmoji =
    [
        (0x231A, 0x231B), (0x23E9, 0x23EC), (0x23F0, 0x23F0), (0x23F3, 0x23F3), (0x25FD, 0x25FE), (0x2614, 0x2615),
        (0x2648, 0x2653), (0x267F, 0x267F), (0x2693, 0x2693), (0x26A1, 0x26A1), (0x26AA, 0x26AB), (0x26BD, 0x26BE),
        (0x26C4, 0x26C5), (0x26CE, 0x26CE), (0x26D4, 0x26D4), (0x26EA, 0x26EA), (0x26F2, 0x26F3), (0x26F5, 0x26F5),
        (0x26FA, 0x26FA), (0x26FD, 0x26FD), (0x2705, 0x2705), (0x270A, 0x270B), (0x2728, 0x2728), (0x274C, 0x274C),
        (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757), (0x2795, 0x2797), (0x27B0, 0x27B0), (0x27BF, 0x27BF),
        (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55),
    ];

    /// <summary>Whether a browser would draw this code point with a colour emoji font (see the remarks).</summary>
    /// <param name="codePoint">A Unicode scalar value.</param>
    /// <returns>True for U+FE0F, anything from U+1F000 up, and the Emoji_Presentation characters below it.</returns>
    public static bool IsEmoji(int codePoint) =>
        codePoint == 0xFE0F || codePoint >= 0x1F000 || PresentedAsEmoji.Any(range => codePoint >= range.First && codePoint <= range.Last);

    /// <summary>Every distinct emoji character in a text, as "U+XXXX c", in order of first appearance.</summary>
    /// <param name="text">Any text.</param>
    /// <returns>The emoji found; empty when there are none.</returns>
    public static IReadOnlyList<string> In(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. text.EnumerateRunes().Where(r => IsEmoji(r.Value)).Distinct()
            .Select(r => string.Create(CultureInfo.InvariantCulture, $"U+{r.Value:X4} {r}"))];
    }
}
