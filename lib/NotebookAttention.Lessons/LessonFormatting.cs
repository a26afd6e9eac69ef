using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Lessons;

/// <summary>
/// The kernel extension (lib/NotebookAttention.Notebooks/extension.dib), outside the kernel: the same formatters,
/// from the kernel's own formatting library (Microsoft.DotNet.Interactive.Formatting), and the same live output,
/// connected to whichever cell <see cref="LessonRecorder"/> is running.
/// </summary>
public static class LessonFormatting
{
    private static readonly Lazy<bool> Connected = new(ConnectOnce);

    /// <summary>
    /// Does once what extension.dib does when a notebook loads the package: <see cref="KernelSetup.Install"/>,
    /// <see cref="NotebookDisplay.ToHtml"/> registered as the <c>text/html</c> formatter of every
    /// <see cref="NotebookDisplay.Types"/>, and <see cref="LiveOutput.Connect"/> to the running cell (final lines
    /// only, as under dotnet-repl; the running cell's cancellation token as the stop button). Console output is routed
    /// to the running cell. Calling it again does nothing.
    /// </summary>
    public static void Connect() => _ = Connected.Value;

    /// <summary>
    /// The nbformat mime bundle of a value (<c>{"text/html": "..."}</c>), formatted as the kernel formats it: one
    /// entry per preferred mime type of the value's type (<see cref="Formatter.GetPreferredMimeTypesFor"/>).
    /// </summary>
    /// <param name="value">The value; null gives the formatter's null text.</param>
    /// <returns>A new JSON object, mime type to text.</returns>
    public static JsonObject MimeBundle(object? value)
    {
        Connect();
        var bundle = new JsonObject();
        foreach (var formatted in FormattedValue.CreateManyFromObject(value!))
        {
            bundle[formatted.MimeType] = formatted.Value;
        }

        return bundle;
    }

    private static bool ConnectOnce()
    {
        KernelSetup.Install();
        foreach (var type in NotebookDisplay.Types)
        {
            Formatter.Register(type, (value, writer) => writer.Write(NotebookDisplay.ToHtml(value)), "text/html");
        }

        LiveOutput.Connect(
            html =>
            {
                var cell = LessonRecorder.RunningCell ?? throw new InvalidOperationException("a live line was shown outside a running cell: start the cell with LessonRecorder.BeginCell first.");
                var shown = cell.Display(Html.ToHtmlContent(html));
                return updated => shown.Update(Html.ToHtmlContent(updated));
            },
            () => false,
            () => LessonRecorder.RunningCell?.Cancellation ?? CancellationToken.None);
        CellConsole.Install();
        return true;
    }
}
