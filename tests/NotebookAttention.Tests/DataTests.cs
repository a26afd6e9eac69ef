using NotebookAttention.Tests.Support;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

public class DataTests
{
    [Theory]
    [InlineData("sentences.en.txt")]
    [InlineData("sentences.be.txt")]
    [InlineData("paragraph.en.txt")]
    public void Every_example_line_is_a_sentence_the_tokenizer_accepts(string file)
    {
        var lines = File.ReadAllLines(Repository.PathOf("data", file));
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.NotEmpty(Tokenizer.Tokenize(line)));
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
