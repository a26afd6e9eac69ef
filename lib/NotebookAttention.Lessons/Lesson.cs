using Microsoft.AspNetCore.Html;
using Microsoft.DotNet.Interactive.Formatting;

namespace NotebookAttention.Lessons;

/// <summary>
/// The kernel's cell helpers for code that runs outside the kernel (the scripting engine imports them with
/// <c>using static</c>; so can a file-based app): <c>display(value)</c> and <c>HTML(text)</c> behave as in a notebook
/// and write to the cell <see cref="LessonRecorder"/> is running.
/// </summary>
public static class Lesson
{
    /// <summary>Shows <paramref name="value"/> in the running cell's output, formatted as the kernel would.</summary>
    /// <param name="value">What to show.</param>
    /// <returns>The output, which <see cref="DisplayedOutput.Update"/> can replace.</returns>
    /// <exception cref="InvalidOperationException">No cell is running.</exception>
#pragma warning disable IDE1006 // the kernel's names, so that notebook code runs unchanged
    public static DisplayedOutput display(object? value) =>
        (LessonRecorder.RunningCell ?? throw new InvalidOperationException("display(...) was called outside a running cell: start the cell with LessonRecorder.BeginCell first.")).Display(value);
#pragma warning restore IDE1006

    /// <summary>Marks <paramref name="html"/> as HTML, so that <see cref="display"/> shows it as markup, not text.</summary>
    /// <param name="html">An HTML fragment.</param>
    /// <returns>The fragment as HTML content (formatted as <c>text/html</c>, unchanged).</returns>
    public static IHtmlContent HTML(string html) => html.ToHtmlContent();
}
