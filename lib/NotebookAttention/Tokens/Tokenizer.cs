using System.Buffers;
using System.Globalization;
using System.Text;
using ICU4N;
using ICU4N.Globalization;
using ICU4N.Text;

namespace NotebookAttention.Tokens;

/// <summary>
/// Splits a sentence in any script into words and punctuation.
/// </summary>
/// <remarks>
/// Word boundaries come from ICU's word break iterator (ICU4N): Unicode's word-boundary rules (UAX #29) for
/// scripts written with spaces, and ICU's dictionaries for scripts written without them (Chinese, Japanese,
/// Thai, Lao, Khmer, Myanmar), so <c>我爱自然语言处理</c> gives <c>我 | 爱 | 自然 | 语言 | 处理</c>. On top of them:
/// <list type="bullet">
/// <item>A word is a run of letters, combining marks and digits: <c>ўвагі</c>, <c>नमस्ते</c> and <c>고양이를</c> are one
/// token each; every other visible character (punctuation, symbols, an emoji) is a token of its own.</item>
/// <item>An apostrophe (<c>'</c> <c>’</c> <c>ʼ</c>, or <c>`</c> <c>´</c> <c>‘</c> typed in its place) or a hyphen (<c>-</c>
/// <c>‐</c> <c>‑</c>, the Hebrew maqaf <c>־</c>) between two words or numbers joins them: <c>з'яўляецца</c>,
/// <c>сям`я</c>, <c>don't</c>, <c>self-attention</c>, <c>COVID-19</c>, <c>בית־ספר</c>. Hebrew gershayim stay inside an
/// acronym: <c>צה״ל</c>.</item>
/// <item>Numbers joined by <c>.</c> <c>,</c> <c>-</c> <c>/</c> <c>:</c> or the Arabic decimal and thousands separators
/// <c>٫</c> <c>٬</c> are one token, so decimals, dates and times stay whole: <c>3.14</c>, <c>1,000</c>, <c>٣٫١٤</c>,
/// <c>2024-05-17</c>, <c>17.05.2024</c>, <c>05/17/2024</c>, <c>12:30</c>.</item>
/// <item>An emoji stays whole however it is built: skin tones, flags and ZWJ sequences such as <c>🫱🏻‍🫲🏿</c>
/// (a token never ends inside a user-perceived character, even for emoji newer than ICU4N's Unicode 10 data).</item>
/// <item>Whitespace, control characters and invisible format characters between tokens are skipped (see
/// <see cref="Segment"/> for what was skipped). Inside a word, a soft hyphen, a bidirectional mark or a word
/// joiner is dropped from the token's text but covered by its span: <c>atten\u00ADtion</c> is the token
/// <c>attention</c>. A combining mark typed after a space is kept as a token of its own, never dropped.</item>
/// </list>
/// Token texts are normalised to Unicode NFC, so a word typed with precomposed or combining characters gives
/// the same token; <see cref="Token.Start"/> and <see cref="Token.Length"/> still count in the text as typed.
/// </remarks>
public static class Tokenizer
{
    /// <summary>Splits <paramref name="sentence"/> into tokens.</summary>
    /// <param name="sentence">Any text: one word, a sentence or a paragraph.</param>
    /// <returns>The tokens in order; never empty.</returns>
    /// <exception cref="ArgumentException">The sentence is empty, has nothing visible, or holds half of a character
    /// (a lone UTF-16 surrogate).</exception>
    public static IReadOnlyList<Token> Tokenize(string sentence)
    {
        var segmentation = Segment(sentence);
        if (segmentation.Tokens.Count == 0)
        {
            throw new ArgumentException(
                $"sentence has 0 tokens (it is {(sentence.Length == 0 ? "empty" : $"{sentence.Length} whitespace or invisible characters")}): type at least one word.",
                nameof(sentence));
        }

        return segmentation.Tokens;
    }

    /// <summary>Just the token texts of <see cref="Tokenize"/>, for labels and quick looks.</summary>
    /// <param name="sentence">Any text with at least one visible character.</param>
    /// <returns>The token texts in order.</returns>
    public static IReadOnlyList<string> Words(string sentence) => [.. Tokenize(sentence).Select(t => t.Text)];

    /// <summary>
    /// Splits <paramref name="sentence"/> into tokens and the gaps between them, so a reader can see what was
    /// skipped. Unlike <see cref="Tokenize"/>, a sentence with nothing visible gives zero tokens, not an error.
    /// </summary>
    /// <param name="sentence">Any text.</param>
    /// <returns>Tokens and gaps that together cover the sentence as typed.</returns>
    /// <exception cref="ArgumentException">The sentence holds a lone UTF-16 surrogate.</exception>
    public static Segmentation Segment(string sentence)
    {
        ArgumentNullException.ThrowIfNull(sentence);
        RefuseLoneSurrogates(sentence);
        var tokens = new List<Token>();
        var gaps = new List<Gap>();
        foreach (var segment in JoinAcrossJoiners(WordSegments(sentence), sentence))
        {
            CutIntoTokensAndGaps(sentence, segment.Start, segment.End, tokens, gaps);
        }

        return new Segmentation(sentence, tokens, gaps);
    }

    private static void RefuseLoneSurrogates(string sentence)
    {
        // Starts at the first surrogate, if any: most sentences have none.
        for (var i = sentence.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF'); i >= 0 && i < sentence.Length; i++)
        {
            if (char.IsHighSurrogate(sentence[i]) && i + 1 < sentence.Length && char.IsLowSurrogate(sentence[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(sentence[i]))
            {
                throw new ArgumentException(
                    $"sentence has half of a character at index {i} (a lone UTF-16 surrogate, U+{(int)sentence[i]:X4}), often left by cutting a string inside an emoji: retype or delete the character at index {i}.",
                    nameof(sentence));
            }
        }
    }

    /// <summary>What a word-break segment holds, from ICU's rule status; a higher kind wins when segments join.</summary>
    private enum SegmentKind
    {
        /// <summary>Spaces, punctuation, symbols, emoji.</summary>
        Other,

        /// <summary>Digits, with the separators UAX #29 keeps inside a number.</summary>
        Number,

        /// <summary>Letters (any script, kana and ideographs included).</summary>
        Word,
    }

    private readonly record struct WordSegment(int Start, int End, SegmentKind Kind);

    /// <summary>
    /// ICU's word segments of the sentence's NFC form, never cut inside a user-perceived character (.NET's
    /// grapheme clusters), with their ends mapped back to the sentence as typed.
    /// </summary>
    /// <remarks>
    /// Breaking the NFC form makes the cut independent of how a character was typed (ICU's rules for Hangul and
    /// its dictionaries differ between 각 and its decomposed jamo). ICU4N implements Unicode 10, so it cuts an emoji
    /// made of characters assigned later (the handshake with two skin tones, <c>🫱🏻‍🫲🏿</c>, Unicode 14); .NET's
    /// grapheme clusters follow current Unicode, so a boundary inside one is dropped.
    /// </remarks>
    private static List<WordSegment> WordSegments(string sentence)
    {
        var (normalised, typedIndexOf) = Normalised(sentence);
        var clusterStarts = new bool[normalised.Length + 1];
        clusterStarts[normalised.Length] = true;
        var enumerator = StringInfo.GetTextElementEnumerator(normalised);
        while (enumerator.MoveNext())
        {
            clusterStarts[enumerator.ElementIndex] = true;
        }

        var segments = new List<WordSegment>();
        var breaks = BreakIterator.GetWordInstance(UCultureInfo.InvariantCulture);
        breaks.SetText(normalised);
        var start = typedIndexOf(breaks.First());
        var kind = SegmentKind.Other;
        for (var end = breaks.Next(); end != BreakIterator.Done; end = breaks.Next())
        {
            kind = Stronger(kind, KindOf(breaks.RuleStatus));
            var typedEnd = typedIndexOf(end);
            if (clusterStarts[end] && typedEnd > start && !InsideAWordNewerThanIcu(normalised, end))
            {
                segments.Add(new WordSegment(start, typedEnd, kind));
                start = typedEnd;
                kind = SegmentKind.Other;
            }
        }

        return segments;
    }

    /// <summary>
    /// Whether ICU's break at <paramref name="index"/> falls between two letters, marks or digits (by .NET's current
    /// Unicode data) of which one is unassigned in ICU4N's Unicode 10 data: ICU gives such characters no word-break
    /// class and cuts around each, so a word in Georgian Mtavruli capitals (Unicode 11) would be one token per letter.
    /// </summary>
    private static bool InsideAWordNewerThanIcu(string text, int index)
    {
        if (index <= 0 || index >= text.Length || Rune.DecodeLastFromUtf16(text.AsSpan(0, index), out var before, out _) != OperationStatus.Done)
        {
            return false;
        }

        var after = Rune.GetRuneAt(text, index);
        return IsWordCharacter(before) && IsWordCharacter(after) && (UnknownToIcu(before) || UnknownToIcu(after));
    }

    private static bool IsWordCharacter(Rune rune) => Rune.IsLetterOrDigit(rune)
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    private static bool UnknownToIcu(Rune rune) => UChar.GetUnicodeCategory(rune.Value) == UUnicodeCategory.OtherNotAssigned;

    /// <summary>
    /// The NFC form of the sentence and a map from its offsets to offsets in the sentence as typed.
    /// </summary>
    /// <remarks>
    /// The sentence is normalised piece by piece, cut where NFC has a boundary (before a character that never
    /// combines with what precedes it), so each piece maps to its own normalised piece. Inside a piece that
    /// normalisation left unchanged, offsets map one to one; inside one it changed, to the start of the piece.
    /// </remarks>
    private static (string Normalised, Func<int, int> TypedIndexOf) Normalised(string sentence)
    {
        var nfc = Normalizer2.NFCInstance;
        if (nfc.IsNormalized(sentence))
        {
            return (sentence, index => index);
        }

        var normalised = new StringBuilder(sentence.Length);
        var typedIndex = new List<int>(sentence.Length + 1);
        var pieceStart = 0;
        while (pieceStart < sentence.Length)
        {
            var pieceEnd = pieceStart + Rune.GetRuneAt(sentence, pieceStart).Utf16SequenceLength;
            while (pieceEnd < sentence.Length && !nfc.HasBoundaryBefore(Rune.GetRuneAt(sentence, pieceEnd).Value))
            {
                pieceEnd += Rune.GetRuneAt(sentence, pieceEnd).Utf16SequenceLength;
            }

            var piece = sentence[pieceStart..pieceEnd];
            var normalisedPiece = nfc.Normalize(piece);
            var unchanged = string.Equals(piece, normalisedPiece, StringComparison.Ordinal);
            for (var k = 0; k < normalisedPiece.Length; k++)
            {
                typedIndex.Add(unchanged ? pieceStart + k : pieceStart);
            }

            normalised.Append(normalisedPiece);
            pieceStart = pieceEnd;
        }

        typedIndex.Add(sentence.Length);
        return (normalised.ToString(), index => typedIndex[index]);
    }

    private static SegmentKind KindOf(int ruleStatus) => ruleStatus switch
    {
        >= BreakIterator.WordNumber and < BreakIterator.WordNumberLimit => SegmentKind.Number,
        >= BreakIterator.WordLetter and < BreakIterator.WordIdeoLimit => SegmentKind.Word,
        _ => SegmentKind.Other,
    };

    private static SegmentKind Stronger(SegmentKind a, SegmentKind b) => a > b ? a : b;

    /// <summary>Joins word, joiner, word into one segment where the series' rules say so (see the class remarks).</summary>
    private static List<WordSegment> JoinAcrossJoiners(List<WordSegment> segments, string sentence)
    {
        var joined = new List<WordSegment>(segments.Count);
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            if (joined.Count > 0 && i + 1 < segments.Count && segment.End - segment.Start == 1
                && Joins(sentence[segment.Start], joined[^1].Kind, segments[i + 1].Kind))
            {
                var next = segments[i + 1];
                joined[^1] = new WordSegment(joined[^1].Start, next.End, Stronger(joined[^1].Kind, next.Kind));
                i++;
            }
            else
            {
                joined.Add(segment);
            }
        }

        return joined;
    }

    private static bool Joins(char joiner, SegmentKind before, SegmentKind after) => joiner switch
    {
        // Apostrophes and the characters typed in their place; hyphens, the Hebrew maqaf included.
        '\'' or '\u2019' or '`' or '\u00B4' or '\u2018' or '-' or '\u2010' or '\u2011' or '\u05BE' =>
            before != SegmentKind.Other && after != SegmentKind.Other,

        // Dates, fractions and times: 05/17/2024, 1/2, 12:30.
        '/' or ':' => before == SegmentKind.Number && after == SegmentKind.Number,
        _ => false,
    };

    /// <summary>
    /// Cuts one segment into tokens and gaps: a token starts at a visible character and ends after the last
    /// visible character or kept joiner; whitespace and invisible characters around it are a gap.
    /// </summary>
    private static void CutIntoTokensAndGaps(string sentence, int start, int end, List<Token> tokens, List<Gap> gaps)
    {
        var i = start;
        while (i < end)
        {
            var gapStart = i;
            while (i < end && !IsVisible(Rune.GetRuneAt(sentence, i)))
            {
                i += Rune.GetRuneAt(sentence, i).Utf16SequenceLength;
            }

            AddGap(sentence, gapStart, i, gaps);
            if (i >= end)
            {
                return;
            }

            var tokenStart = i;
            var tokenEnd = i;
            var lastVisible = Rune.GetRuneAt(sentence, i);
            while (i < end)
            {
                var rune = Rune.GetRuneAt(sentence, i);
                if (IsSpace(rune))
                {
                    break;
                }

                i += rune.Utf16SequenceLength;
                if (IsVisible(rune))
                {
                    // Joiners before this character are inside the token: they join it to what came before.
                    tokenEnd = i;
                    lastVisible = rune;
                }
                else if (SelectsAVariant(rune, lastVisible))
                {
                    tokenEnd = i;
                }
            }

            tokens.Add(new Token(TokenText(sentence, tokenStart, tokenEnd), tokens.Count, tokenStart, tokenEnd - tokenStart));
            i = tokenEnd;
        }
    }

    private static void AddGap(string sentence, int start, int end, List<Gap> gaps)
    {
        if (end == start)
        {
            return;
        }

        if (gaps.Count > 0 && gaps[^1].Start + gaps[^1].Length == start)
        {
            start = gaps[^1].Start;
            gaps.RemoveAt(gaps.Count - 1);
        }

        gaps.Add(new Gap(start, end - start, sentence[start..end]));
    }

    private static string TokenText(string sentence, int start, int end)
    {
        // Below the soft hyphen nothing is invisible and nothing changes under NFC: most English tokens.
        if (!sentence.AsSpan(start, end - start).ContainsAnyInRange(FirstDefaultIgnorable, char.MaxValue))
        {
            return sentence[start..end];
        }

        var text = new StringBuilder(end - start);
        for (var i = start; i < end;)
        {
            var rune = Rune.GetRuneAt(sentence, i);
            if (!IsDroppedInsideWord(rune))
            {
                text.Append(sentence, i, rune.Utf16SequenceLength);
            }

            i += rune.Utf16SequenceLength;
        }

        return text.ToString().Normalize(NormalizationForm.FormC);
    }

    private static bool IsSpace(Rune rune) => Rune.IsWhiteSpace(rune) || Rune.IsControl(rune);

    /// <summary>U+00AD, the soft hyphen: the first default-ignorable code point.</summary>
    private const char FirstDefaultIgnorable = '\u00AD';

    private static bool IsDefaultIgnorable(Rune rune) =>
        rune.Value >= FirstDefaultIgnorable && UChar.HasBinaryProperty(rune.Value, UProperty.Default_Ignorable_Code_Point);

    /// <summary>A character that can start a token: not whitespace, not a control, not drawn as nothing.</summary>
    private static bool IsVisible(Rune rune) => !IsSpace(rune) && !IsDefaultIgnorable(rune);

    /// <summary>Invisible characters that change what is drawn, so a token keeps them (emoji sequences, Persian ZWNJ).</summary>
    private static bool IsKeptJoiner(Rune rune) => rune.Value switch
    {
        0x200C or 0x200D or 0x034F => true,
        >= 0xFE00 and <= 0xFE0F => true,
        >= 0x180B and <= 0x180D or 0x180F => true,
        >= 0xE0020 and <= 0xE007F => true,
        >= 0xE0100 and <= 0xE01EF => true,
        _ => false,
    };

    /// <summary>
    /// Whether an invisible character after the last visible one of a token still belongs to it: a variation selector
    /// or tag after an emoji, an ideograph or a Mongolian letter picks how that character is drawn (❤ + U+FE0F). A
    /// joiner (ZWJ, ZWNJ, CGJ) at the end of a word joins nothing, and cased letters have no variants to select, so
    /// "cat" + U+200D and "cat" + U+FE0F are the token "cat", with the invisible character left in the gap after it.
    /// </summary>
    private static bool SelectsAVariant(Rune rune, Rune lastVisible) =>
        IsKeptJoiner(rune) && rune.Value is not (0x200C or 0x200D or 0x034F)
        && Rune.GetUnicodeCategory(lastVisible) is not (UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter);

    /// <summary>Invisible characters that only hint at layout (soft hyphen, bidi marks, word joiner, ZWSP).</summary>
    private static bool IsDroppedInsideWord(Rune rune) => IsDefaultIgnorable(rune) && !IsKeptJoiner(rune);
}
