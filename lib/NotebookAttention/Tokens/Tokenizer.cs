using System.Globalization;
using System.Text;

namespace NotebookAttention.Tokens;

/// <summary>
/// Splits a sentence in any script into words and punctuation.
/// </summary>
/// <remarks>
/// The rules, applied to user-perceived characters (grapheme clusters), so an emoji with skin tone or a
/// family emoji is never cut in half:
/// <list type="bullet">
/// <item>A word is a run of letters, combining marks and digits in any script: <c>ўвагі</c> is one token.</item>
/// <item>An apostrophe (<c>'</c>, <c>’</c>, <c>ʼ</c>) or hyphen between two word characters stays inside the word:
/// <c>з'яўляецца</c>, <c>don't</c> and <c>self-attention</c> are single tokens.</item>
/// <item>A decimal point or comma between two digits stays inside the number: <c>3.14</c>.</item>
/// <item>Every other visible character (punctuation, symbols, emoji) is a token of its own.</item>
/// <item>Whitespace separates tokens and is dropped.</item>
/// </list>
/// The sentence is normalised to Unicode NFC first, so the same word typed with precomposed or combining
/// characters gives the same token.
/// </remarks>
public static class Tokenizer
{
    /// <summary>Splits <paramref name="sentence"/> into tokens.</summary>
    /// <param name="sentence">Any text: one word, a sentence or a paragraph.</param>
    /// <returns>The tokens in order; never empty.</returns>
    /// <exception cref="ArgumentException">The sentence is null, empty or has only whitespace.</exception>
    public static IReadOnlyList<Token> Tokenize(string sentence)
    {
        ArgumentNullException.ThrowIfNull(sentence, nameof(sentence));
        var text = sentence.Normalize(NormalizationForm.FormC);
        var clusters = Clusters(text);
        var tokens = new List<Token>();
        var i = 0;
        while (i < clusters.Count)
        {
            var cluster = clusters[i];
            if (cluster.Kind == CharKind.Space)
            {
                i++;
                continue;
            }

            var first = i;
            if (cluster.Kind is CharKind.Letter or CharKind.Digit)
            {
                i++;
                while (i < clusters.Count)
                {
                    if (clusters[i].Kind is CharKind.Letter or CharKind.Digit)
                    {
                        i++;
                    }
                    else if (JoinsInsideWord(clusters, i))
                    {
                        i += 2;
                    }
                    else
                    {
                        break;
                    }
                }
            }
            else
            {
                i++;
            }

            var start = clusters[first].Start;
            var end = clusters[i - 1].Start + clusters[i - 1].Length;
            tokens.Add(new Token(text[start..end], tokens.Count, start, end - start));
        }

        if (tokens.Count == 0)
        {
            throw new ArgumentException(
                $"sentence has 0 tokens (it is {(sentence.Length == 0 ? "empty" : $"{sentence.Length} whitespace characters")}): type at least one word.",
                nameof(sentence));
        }

        return tokens;
    }

    /// <summary>Just the token texts of <see cref="Tokenize"/>, for labels and quick looks.</summary>
    /// <param name="sentence">Any text with at least one visible character.</param>
    /// <returns>The token texts in order.</returns>
    public static IReadOnlyList<string> Words(string sentence) => [.. Tokenize(sentence).Select(t => t.Text)];

    private enum CharKind
    {
        Letter,
        Digit,
        Space,
        Other,
    }

    private readonly record struct Cluster(int Start, int Length, CharKind Kind, Rune First);

    private static List<Cluster> Clusters(string text)
    {
        var clusters = new List<Cluster>(text.Length);
        var enumerator = StringInfo.GetTextElementEnumerator(text);
        while (enumerator.MoveNext())
        {
            var start = enumerator.ElementIndex;
            var element = enumerator.GetTextElement();
            var rune = Rune.GetRuneAt(element, 0);
            clusters.Add(new Cluster(start, element.Length, KindOf(rune), rune));
        }

        return clusters;
    }

    private static CharKind KindOf(Rune rune)
    {
        if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune) || rune.Value is 0x200B or 0xFEFF)
        {
            return CharKind.Space;
        }

        // The modifier letter apostrophe ʼ (U+02BC) is a letter in Unicode and is how Belarusian and
        // Ukrainian spell the apostrophe in careful typography: it belongs inside words.
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharKind.Digit,
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                => CharKind.Letter,
            _ => CharKind.Other,
        };
    }

    private static bool JoinsInsideWord(List<Cluster> clusters, int i)
    {
        if (i + 1 >= clusters.Count || clusters[i].Length != 1)
        {
            return false;
        }

        var before = clusters[i - 1].Kind;
        var after = clusters[i + 1].Kind;
        return clusters[i].First.Value switch
        {
            '\'' or '\u2019' or '-' or '\u2010' or '\u2011' =>
                before is CharKind.Letter or CharKind.Digit && after is CharKind.Letter or CharKind.Digit
                && (before == CharKind.Letter || after == CharKind.Letter),
            '.' or ',' => before == CharKind.Digit && after == CharKind.Digit,
            _ => false,
        };
    }
}
