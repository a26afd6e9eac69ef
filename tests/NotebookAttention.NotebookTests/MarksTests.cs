using NotebookAttention.PageCheck;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// The series' marks need no colour emoji font (issue 13): no notebook, and no file of the notebook library or the
/// runner that writes into pages, holds a character a browser draws as emoji (<see cref="EmojiCharacters"/>).
/// </summary>
public class MarksTests
{
    [Theory]
    [InlineData("✅", true)]
    [InlineData("❌", true)]
    [InlineData("✏️", true)]
    [InlineData("🧮", true)]
    [InlineData("⚙️", true)]
    [InlineData("✓", false)]
    [InlineData("✗", false)]
    [InlineData("✎", false)]
    [InlineData("■ −∞ √ Ў 中", false)]
    public void Emoji_are_told_from_text_marks(string text, bool emoji) =>
        Assert.Equal(emoji, EmojiCharacters.In(text).Count > 0);

    [Fact]
    public void No_notebook_library_display_or_page_writer_file_holds_an_emoji()
    {
        var root = SeriesRunner.FindRoot();
        var files = Directory.GetFiles(Path.Combine(root, "notebooks"), "*.ipynb")
            .Concat(Directory.GetFiles(Path.Combine(root, "lib", "NotebookAttention.Notebooks"), "*.*", SearchOption.AllDirectories))
            .Concat(Directory.GetFiles(Path.Combine(root, "notebooks", "runner"), "*.cs"))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.True(files.Count > 20, $"found only {files.Count} files under {root}");
        var offenders = files
            .Select(f => (File: Path.GetRelativePath(root, f), Emoji: EmojiCharacters.In(File.ReadAllText(f))))
            .Where(f => f.Emoji.Count > 0)
            .Select(f => $"{f.File}: {string.Join(", ", f.Emoji)}")
            .ToList();
        Assert.True(offenders.Count == 0, "these files hold characters drawn only by a colour emoji font (empty boxes without one); use ✓ ✗ ✎ or words:\n" + string.Join("\n", offenders));
    }
}
