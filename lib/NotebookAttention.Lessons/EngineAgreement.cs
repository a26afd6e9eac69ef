using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Notebooks;

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

/// <summary>How many outputs a comparison of two executed notebooks checked, and how.</summary>
/// <param name="Exact">Outputs whose whole text matched with nothing masked.</param>
/// <param name="Masked">Outputs that matched once their machine figures were masked.</param>
/// <param name="Excused">Outputs of cells tagged <see cref="EngineAgreement.TimingDependentTag"/> (compared by kind only), and
/// outputs of cells holding an element marked <see cref="LongRangeTraining.TimingDependentAttribute"/> (compared with that
/// element masked).</param>
public sealed record AgreementTally(int Exact, int Masked, int Excused)
{
    /// <summary>The sum of two tallies.</summary>
    public static AgreementTally operator +(AgreementTally a, AgreementTally b) =>
        new(a.Exact + b.Exact, a.Masked + b.Masked, a.Excused + b.Excused);

    /// <inheritdoc />
    public override string ToString() => $"{Exact} outputs compared exactly, {Masked} with machine figures masked, {Excused} excused as timing-dependent";
}

/// <summary>
/// Proof that two engines (or an engine and an exported app) produce the same lessons: two executed copies of a
/// notebook agree when both ran to the end (or both failed at the same cell with the same first line of the error),
/// they show the same number of charts, heatmaps and tables, and every code cell shows outputs of the same kinds in
/// the same order with the same texts once <see cref="MaskMachineFigures">machine figures are masked</see>.
/// </summary>
/// <remarks>
/// A text is what a reader sees of an output: a stream's text, a <c>text/plain</c> value, or the visible text of a
/// <c>text/html</c> value (scripts, styles and tags removed, entities decoded, white space collapsed), so chart ids
/// and the formatter's style sheets do not count, but every caption, table cell and sentence does. When either copy
/// failed, only where and how it failed is compared: the kernel keeps running after a failing cell and the scripting
/// engine stops, so later outputs are not comparable.
/// </remarks>
public static partial class EngineAgreement
{
    /// <summary>
    /// The Jupyter cell tag (in the cell's <c>metadata.tags</c>) that excuses a cell's output texts: its outputs are
    /// compared by kind only. It belongs on the few cells whose words, not only figures, follow from timings: the
    /// sweeps of notebook 06, where the time budget decides how many lengths are measured and so what the tables,
    /// fits and verdicts say, and notebook 07's timing table, whose speed ratios and verdict come from timings.
    /// </summary>
    public const string TimingDependentTag = "timing-dependent";

    /// <summary>What a masked machine figure reads as.</summary>
    public const string MaskedFigure = "‹figure›";

    /// <summary>
    /// The one rule for what may differ between two runs of a lesson: a machine figure, that is a measurement of this
    /// machine, recognised by its unit. Each is replaced by <see cref="MaskedFigure"/> and the rest of the text must
    /// match to the character. A figure is a number with a unit of time, speed or memory (<c>0.787 ms</c>,
    /// <c>3.5 s</c>, <c>12 GFLOP/s</c>, <c>0.27 MiB</c>, <c>21.7 GiB</c>; also µs, ns, min, KiB). Words are never
    /// masked: a loss, an accuracy, a count, <c>layer(s) 4</c> or a verdict beside a figure is compared exactly.
    /// In an HTML table, the cells of a column whose header holds a unit (<c>seconds</c>, <c>ms per step</c>,
    /// <c>MiB allocated</c>, or a unit in brackets after a space: <c>RNN 1 core (ms)</c>, <c>tiled (s)</c>) are
    /// masked whole, because they carry bare numbers; see <see cref="MaskMachineFigureColumns"/>. An exponent fitted to
    /// timings (<c>n^1.85</c>) is not masked: it only appears in cells tagged <see cref="TimingDependentTag"/>.
    /// </summary>
    /// <remarks>
    /// Found by running the series on both engines: outside the tagged cells of 06 and 07, the only outputs that
    /// differed held timings or memory figures (06's FMA share and size estimate, 07's timing chart, 08's load time,
    /// the seconds in the training lines of 09 and 10, 10's ms-per-step column and timing chart).
    /// </remarks>
    /// <param name="text">A text output.</param>
    /// <returns>The text with every machine figure replaced by <see cref="MaskedFigure"/>.</returns>
    public static string MaskMachineFigures(string text) => MachineFigure().Replace(text, MaskedFigure);

    /// <summary>True when the text holds a machine figure (see <see cref="MaskMachineFigures"/>).</summary>
    /// <param name="text">A text output.</param>
    /// <returns>Whether masking changes it.</returns>
    public static bool HoldsMachineFigure(string text) => MachineFigure().IsMatch(text);

    /// <summary>
    /// Masks the text of every element a page marks with <see cref="LongRangeTraining.TimingDependentAttribute"/>: a
    /// sentence inside a lesson's output whose words follow from timings (notebook 10's growth of the time per training
    /// step). The rest of that output is compared as usual.
    /// </summary>
    /// <param name="html">An HTML fragment.</param>
    /// <returns>The fragment with each marked element's content replaced by <see cref="MaskedFigure"/>.</returns>
    public static string MaskTimingDependent(string html) => TimingDependentElement().Replace(html, m => $"<{m.Groups["tag"].Value}>{MaskedFigure}</{m.Groups["tag"].Value}>");

    /// <summary>
    /// Masks, in every HTML table of a fragment, the cells of the columns whose header (the first row) holds a unit of
    /// time, speed or memory: <c>seconds</c>, <c>ms per step</c>, <c>MiB allocated</c>, <c>(ms)</c> or <c>(s)</c>
    /// after a space. Other columns (counts, accuracies, verdicts, ratios) are kept.
    /// </summary>
    /// <param name="html">An HTML fragment.</param>
    /// <returns>The fragment with those cells' contents replaced by <see cref="MaskedFigure"/>.</returns>
    public static string MaskMachineFigureColumns(string html) => TableElement().Replace(html, table =>
    {
        var rows = Row().Matches(table.Value);
        if (rows.Count == 0)
        {
            return table.Value;
        }

        var headers = TableCell().Matches(rows[0].Value).Select(c => VisibleText(c.Groups["content"].Value).Trim()).ToList();
        var unitColumns = headers.Select((header, i) => (header, i)).Where(h => UnitHeader().IsMatch(h.header)).Select(h => h.i).ToHashSet();
        if (unitColumns.Count == 0)
        {
            return table.Value;
        }

        return Row().Replace(table.Value, row =>
        {
            if (row.Index == rows[0].Index)
            {
                return row.Value;
            }

            var column = 0;
            return TableCell().Replace(row.Value, cell =>
            {
                var content = cell.Groups["content"];
                var start = content.Index - cell.Index;
                return unitColumns.Contains(column++) ? string.Concat(cell.Value.AsSpan(0, start), MaskedFigure, cell.Value.AsSpan(start + content.Length)) : cell.Value;
            });
        });
    });

    /// <summary>Compares two folders of executed notebooks, matched by file name.</summary>
    /// <param name="first">A folder of executed .ipynb files (e.g. artifacts/series).</param>
    /// <param name="second">Another (e.g. artifacts/scripting).</param>
    /// <param name="only">The file names of the notebooks to compare (those a run just executed, so stale files of an
    /// earlier run are left out), or null for every .ipynb in either folder.</param>
    /// <returns>Every disagreement; empty when the folders agree. A notebook in one folder only is a disagreement.</returns>
    /// <exception cref="DirectoryNotFoundException">A folder does not exist.</exception>
    public static IReadOnlyList<Disagreement> CompareFolders(string first, string second, IReadOnlyCollection<string>? only = null)
    {
        foreach (var folder in new[] { first, second })
        {
            if (!Directory.Exists(folder))
            {
                throw new DirectoryNotFoundException($"{folder} does not exist: run the series into it first (dotnet run --project notebooks/runner -- --engine ...).");
            }
        }

        static IEnumerable<string> Names(string folder) => Directory.GetFiles(folder, "*.ipynb").Select(Path.GetFileName).OfType<string>();
        var names = (only ?? Names(first).Union(Names(second))).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
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
            return first is not null && second is not null && firstStatus == secondStatus
                ? []
                : [new Disagreement(name, -1, $"{firstName}: {firstStatus}; {secondName}: {secondStatus}")];
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
            var excused = IsTimingDependent(first.Cells[i]) || IsTimingDependent(second.Cells[i]);
            var (a, b) = (Outputs(first.Cells[i], masked: true), Outputs(second.Cells[i], masked: true));
            for (var j = 0; j < Math.Max(a.Count, b.Count); j++)
            {
                var left = j < a.Count ? a[j] : null;
                var right = j < b.Count ? b[j] : null;
                var agree = left is not null && right is not null && left.Kind == right.Kind && (excused || left.Text == right.Text);
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
    public static IReadOnlyList<ShownOutput> Outputs(JsonNode? cell) => Outputs(cell, masked: false);

    /// <summary>How two executed copies of a notebook that agree were compared: outputs matched exactly, after masking, or excused.</summary>
    /// <param name="first">One executed copy.</param>
    /// <param name="second">The other.</param>
    /// <returns>The tally over the cells both hold.</returns>
    public static AgreementTally Tally(NotebookFile first, NotebookFile second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var (exact, masked, excused) = (0, 0, 0);
        for (var i = 0; i < Math.Min(first.Cells.Count, second.Cells.Count); i++)
        {
            var outputs = Math.Min(Outputs(first.Cells[i]).Count, Outputs(second.Cells[i]).Count);
            if (IsTimingDependent(first.Cells[i]) || IsTimingDependent(second.Cells[i]))
            {
                excused += outputs;
                continue;
            }

            var (a, b) = (Outputs(first.Cells[i]), Outputs(second.Cells[i]));
            var (ma, mb) = (Outputs(first.Cells[i], masked: true), Outputs(second.Cells[i], masked: true));
            var marked = (first.Cells[i]?["outputs"] as JsonArray ?? []).Concat(second.Cells[i]?["outputs"] as JsonArray ?? [])
                .Any(o => NotebookFile.Text(o?["data"]?["text/html"]).Contains(LongRangeTraining.TimingDependentAttribute, StringComparison.Ordinal));
            for (var j = 0; j < outputs; j++)
            {
                if (marked)
                {
                    excused++;
                }
                else if (a[j].Text == ma[j].Text && b[j].Text == mb[j].Text)
                {
                    exact++;
                }
                else
                {
                    masked++;
                }
            }
        }

        return new AgreementTally(exact, masked, excused);
    }

    /// <summary>Whether a cell carries the <see cref="TimingDependentTag"/> tag.</summary>
    /// <param name="cell">A cell of a notebook.</param>
    /// <returns>True when its <c>metadata.tags</c> hold the tag.</returns>
    public static bool IsTimingDependent(JsonNode? cell) =>
        cell?["metadata"]?["tags"] is JsonArray tags && tags.Any(t => t is JsonValue v && v.TryGetValue<string>(out var tag) && tag == TimingDependentTag);

    private static List<ShownOutput> Outputs(JsonNode? cell, bool masked)
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
                _ when data?["text/html"] is { } html => VisibleText(masked ? MaskTimingDependent(MaskMachineFigureColumns(NotebookFile.Text(html))) : NotebookFile.Text(html)),
                _ => NotebookFile.Text(data?["text/plain"]),
            };
            var kind = type == "stream" ? $"stream {(string?)output["name"]}" : data is null ? type : $"{type} {string.Join(" ", data.Select(d => d.Key).Order(StringComparer.Ordinal))}";
            var shownText = Space().Replace(text, " ").Trim();
            shown.Add(new ShownOutput(kind, masked ? MaskMachineFigures(shownText) : shownText));
        }

        return shown;
    }

    /// <summary>The text a browser would show of an HTML fragment: scripts and styles dropped, tags removed, entities decoded.</summary>
    /// <param name="html">An HTML fragment.</param>
    public static string VisibleText(string html) =>
        WebUtility.HtmlDecode(Tag().Replace(ScriptOrStyle().Replace(html, " "), " "));

    private static string FirstLine(string text) => text.Split('\n')[0];

    private static string Describe(ShownOutput? output) =>
        output is null ? "(no output)" : $"{output.Kind} \"{(output.Text.Length <= 240 ? output.Text : new StringBuilder(output.Text, 0, 240, 243).Append('…').ToString())}\"";

    [GeneratedRegex(@"(?<![\w.,])\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?\s?(?:ms|s|seconds|µs|ns|min|GFLOP/s|KiB|MiB|GiB)(?![\w/])")]
    private static partial Regex MachineFigure();

    [GeneratedRegex(@"(?<=^|\s)(?:\((?:s|ms|µs|ns|min|KiB|MiB|GiB)\)|(?:seconds|ms|µs|ns|GFLOP/s|KiB|MiB|GiB)(?=\s|$))")]
    private static partial Regex UnitHeader();

    [GeneratedRegex(@"<(?<tag>\w+)\b[^>]*\s" + LongRangeTraining.TimingDependentAttribute + @"\b[^>]*>.*?</\k<tag>\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex TimingDependentElement();

    [GeneratedRegex(@"<table\b.*?</table\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex TableElement();

    [GeneratedRegex(@"<tr\b.*?</tr\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex Row();

    [GeneratedRegex(@"<t[hd]\b[^>]*>(?<content>.*?)</t[hd]\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex TableCell();

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
