using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace NotebookAttention.Lessons;

/// <summary>One way in which two executed copies of a notebook disagree.</summary>
/// <param name="Notebook">File name, e.g. 03-weighted-sum.ipynb.</param>
/// <param name="Cell">Zero-based index of the cell among all cells, or -1 for the notebook as a whole.</param>
/// <param name="What">The difference, with both sides.</param>
public sealed record Disagreement(string Notebook, int Cell, string What)
{
    /// <inheritdoc />
    public override string ToString() => Cell < 0 ? $"{Notebook}: {What}" : $"{Notebook}, cell {Cell}: {What}";
}

/// <summary>One output of a cell as a reader sees it.</summary>
/// <param name="Kind">Output type and mime types, e.g. "display_data text/html" or "stream stdout".</param>
/// <param name="Text">Its visible text, white space collapsed.</param>
public sealed record ShownOutput(string Kind, string Text);

/// <summary>What one executed notebook shows: charts, heatmaps and tables, counted in its HTML outputs.</summary>
/// <param name="Charts">Plotly charts (<c>class="na-chart"</c> elements).</param>
/// <param name="Heatmaps">Charts whose figure holds a heatmap trace.</param>
/// <param name="Tables">HTML tables.</param>
public sealed record OutputCounts(int Charts, int Heatmaps, int Tables)
{
    /// <inheritdoc />
    public override string ToString() => $"{Charts} charts, {Heatmaps} heatmaps, {Tables} tables";
}

/// <summary>
/// Proof that two engines (or an engine and an exported app) produce the same lessons: two executed copies of a
/// notebook agree when both ran to the end or both failed, they show the same number of charts, heatmaps and tables,
/// and every code cell shows outputs of the same kinds in the same order with the same texts, where only
/// <see cref="HoldsMachineFigure">machine figures</see> may differ.
/// </summary>
/// <remarks>
/// A text is what a reader sees of an output: a stream's text, a <c>text/plain</c> value, or the visible text of a
/// <c>text/html</c> value (scripts, styles and tags removed, entities decoded, white space collapsed), so chart ids
/// and the formatter's style sheets do not count, but every caption, table cell and sentence does. When either copy
/// failed, only success is compared: the kernel keeps running after a failing cell and the scripting engine stops, so
/// later outputs are not comparable.
/// </remarks>
public static partial class EngineAgreement
{
    /// <summary>
    /// The one rule for what may differ between two runs of a lesson: a machine figure, that is a text that holds a
    /// measurement of this machine. It is recognised by its units: a number with a unit of time, speed or memory
    /// (<c>0.787 ms</c>, <c>3.5 s</c>, <c>12 GFLOP/s</c>, <c>0.27 MiB</c>, <c>21.7 GiB</c>; also µs, ns, min, KiB), a
    /// quantity labelled in such a unit (a column or axis in <c>seconds</c>, <c>(s)</c>, <c>(ms)</c>,
    /// <c>MiB allocated</c>), an exponent fitted to measured points (<c>n^1.85</c>; exact exponents such as n^2 are
    /// not), or the memory that <c>is available</c>. An output whose text holds a machine figure is compared by its
    /// kind only (output type and mime types), because a time budget also decides how many lengths a sweep measures
    /// and so what its table, fit and verdict say; every other output's text must match to the character.
    /// </summary>
    /// <remarks>
    /// Found by running the series on both engines: every output that differed was in notebooks 06 (timing sweeps,
    /// their fits and tables, the FMA share, the free memory) and 07 (the recurrent-against-attention timing), plus
    /// the seconds in the training lines of 09 and 10. Weights, losses, accuracies, shapes, counts and percentages
    /// elsewhere are compared exactly.
    /// </remarks>
    /// <param name="text">A text output.</param>
    /// <returns>True when the text holds a machine figure.</returns>
    public static bool HoldsMachineFigure(string text) => MachineFigure().IsMatch(text);

    /// <summary>Compares two folders of executed notebooks, matched by file name.</summary>
    /// <param name="first">A folder of executed .ipynb files (e.g. artifacts/series).</param>
    /// <param name="second">Another (e.g. artifacts/scripting).</param>
    /// <returns>Every disagreement; empty when the folders agree. A notebook in one folder only is a disagreement.</returns>
    /// <exception cref="DirectoryNotFoundException">A folder does not exist.</exception>
    public static IReadOnlyList<Disagreement> CompareFolders(string first, string second)
    {
        foreach (var folder in new[] { first, second })
        {
            if (!Directory.Exists(folder))
            {
                throw new DirectoryNotFoundException($"{folder} does not exist: run the series into it first (dotnet run --project notebooks/runner -- --engine ...).");
            }
        }

        static IEnumerable<string> Names(string folder) => Directory.GetFiles(folder, "*.ipynb").Select(Path.GetFileName).OfType<string>();
        var names = Names(first).Union(Names(second)).Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0)
        {
            throw new DirectoryNotFoundException($"neither {first} nor {second} holds an executed notebook (.ipynb): nothing to compare.");
        }

        return [.. names.SelectMany(name => Compare(Path.Combine(first, name), Path.Combine(second, name)))];
    }

    /// <summary>Compares two executed copies of one notebook.</summary>
    /// <param name="first">One executed .ipynb (may be missing: then the notebook did not run there).</param>
    /// <param name="second">The other.</param>
    /// <returns>Every disagreement; empty when they agree.</returns>
    public static IReadOnlyList<Disagreement> Compare(string first, string second)
    {
        var name = Path.GetFileName(first);
        var left = File.Exists(first) ? NotebookFile.Load(first) : null;
        var right = File.Exists(second) ? NotebookFile.Load(second) : null;
        return Compare(name, left, right, Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(first))) ?? "first", Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(second))) ?? "second");
    }

    /// <summary>Compares two executed copies of one notebook, each named by where it came from (e.g. "kernel", "scripting").</summary>
    /// <param name="name">The notebook's file name, for the report.</param>
    /// <param name="first">One executed copy, or null when it was not written.</param>
    /// <param name="second">The other, or null.</param>
    /// <param name="firstName">Name of the first side in the report.</param>
    /// <param name="secondName">Name of the second side.</param>
    /// <returns>Every disagreement; empty when they agree.</returns>
    public static IReadOnlyList<Disagreement> Compare(string name, NotebookFile? first, NotebookFile? second, string firstName, string secondName)
    {
        string Status(NotebookFile? notebook) => notebook is null ? "not written" : notebook.Errors() is { Count: > 0 } errors ? $"failed in cell {errors[0].Cell} ({FirstLine(errors[0].Message)})" : "ran to the end";
        var firstStatus = Status(first);
        var secondStatus = Status(second);
        if (first is null || second is null || first.Errors().Count > 0 || second.Errors().Count > 0)
        {
            return firstStatus.StartsWith("failed", StringComparison.Ordinal) && secondStatus.StartsWith("failed", StringComparison.Ordinal)
                ? []
                : firstStatus == secondStatus ? [] : [new Disagreement(name, -1, $"{firstName}: {firstStatus}; {secondName}: {secondStatus}")];
        }

        var differences = new List<Disagreement>();
        var (firstCounts, secondCounts) = (Count(first), Count(second));
        if (firstCounts != secondCounts)
        {
            differences.Add(new Disagreement(name, -1, $"{firstName} shows {firstCounts}; {secondName} shows {secondCounts}"));
        }

        var cells = Math.Max(first.Cells.Count, second.Cells.Count);
        if (first.Cells.Count != second.Cells.Count)
        {
            differences.Add(new Disagreement(name, -1, $"{firstName} has {first.Cells.Count} cells; {secondName} has {second.Cells.Count}"));
            cells = Math.Min(first.Cells.Count, second.Cells.Count);
        }

        for (var i = 0; i < cells; i++)
        {
            var (a, b) = (Outputs(first.Cells[i]), Outputs(second.Cells[i]));
            for (var j = 0; j < Math.Max(a.Count, b.Count); j++)
            {
                var left = j < a.Count ? a[j] : null;
                var right = j < b.Count ? b[j] : null;
                var agree = left is not null && right is not null && left.Kind == right.Kind
                    && (left.Text == right.Text || (HoldsMachineFigure(left.Text) && HoldsMachineFigure(right.Text)));
                if (!agree)
                {
                    differences.Add(new Disagreement(name, i, $"output {j + 1} differs: {firstName} {Describe(left)}; {secondName} {Describe(right)}"));
                    break;
                }
            }
        }

        return differences;
    }

    /// <summary>Counts the charts, heatmaps and tables in a notebook's outputs.</summary>
    /// <param name="notebook">An executed notebook.</param>
    /// <returns>The counts.</returns>
    public static OutputCounts Count(NotebookFile notebook)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        var html = string.Concat(notebook.CodeCells
            .SelectMany(cell => (cell["outputs"] as JsonArray ?? []).OfType<JsonObject>())
            .Select(output => NotebookFile.Text(output["data"]?["text/html"])));
        var charts = ChartStart().Split(html).Skip(1).ToList();
        return new OutputCounts(charts.Count, charts.Count(c => c.Contains("\"type\":\"heatmap\"", StringComparison.Ordinal)), TableStart().Count(html));
    }

    /// <summary>What a reader sees of each output of a cell, in order (see the class remarks); none for markdown cells.</summary>
    /// <param name="cell">A cell of an executed notebook.</param>
    /// <returns>One entry per output: its kind (output type and mime types, e.g. "display_data text/html") and its text (empty for a chart alone).</returns>
    public static IReadOnlyList<ShownOutput> Outputs(JsonNode? cell)
    {
        var shown = new List<ShownOutput>();
        foreach (var output in (cell?["outputs"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var type = (string?)output["output_type"] ?? "unknown";
            var data = output["data"] as JsonObject;
            var text = type switch
            {
                "stream" => NotebookFile.Text(output["text"]),
                "error" => $"{(string?)output["ename"]}: {(string?)output["evalue"]}",
                _ when data?["text/html"] is { } html => VisibleText(NotebookFile.Text(html)),
                _ => NotebookFile.Text(data?["text/plain"]),
            };
            var kind = type == "stream" ? $"stream {(string?)output["name"]}" : data is null ? type : $"{type} {string.Join(" ", data.Select(d => d.Key).Order(StringComparer.Ordinal))}";
            shown.Add(new ShownOutput(kind, Space().Replace(text, " ").Trim()));
        }

        return shown;
    }

    /// <summary>The text a browser would show of an HTML fragment: scripts and styles dropped, tags removed, entities decoded.</summary>
    /// <param name="html">An HTML fragment.</param>
    /// <returns>Its visible text.</returns>
    public static string VisibleText(string html) =>
        WebUtility.HtmlDecode(Tag().Replace(ScriptOrStyle().Replace(html, " "), " "));

    private static string FirstLine(string text) => text.Split('\n')[0];

    private static string Describe(ShownOutput? output) =>
        output is null ? "(no output)" : $"{output.Kind} \"{(output.Text.Length <= 240 ? output.Text : new StringBuilder(output.Text, 0, 240, 243).Append('…').ToString())}\"";

    [GeneratedRegex(@"\d(?:\s?)(?:ms|s|µs|ns|min|GFLOP/s|KiB|MiB|GiB)(?![\w/])|\((?:s|ms|µs|ns|KiB|MiB|GiB)\)|\bseconds\b|\bMiB allocated\b|\bn\^\d+\.\d+|\bis available\b")]
    private static partial Regex MachineFigure();

    [GeneratedRegex("class=\"na-chart\"")]
    private static partial Regex ChartStart();

    [GeneratedRegex("<table[\\s>]")]
    private static partial Regex TableStart();

    [GeneratedRegex(@"<(script|style)\b[^>]*>.*?</\1\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex ScriptOrStyle();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Space();
}
