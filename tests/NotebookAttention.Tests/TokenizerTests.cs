using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

public class TokenizerTests
{
    [Fact]
    public void English_sentence_splits_words_and_punctuation()
    {
        Assert.Equal(["The", "cat", "sat", "on", "the", "mat", "."], Tokenizer.Words("The cat sat on the mat."));
    }

    [Fact]
    public void Belarusian_apostrophe_words_and_short_u_stay_whole()
    {
        Assert.Equal(
            ["Увага", "да", "сябе", "з'яўляецца", "асновай", "ўвагі", ",", "праўда", "?"],
            Tokenizer.Words("Увага да сябе з'яўляецца асновай ўвагі, праўда?"));
    }

    [Theory]
    [InlineData("з’яўляецца")]
    [InlineData("зʼяўляецца")]
    [InlineData("don't")]
    [InlineData("self-attention")]
    [InlineData("3.14")]
    [InlineData("1,000")]
    [InlineData("COVID-19")]
    public void Joiners_inside_a_word_keep_it_one_token(string word)
    {
        Assert.Equal([word], Tokenizer.Words(word));
    }

    [Fact]
    public void Quotes_and_hyphens_at_word_edges_are_separate()
    {
        Assert.Equal(["'", "hello", "'", "-", "world", "-"], Tokenizer.Words("'hello' -world-"));
        Assert.Equal(["«", "Увага", "»", "—", "гэта", "…"], Tokenizer.Words("«Увага» — гэта…"));
    }

    [Fact]
    public void Emoji_and_digits_do_not_crash_and_stay_whole()
    {
        var family = "👨‍👩‍👧";
        Assert.Equal(["I", "❤️", "2", "🐈", "and", "42", family, "!"], Tokenizer.Words($"I ❤️ 2 🐈 and 42{family}!"));
    }

    [Fact]
    public void Other_scripts_split_on_spaces_and_punctuation()
    {
        Assert.Equal(["Внимание", "—", "это", "всё", "."], Tokenizer.Words("Внимание — это всё."));
        Assert.Equal(["Ἀρχὴ", "ἥμισυ", "παντός"], Tokenizer.Words("Ἀρχὴ ἥμισυ παντός"));
        Assert.Equal(["注意力", "。"], Tokenizer.Words("注意力。"));
    }

    [Fact]
    public void Tokens_know_their_position_and_place_in_the_text()
    {
        const string sentence = "  Hi, ўвага!";
        var tokens = Tokenizer.Tokenize(sentence);
        Assert.Equal([0, 1, 2, 3], tokens.Select(t => t.Position));
        foreach (var token in tokens)
        {
            Assert.Equal(token.Text, sentence.Substring(token.Start, token.Length));
        }
    }

    [Fact]
    public void Combining_and_precomposed_spellings_give_the_same_token()
    {
        var precomposed = "ў";
        var combining = "у\u0306";
        Assert.NotEqual(precomposed, combining);
        Assert.Equal(Tokenizer.Words(precomposed + "вага"), Tokenizer.Words(combining + "вага"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n\u00A0")]
    public void Empty_or_whitespace_sentence_is_refused_with_a_clear_message(string sentence)
    {
        var error = Assert.Throws<ArgumentException>(() => Tokenizer.Tokenize(sentence));
        Assert.Contains("0 tokens", error.Message, StringComparison.Ordinal);
        Assert.Contains("type at least one word", error.Message, StringComparison.Ordinal);
        Assert.Contains(sentence.Length == 0 ? "empty" : $"{sentence.Length} whitespace", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("atten\u00ADtion")]
    [InlineData("atten\u2060tion")]
    [InlineData("\u200Fattention\u200E")]
    [InlineData("\u202Battention\u202C")]
    [InlineData("\u2067attention\u2069")]
    [InlineData("\uFEFFattention")]
    public void Invisible_format_characters_never_become_tokens(string typed)
    {
        Assert.Equal(["attention"], Tokenizer.Words(typed));
    }

    [Theory]
    [InlineData("a \u200D b")]
    [InlineData("a \uFE0F b")]
    [InlineData("a \u200F\u200E b")]
    [InlineData("a \u2066 b")]
    [InlineData("\u200Da b")]
    [InlineData("\uFE0Fa b")]
    public void A_lone_joiner_variation_selector_or_bidi_mark_outside_a_word_is_skipped(string typed)
    {
        Assert.Equal(["a", "b"], Tokenizer.Words(typed));
    }

    [Theory]
    [InlineData("cat\u200D dog", 3)]
    [InlineData("cat\u200C dog", 3)]
    [InlineData("cat\uFE0F dog", 3)]
    [InlineData("cat\u034F", 3)]
    public void A_joiner_or_variation_selector_ending_a_word_is_left_out_of_its_token(string typed, int wordLength)
    {
        var segmentation = Tokenizer.Segment(typed);
        Assert.Equal("cat", segmentation.Tokens[0].Text);
        Assert.Equal(wordLength, segmentation.Tokens[0].Length);
        Assert.Contains(segmentation.Gaps, g => g.Start == wordLength);
    }

    [Fact]
    public void Words_in_letters_newer_than_icus_unicode_data_stay_whole()
    {
        // Georgian Mtavruli capitals (U+1C90 to U+1CBF, Unicode 11) are the Mkhedruli letters (U+10D0 on) shifted by
        // 0x0BC0: "GAMARJOBA MSOPLIO" ("hello world") in capitals.
        static string Capitals(string mkhedruli) => string.Concat(mkhedruli.Select(c => c == ' ' ? ' ' : (char)(c + 0x0BC0)));
        var typed = Capitals("გამარჯობა მსოფლიო");
        Assert.Equal(typed.Split(' '), Tokenizer.Words(typed + "!").Take(2));
        Assert.Equal("!", Tokenizer.Words(typed + "!")[^1]);
    }

    [Theory]
    [InlineData("\u2764\uFE0F")]
    [InlineData("\u8FBB\U000E0100")]
    public void A_variation_selector_after_an_emoji_or_an_ideograph_stays_in_its_token(string typed)
    {
        Assert.Equal([typed], Tokenizer.Words(typed + " x").Take(1));
    }

    [Fact]
    public void The_soft_hyphen_is_dropped_from_the_token_text_but_the_span_covers_it()
    {
        const string typed = "atten\u00ADtion span";
        var tokens = Tokenizer.Tokenize(typed);
        Assert.Equal("attention", tokens[0].Text);
        Assert.Equal((0, 10), (tokens[0].Start, tokens[0].Length));
        Assert.Equal((11, 4), (tokens[1].Start, tokens[1].Length));
    }

    [Theory]
    [InlineData("צה״ל")]
    [InlineData("צה\"ל")]
    [InlineData("בית־ספר")]
    [InlineData("٣٫١٤")]
    [InlineData("١٬٠٠٠")]
    [InlineData("сям`я")]
    [InlineData("don`t")]
    [InlineData("don´t")]
    [InlineData("2024-05-17")]
    [InlineData("17.05.2024")]
    [InlineData("05/17/2024")]
    [InlineData("12:30")]
    public void Joiners_of_every_script_and_dates_keep_one_token(string word)
    {
        Assert.Equal([word], Tokenizer.Words(word));
    }

    [Fact]
    public void A_combining_mark_after_a_space_becomes_a_token_of_its_own()
    {
        Assert.Equal(["a", "\u0301", "b"], Tokenizer.Words("a \u0301 b"));
        Assert.Equal(["\u0301"], Tokenizer.Words("\u0301"));
    }

    [Fact]
    public void Token_start_counts_in_the_text_as_typed_not_the_normalised_text()
    {
        const string typed = "у\u0306вага ok";
        var tokens = Tokenizer.Tokenize(typed);
        Assert.Equal("ўвага", tokens[0].Text);
        Assert.Equal((0, 6), (tokens[0].Start, tokens[0].Length));
        Assert.Equal((7, 2), (tokens[1].Start, tokens[1].Length));
        Assert.Equal("ok", typed.Substring(tokens[1].Start, tokens[1].Length));
    }

    [Theory]
    [InlineData("ab", 0xD83D, "cd")]
    [InlineData("ab", 0xDE00, "")]
    public void A_lone_surrogate_is_refused_with_its_index_and_what_to_do(string before, int surrogate, string after)
    {
        // Built in code: an attribute cannot carry a lone surrogate (it would arrive as U+FFFD).
        var typed = before + (char)surrogate + after;
        var error = Assert.Throws<ArgumentException>(() => Tokenizer.Tokenize(typed));
        Assert.Contains($"index {before.Length}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"U+{surrogate:X4}", error.Message, StringComparison.Ordinal);
        Assert.Contains("retype", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("strInput", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decomposed_hangul_after_thai_splits_as_its_composed_spelling_does()
    {
        // Found by the property in TokenizerPropertyTests: ICU cut the NFC and the NFD spelling differently.
        const string composed = "ฆ각ў";
        Assert.Equal(["ฆ", "각", "ў"], Tokenizer.Words(composed));
        Assert.Equal(Tokenizer.Words(composed), Tokenizer.Words(composed.Normalize(System.Text.NormalizationForm.FormD)));
    }

    [Fact]
    public void Segment_reports_what_was_skipped_where_it_was_typed()
    {
        const string typed = " a \u200F\tb\u200E";
        var segmentation = Tokenizer.Segment(typed);
        Assert.Equal([("a", 1, 1), ("b", 5, 1)], segmentation.Tokens.Select(t => (t.Text, t.Start, t.Length)));
        Assert.Equal([new Gap(0, 1, " "), new Gap(2, 3, " \u200F\t"), new Gap(6, 1, "\u200E")], segmentation.Gaps);
        Assert.Equal(typed, segmentation.Sentence);
    }

    [Fact]
    public void Segment_of_nothing_visible_gives_no_tokens_and_one_gap_while_tokenize_refuses_it()
    {
        const string typed = " \u200B\u00AD ";
        var segmentation = Tokenizer.Segment(typed);
        Assert.Empty(segmentation.Tokens);
        Assert.Equal([new Gap(0, 4, typed)], segmentation.Gaps);
        var error = Assert.Throws<ArgumentException>(() => Tokenizer.Tokenize(typed));
        Assert.Contains("4 whitespace or invisible characters", error.Message, StringComparison.Ordinal);
    }
}
