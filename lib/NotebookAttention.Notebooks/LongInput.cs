using System.Globalization;

namespace NotebookAttention.Notebooks;

/// <summary>
/// The one rule for long input in pictures: a picture with one row, column, bar or dot per token shows the first
/// <see cref="TokensShown"/> tokens and says so on its title and above it ("showing the first 32 of 2,000 tokens").
/// The computations behind a picture always use every token; only the drawing is cut.
/// </summary>
/// <remarks>
/// Why: a heatmap carries every cell, so a 700-word paragraph made executed notebooks of 135 MB that no browser
/// could draw. 32 tokens are a sentence or two: every tick label stays legible, and a page of 21 heatmaps (notebook
/// 04) is drawn in a few seconds; with 64 the tick labels alone took most of 10 s in headless Chromium.
/// </remarks>
public static class LongInput
{
    /// <summary>Tokens a heatmap, bar chart, head view or graph draws at most.</summary>
    public const int TokensShown = 32;

    /// <summary>Characters of a token a label keeps: a 100,000-character "word" must not fill a notebook.</summary>
    public const int LabelLength = 24;

    /// <summary>Characters of a chart title at most (titles may quote a token).</summary>
    public const int TitleLength = 160;

    /// <summary>How many of <paramref name="total"/> items a picture draws.</summary>
    /// <param name="total">Items in the input.</param>
    /// <param name="limit">The most a picture draws.</param>
    /// <returns>The smaller of the two.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The total is negative or the limit below 1.</exception>
    public static int Shown(int total, int limit = TokensShown)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return Math.Min(total, limit);
    }

    /// <summary>What a cut picture says, e.g. "showing the first 32 of 2,000 tokens".</summary>
    /// <param name="shown">Items drawn.</param>
    /// <param name="total">Items in the input.</param>
    /// <param name="items">What the items are, plural ("tokens", "bars").</param>
    public static string Note(int shown, int total, string items) =>
        string.Create(CultureInfo.InvariantCulture, $"showing the first {shown:N0} of {total:N0} {items}");

    /// <summary>
    /// The <paramref name="limit"/> consecutive positions to draw around <paramref name="focus"/> (centred where the
    /// input allows), for a picture about one token that may sit anywhere in a long input.
    /// </summary>
    /// <param name="total">Positions in the input.</param>
    /// <param name="focus">The position that must be drawn.</param>
    /// <param name="limit">The most positions drawn.</param>
    /// <returns>First position and count.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The focus is outside the input.</exception>
    public static (int Start, int Count) Window(int total, int focus, int limit = TokensShown)
    {
        var count = Shown(total, limit);
        if ((uint)focus >= (uint)total)
        {
            throw new ArgumentOutOfRangeException(nameof(focus), focus, $"the position must be in 0 to {total - 1}.");
        }

        return (Math.Clamp(focus - (count / 2), 0, total - count), count);
    }

    /// <summary>What a picture of a window says, e.g. "showing tokens 240 to 271 of 512".</summary>
    /// <param name="start">First position drawn.</param>
    /// <param name="count">Positions drawn.</param>
    /// <param name="total">Positions in the input.</param>
    public static string WindowNote(int start, int count, int total) =>
        string.Create(CultureInfo.InvariantCulture, $"showing tokens {start:N0} to {start + count - 1:N0} of {total:N0}");

    /// <summary>A token as a picture labels it: whole up to <see cref="LabelLength"/> characters, else cut and ending in "…".</summary>
    public static string Label(string token) => Shorten(token, LabelLength);

    /// <summary>A chart title with its note: the note on a second, smaller line (plotly reads the markup).</summary>
    internal static string ChartTitle(string title, string note) => note.Length == 0 ? Shorten(title, TitleLength) : $"{Shorten(title, TitleLength)}<br><sub>{note}</sub>";

    /// <summary>The figure's own title with its note in brackets, for captions and text output.</summary>
    internal static string Titled(string title, string note) => note.Length == 0 ? Shorten(title, TitleLength) : $"{Shorten(title, TitleLength)} ({note})";

    private static string Shorten(string text, int length)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= length)
        {
            return text;
        }

        // Never split a surrogate pair: half an emoji is not valid text.
        var cut = char.IsHighSurrogate(text[length - 2]) ? length - 2 : length - 1;
        return text[..cut] + "…";
    }
}
