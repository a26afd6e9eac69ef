using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

/// <summary>
/// One sentence per script with the tokens a reader of that language expects. The expected tokens were written
/// from the language and from Unicode's word-boundary rules (UAX #29), not copied from the tokenizer; the note
/// of each case says how they were established.
/// </summary>
public class TokenizerScriptsTests
{
    public static TheoryData<string, string, string[]> Sentences => new()
    {
        // Latin, English: words split at spaces, the full stop is a token.
        { "Latin (English)", "Attention is all you need.", ["Attention", "is", "all", "you", "need", "."] },

        // Latin, French: UAX #29 keeps an apostrophe between letters inside the word (rule WB6/WB7), so the elided
        // article stays with its noun; the series documents the same choice for "don't".
        { "Latin (French)", "L'attention, c'est tout.", ["L'attention", ",", "c'est", "tout", "."] },

        // Cyrillic, Belarusian: ў is a letter; the apostrophe typed as ` (a common keyboard substitute) joins like '.
        { "Cyrillic (Belarusian)", "Сям`я з'яўляецца асновай.", ["Сям`я", "з'яўляецца", "асновай", "."] },

        // Greek: the Greek question mark U+037E is canonically equivalent to ";" (NFC turns it into U+003B).
        { "Greek", "Τι είναι η προσοχή\u037E", ["Τι", "είναι", "η", "προσοχή", ";"] },

        // Arabic: words at spaces; ٫ (U+066B) is the Arabic decimal separator, so ٣٫١٤ (3.14) is one number.
        { "Arabic", "قيمة العدد ٣٫١٤ تقريبا.", ["قيمة", "العدد", "٣٫١٤", "تقريبا", "."] },

        // Hebrew: gershayim (U+05F4) marks the acronym צה״ל (IDF) and stays inside it (UAX #29 WB7b/c), the maqaf
        // (U+05BE) is the Hebrew hyphen and joins like "-" in "self-attention".
        { "Hebrew", "צה״ל ובית־ספר.", ["צה״ל", "ובית־ספר", "."] },

        // Devanagari, Hindi: words at spaces, the virama conjunct stays in its word, the danda । is punctuation.
        { "Devanagari (Hindi)", "ध्यान ही सब कुछ है।", ["ध्यान", "ही", "सब", "कुछ", "है", "।"] },

        // Chinese: "I love natural language processing", segmented as Chinese word segmentation conventions do
        // (PKU style: 我 / 爱 / 自然 / 语言 / 处理); the ideographic full stop is a token.
        { "Chinese", "我爱自然语言处理。", ["我", "爱", "自然", "语言", "处理", "。"] },

        // Japanese: "I like cats": noun 私, particle は, noun 猫, particle が, adjective 好き, copula です.
        { "Japanese", "私は猫が好きです。", ["私", "は", "猫", "が", "好き", "です", "。"] },

        // Korean: written with spaces between eojeol; UAX #29 keeps a particle with its word (고양이를 = cat + object).
        { "Korean", "나는 고양이를 좋아한다.", ["나는", "고양이를", "좋아한다", "."] },

        // Thai, no spaces: "I love the Thai language": ฉัน (I) / รัก (love) / ภาษา (language) / ไทย (Thai).
        { "Thai", "ฉันรักภาษาไทย", ["ฉัน", "รัก", "ภาษา", "ไทย"] },

        // Lao, no spaces: "I love you": ຂ້ອຍ (I) / ຮັກ (love) / ເຈົ້າ (you).
        { "Lao", "ຂ້ອຍຮັກເຈົ້າ", ["ຂ້ອຍ", "ຮັກ", "ເຈົ້າ"] },

        // Khmer, no spaces: "I love you": ខ្ញុំ (I) / ស្រឡាញ់ (love) / អ្នក (you).
        { "Khmer", "ខ្ញុំស្រឡាញ់អ្នក", ["ខ្ញុំ", "ស្រឡាញ់", "អ្នក"] },

        // Myanmar, no spaces: "I speak Burmese": ကျွန်တော် (I) / မြန်မာ (Myanmar) / စကားပြော (to speak, one
        // dictionary verb) / တယ် (sentence particle).
        { "Myanmar", "ကျွန်တော်မြန်မာစကားပြောတယ်", ["ကျွန်တော်", "မြန်မာ", "စကားပြော", "တယ်"] },

        // Georgian: words at spaces.
        { "Georgian", "გამარჯობა მსოფლიო!", ["გამარჯობა", "მსოფლიო", "!"] },

        // Armenian: the Armenian full stop ։ (U+0589) ends the sentence and is a token.
        { "Armenian", "Բարև աշխարհ։", ["Բարև", "աշխարհ", "։"] },

        // Ethiopic, Amharic: words at spaces, the Ethiopic full stop ። (U+1362) is a token.
        { "Ethiopic (Amharic)", "ሰላም ዓለም።", ["ሰላም", "ዓለም", "።"] },

        // Emoji: a ZWJ sequence of two hands with skin tones (handshake, Unicode 14, newer than ICU4N's Unicode 10),
        // a ZWJ sequence ICU knows, a skin tone and a flag are one picture each, as on screen (UAX #29 WB3c).
        { "Emoji", "🫱🏻\u200D🫲🏿 🧑\u200D💻 👍🏽 🇧🇾", ["🫱🏻\u200D🫲🏿", "🧑\u200D💻", "👍🏽", "🇧🇾"] },
    };

    [Theory]
    [MemberData(nameof(Sentences))]
    public void Every_script_splits_into_the_words_a_reader_expects(string script, string sentence, string[] expected)
    {
        Assert.False(string.IsNullOrEmpty(script));
        Assert.Equal(expected, Tokenizer.Words(sentence));
    }

    [Theory]
    [MemberData(nameof(Sentences))]
    public void Every_token_start_points_at_the_token_as_typed(string script, string sentence, string[] expected)
    {
        Assert.False(string.IsNullOrEmpty(script));
        var tokens = Tokenizer.Tokenize(sentence);
        Assert.Equal(expected.Length, tokens.Count);
        foreach (var token in tokens)
        {
            Assert.Equal(token.Text, sentence.Substring(token.Start, token.Length).Normalize(System.Text.NormalizationForm.FormC));
        }
    }
}
