using System.Globalization;
using System.Text;
using CsCheck;
using NotebookAttention.Tests.Support;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

/// <summary>
/// The tokenizer on generated texts that mix scripts, combining marks, emoji, invisible format characters and
/// whitespace: nothing is lost, nothing invisible becomes a token, and every token points at what was typed.
/// </summary>
public class TokenizerPropertyTests
{
    private static readonly string[] Pieces =
    [
        // Words and letters of many scripts, with and without spaces between them.
        "attention", "don't", "сям`я", "ўвага", "Ἀρχὴ", "مرحبا", "צה״ל", "नमस्ते", "我爱", "自然语言", "私は猫", "고양이를",
        "ฉันรัก", "ຮັກ", "ខ្ញុំ", "မြန်မာ", "გამარჯობა", "Բարև", "ሰላም", "e\u0301", "у\u0306", "\u1100\u1161\u11A8",
        // Digits and joiners.
        "3", "14", "٣", "-", "/", ".", ",", "'", "`", "٫", ":",
        // Punctuation and symbols.
        "!", "?", "«", "»", "—", "…", "。", "।", "$", "%",
        // Emoji: plain, presentation selector, skin tone, flag, keycap, ZWJ sequences old and new.
        "🐈", "❤\uFE0F", "👍🏽", "🇧🇾", "1\uFE0F\u20E3", "👨\u200D👩\u200D👧", "🧑\u200D💻", "🫱🏻\u200D🫲🏿",
        // Combining marks with nothing or a space before them.
        "\u0301", "\u0308", "\u093F",
        // Invisible format characters: soft hyphen, bidi marks, embeddings and isolates, word joiner, ZWSP,
        // BOM, ZWJ, ZWNJ, a variation selector.
        "\u00AD", "\u200E", "\u200F", "\u202A", "\u202B", "\u202C", "\u2066", "\u2067", "\u2069", "\u2060",
        "\u200B", "\uFEFF", "\u200D", "\u200C", "\uFE0F",
        // Whitespace and controls.
        " ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "\u0001",
    ];

    private static readonly Gen<string> Texts =
        Gen.OneOf(
                Gen.Int[0, Pieces.Length - 1].Select(i => Pieces[i]),
                Gen.Int[0x0020, 0x052F].Select(CodePoint),
                Gen.Int[0x4E00, 0x9FFF].Select(CodePoint),
                Gen.Int[0x0E01, 0x0E4B].Select(CodePoint),
                Gen.Int[0x1F300, 0x1F64F].Select(CodePoint))
            .Array[1, 24]
            .Select(string.Concat);

    [Fact]
    public void Tokens_and_gaps_rebuild_the_text_as_typed_and_every_token_points_at_what_was_typed()
    {
        Property.Holds(Texts, text =>
        {
            var segmentation = Tokenizer.Segment(text);
            var spans = segmentation.Tokens.Select(t => (t.Start, t.Length))
                .Concat(segmentation.Gaps.Select(g => (g.Start, g.Length)))
                .OrderBy(s => s.Start)
                .ToList();
            var rebuilt = new StringBuilder();
            foreach (var (start, length) in spans)
            {
                Assert.Equal(rebuilt.Length, start);
                Assert.True(length > 0, $"an empty span at {start} in {Escape(text)}");
                rebuilt.Append(text, start, length);
            }

            Assert.Equal(text, rebuilt.ToString());
            Assert.Equal(Enumerable.Range(0, segmentation.Tokens.Count), segmentation.Tokens.Select(t => t.Position));
            foreach (var token in segmentation.Tokens)
            {
                var typed = text.Substring(token.Start, token.Length);
                Assert.True(IsVisibleStart(typed), $"token {Escape(token.Text)} starts at an invisible character in {Escape(text)}");
                Assert.Equal(WithoutLayoutHints(typed).Normalize(NormalizationForm.FormC), token.Text);
            }

            foreach (var gap in segmentation.Gaps)
            {
                Assert.Equal(text.Substring(gap.Start, gap.Length), gap.Text);
                Assert.True(gap.Text.All(IsInvisible), $"gap {Escape(gap.Text)} skips a visible character in {Escape(text)}");
            }
        });
    }

    [Fact]
    public void Composed_and_decomposed_spellings_give_the_same_tokens()
    {
        Property.Holds(Texts, text =>
        {
            var composed = Tokenizer.Segment(text.Normalize(NormalizationForm.FormC)).Tokens.Select(t => t.Text);
            var decomposed = Tokenizer.Segment(text.Normalize(NormalizationForm.FormD)).Tokens.Select(t => t.Text);
            Assert.Equal(composed, decomposed);
        });
    }

    private static string CodePoint(int value) => char.ConvertFromUtf32(value);

    /// <summary>
    /// Whitespace, controls, format characters, variation selectors and the combining grapheme joiner (a mark
    /// that draws nothing): what may be skipped.
    /// </summary>
    private static bool IsInvisible(char c) =>
        char.GetUnicodeCategory(c) is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Control or UnicodeCategory.Format
        || c is >= '\uFE00' and <= '\uFE0F' or '\u034F';

    private static bool IsVisibleStart(string typed) => !IsInvisible(typed[0]);

    /// <summary>The typed span without the format characters that only hint at layout (all but ZWJ and ZWNJ).</summary>
    private static string WithoutLayoutHints(string typed) =>
        string.Concat(typed.Where(c => char.GetUnicodeCategory(c) != UnicodeCategory.Format || c is '\u200D' or '\u200C'));

    private static string Escape(string text) =>
        string.Concat(text.EnumerateRunes().Select(r => r.Value is > 0x20 and < 0x7F ? r.ToString() : $"\\u{{{r.Value:X}}}"));
}
