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
}
