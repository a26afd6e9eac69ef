using NotebookAttention.Tests.Support;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

public class DataTests
{
    [Theory]
    [InlineData("sentences.en.txt", 7)]
    [InlineData("sentences.be.txt", 7)]
    [InlineData("paragraph.en.txt", 1)]
    public void Every_example_line_is_a_sentence_the_tokenizer_splits_without_losing_a_letter(string file, int lineCount)
    {
        // Tokenize throws on a blank line, so reaching the checks means every line has tokens; what can still go
        // wrong is a missing line or a tokenizer that drops or invents characters of the example sentences.
        var lines = File.ReadAllLines(Repository.PathOf("data", file));
        Assert.Equal(lineCount, lines.Length);
        Assert.All(lines, line => Assert.Equal(
            string.Concat(line.Where(c => !char.IsWhiteSpace(c))),
            string.Concat(Tokenizer.Tokenize(line).Select(t => t.Text))));
    }

    [Fact]
    public void Belarusian_examples_keep_their_letters_whole()
    {
        var tokens = File.ReadAllLines(Repository.PathOf("data", "sentences.be.txt")).SelectMany(Tokenizer.Words).ToList();
        Assert.Contains("ўзважваць", tokens);
        Assert.Contains("з'яўляецца", tokens);
        Assert.DoesNotContain("'", tokens);
    }

    [Fact]
    public void The_paragraph_has_sixty_words()
    {
        var text = File.ReadAllText(Repository.PathOf("data", "paragraph.en.txt"));
        Assert.Equal(60, text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
