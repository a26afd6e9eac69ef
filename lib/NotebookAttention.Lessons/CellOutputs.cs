using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Lessons;

/// <summary>
/// One code cell's outputs, recorded the way dotnet-repl writes them into an executed notebook (nbformat 4): every
/// <c>display(value)</c> and the cell's last value become a <c>display_data</c> output whose mime bundle comes from
/// the kernel's own formatters (<see cref="LessonFormatting"/>), Console output becomes a <c>stdout</c> (or
/// <c>stderr</c>) stream, and a failure becomes an <c>error</c> output.
/// </summary>
public sealed class CellOutputs
{
    private readonly Lock gate = new();

    /// <summary>Starts an empty output list for the cell at <paramref name="cell"/>.</summary>
    /// <param name="cell">Zero-based index of the cell among all cells of its notebook.</param>
    /// <param name="cancellation">Fires when the cell must stop (time limit, or a learner's stop); <see cref="LiveOutput.CellCancellation"/> returns it while the cell runs.</param>
    public CellOutputs(int cell, CancellationToken cancellation = default)
    {
        Cell = cell;
        Cancellation = cancellation;
    }

    /// <summary>Zero-based index of the cell among all cells of its notebook (the number <see cref="CellError.Cell"/> reports).</summary>
    public int Cell { get; }

    /// <summary>Fires when the cell must stop.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>The outputs so far, in nbformat 4 shape (the cell's <c>outputs</c> array).</summary>
    public JsonArray Outputs { get; } = [];

    /// <summary>
    /// Shows a value, as the kernel's <c>display(value)</c> does: a <c>display_data</c> output with the value formatted
    /// for each of its preferred mime types (strings as <c>text/plain</c>; the library's types through
    /// <see cref="NotebookDisplay.ToHtml"/> as <c>text/html</c>; other objects through the kernel's HTML formatter).
    /// </summary>
    /// <param name="value">What to show; null shows the formatter's null text.</param>
    /// <returns>The output, whose content <see cref="DisplayedOutput.Update"/> can replace.</returns>
    public DisplayedOutput Display(object? value)
    {
        var output = new JsonObject
        {
            ["data"] = LessonFormatting.MimeBundle(value),
            ["metadata"] = new JsonObject(),
            ["output_type"] = "display_data",
        };
        Add(output);
        return new DisplayedOutput(output, gate);
    }

    /// <summary>
    /// Records the cell's last value (a cell that ends with an expression). dotnet-repl writes it as a
    /// <c>display_data</c> output like <see cref="Display"/>; a <see cref="DisplayedOutput"/> (the cell ended with a
    /// <c>display(...)</c> call) shows nothing more.
    /// </summary>
    public void Value(object? value)
    {
        if (value is not DisplayedOutput)
        {
            Display(value);
        }
    }

    /// <summary>Appends Console text to the cell's stream output, merging it with the stream output just before it.</summary>
    /// <param name="text">The text as written.</param>
    /// <param name="standardError">True for Console.Error (which the runner counts as an error, as with the kernel).</param>
    public void Write(string text, bool standardError = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var name = standardError ? "stderr" : "stdout";
        lock (gate)
        {
            if (Outputs.Count > 0 && Outputs[^1] is JsonObject last && (string?)last["output_type"] == "stream" && (string?)last["name"] == name)
            {
                last["text"] = NotebookFile.Text(last["text"]) + text;
                return;
            }

            Outputs.Add(new JsonObject { ["name"] = name, ["output_type"] = "stream", ["text"] = text });
        }
    }

    /// <summary>Records a failure of the cell: an <c>error</c> output, which <see cref="NotebookFile.Errors"/> reports as "<paramref name="name"/>: <paramref name="message"/>".</summary>
    /// <param name="name">The kind of error, e.g. "Error" for a compile error or the exception's type name.</param>
    /// <param name="message">What went wrong, as the compiler or the exception says it.</param>
    public void Error(string name, string message)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(message);
        Add(new JsonObject
        {
            ["ename"] = name,
            ["evalue"] = message,
            ["output_type"] = "error",
            ["traceback"] = new JsonArray(),
        });
    }

    /// <summary>
    /// What the kernel shows when <c>#r "nuget: ..."</c> loads the series' packages: its "Installed Packages" list,
    /// then, when the list holds <see cref="ExtensionPackage"/>, the output of that package's extension
    /// (lib/NotebookAttention.Notebooks/extension.dib), which loads plotly.js for the charts
    /// (<see cref="OfflinePlotly.LoaderHtml"/>). The extension's formatters and live output are connected by
    /// <see cref="LessonFormatting.Connect"/>.
    /// </summary>
    /// <param name="packages">"Name, Version" of each package the cell loaded, e.g. "NotebookAttention.Notebooks, 0.1.0".</param>
    public void PackagesLoaded(IEnumerable<string> packages)
    {
        ArgumentNullException.ThrowIfNull(packages);
        var loaded = packages.ToList();
        var items = string.Concat(loaded.Select(p => $"<li><span>{System.Net.WebUtility.HtmlEncode(p)}</span></li>"));
        Display(Html.ToHtmlContent($"<div><div></div><div></div><div><strong>Installed Packages</strong><ul>{items}</ul></div></div>"));
        if (loaded.Any(p => p.Split(',')[0].Trim() == ExtensionPackage))
        {
            Display(Html.ToHtmlContent(OfflinePlotly.LoaderHtml()));
        }
    }

    /// <summary>The package whose kernel extension (extension.dib) runs when it is loaded.</summary>
    public const string ExtensionPackage = "NotebookAttention.Notebooks";

    // A copy of the outputs taken under the lock, since a cell abandoned at its time limit may still be writing.
    internal List<JsonNode> Snapshot()
    {
        lock (gate)
        {
            return [.. Outputs.Select(o => o!.DeepClone())];
        }
    }

    private void Add(JsonObject output)
    {
        lock (gate)
        {
            Outputs.Add(output);
        }
    }
}

/// <summary>A shown output that can be replaced in place, like the kernel's <c>display(value).Update(newValue)</c>.</summary>
public sealed class DisplayedOutput
{
    private readonly JsonObject output;
    private readonly Lock gate;

    internal DisplayedOutput(JsonObject output, Lock gate)
    {
        this.output = output;
        this.gate = gate;
    }

    /// <summary>Replaces the shown content with <paramref name="value"/>, formatted as by <see cref="CellOutputs.Display"/>.</summary>
    /// <param name="value">The new value.</param>
    public void Update(object? value)
    {
        var bundle = LessonFormatting.MimeBundle(value);
        lock (gate)
        {
            output["data"] = bundle;
        }
    }
}
