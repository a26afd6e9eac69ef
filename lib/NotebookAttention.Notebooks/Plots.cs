using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Analysis;
using NotebookAttention.Attention;
using Plotly.NET;
using PlotlyChart = Plotly.NET.CSharp.Chart;

namespace NotebookAttention.Notebooks;

/// <summary>
/// The series' charts, drawn with Plotly.NET: attention heatmaps labelled with the tokens, grids of heads,
/// and line and bar charts for measurements. Every chart carries its numbers as a table.
/// </summary>
/// <remarks>
/// Heatmap axes are numeric (0, 1, 2, ...) with the tokens as tick text, so a word that occurs twice keeps two
/// rows (plotly merges repeated category labels). Rows run top to bottom like a matrix. Hovering a cell shows the
/// query token, the key token and the value. A long input is drawn as its first <see cref="LongInput.TokensShown"/>
/// tokens, said on the title and above the chart; hovering such a cell shows positions instead of tokens.
/// </remarks>
public static class Plots
{
    /// <summary>White for 0 to dark blue for the largest value.</summary>
    public static readonly object[][] WeightColors = [[0.0, "#f7fbff"], [0.35, "#9ecae1"], [0.7, "#3182bd"], [1.0, "#08306b"]];

    /// <summary>Rows and columns of a heatmap's numbers table at most (a 512 x 512 table would be megabytes of HTML).</summary>
    public const int TableSide = 64;

    /// <summary>Red for negative, white for 0, blue for positive.</summary>
    public static readonly object[][] SignedColors = [[0.0, "#b2182b"], [0.5, "#f7f7f7"], [1.0, "#2166ac"]];

    /// <summary>
    /// What the default titles of the attention charts say: until training (notebook 09) every such chart is drawn
    /// from random weights, and a reader must not look for meaning in it.
    /// </summary>
    public const string Untrained = "untrained weights";

    /// <summary>Attention weights as a heatmap on the fixed scale 0 to 1: row = query, column = key.</summary>
    /// <param name="result">An attention result.</param>
    /// <param name="title">Chart title; the default says the weights are untrained (pass a title for a trained model).</param>
    public static Figure Weights(AttentionResult result, string title = "Attention weights (" + Untrained + ")")
    {
        ArgumentNullException.ThrowIfNull(result);
        return Heatmap(result.Weights, result.QueryTokens, result.KeyTokens, title, "weight", 0, 1);
    }

    /// <summary>Scores as a heatmap, before or after the mask (masked cells are left empty and marked −∞).</summary>
    /// <param name="result">An attention result.</param>
    /// <param name="masked">Show the masked scores instead of the raw ones.</param>
    /// <param name="title">Chart title, or null for a default that says the weights are untrained.</param>
    public static Figure Scores(AttentionResult result, bool masked = false, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var scores = masked ? result.MaskedScores : result.Scores;
        var limit = MaxAbs(scores);
        return Heatmap(scores, result.QueryTokens, result.KeyTokens, title ?? $"{(masked ? "Masked scores" : "Scores")} ({Untrained})", "score", -limit, limit, colors: SignedColors);
    }

    /// <summary>Scores, masked scores and weights side by side: the three steps of one head.</summary>
    /// <param name="result">An attention result.</param>
    /// <param name="title">Heading above the three charts; it is followed by "untrained weights" unless it says so.</param>
    public static FigureGrid Steps(AttentionResult result, string title = "")
    {
        ArgumentNullException.ThrowIfNull(result);
        var heading = title.Contains("untrained", StringComparison.OrdinalIgnoreCase) ? title
            : string.IsNullOrWhiteSpace(title) ? $"Scores, masked scores and weights ({Untrained})"
            : $"{title} ({Untrained})";
        return new FigureGrid([Scores(result, title: "Scores"), Scores(result, masked: true, title: "Masked scores"), Weights(result, "Weights")], 3, heading);
    }

    /// <summary>One weights heatmap per head, all on the same 0 to 1 colour scale, headed as untrained weights.</summary>
    /// <param name="result">A multi-head attention result.</param>
    /// <param name="columns">Heads per row.</param>
    /// <param name="title">Heading above the grid, or null for "h heads, untrained weights, on one scale from 0 to 1".</param>
    public static FigureGrid Heads(MultiHeadAttentionResult result, int columns = 2, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var size = Math.Clamp(120 + (18 * result.Tokens.Count), 260, 520);
        var figures = result.Heads
            .Select((head, i) => Heatmap(head.Weights, head.QueryTokens, head.KeyTokens, $"Head {i}", "weight", 0, 1, showScale: i == result.HeadCount - 1, size: size))
            .ToList();
        return new FigureGrid(figures, Math.Clamp(columns, 1, result.HeadCount), title ?? $"{result.HeadCount} heads, {Untrained}, on one scale from 0 to 1");
    }

    /// <summary>
    /// The four weight maps of a <see cref="ScalingDemonstration"/> on one 0 to 1 colour scale: the small d_k above
    /// the large one, without the scale on the left and with 1/√d_k on the right.
    /// </summary>
    /// <returns>A 2 x 2 grid.</returns>
    public static FigureGrid Scaling(ScalingDemonstration demonstration)
    {
        ArgumentNullException.ThrowIfNull(demonstration);
        Figure Map(Matrix<double> weights, int dK, bool scaled) =>
            Heatmap(weights, demonstration.Tokens, demonstration.Tokens, $"d_k = {dK}, {(scaled ? "scaled by 1/√d_k" : "no scale")}", "weight", 0, 1);
        return new FigureGrid(
            [
                Map(demonstration.SmallUnscaled, demonstration.SmallDk, scaled: false),
                Map(demonstration.SmallScaled, demonstration.SmallDk, scaled: true),
                Map(demonstration.LargeUnscaled, demonstration.LargeDk, scaled: false),
                Map(demonstration.LargeScaled, demonstration.LargeDk, scaled: true),
            ],
            2,
            "How peaked, not where they look: untrained weights (random projections, Q and K entries of variance 1)");
    }

    /// <summary>A matrix of vectors (one row per token, one column per dimension), e.g. X, Q, K or V.</summary>
    /// <param name="values">The matrix, [tokens x d].</param>
    /// <param name="tokens">One label per row.</param>
    /// <param name="title">Chart title.</param>
    /// <returns>The figure, on a colour scale symmetric around 0.</returns>
    public static Figure Vectors(Matrix<double> values, IReadOnlyList<string> tokens, string title)
    {
        ArgumentNullException.ThrowIfNull(values);
        var dimensions = Enumerable.Range(0, values.ColumnCount).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        var limit = MaxAbs(values);
        return DrawHeatmap(values, tokens, dimensions, title, "value", -limit, limit, rowAxis: "token", columnAxis: "dimension", colors: SignedColors, columnItems: "dimensions");
    }

    /// <summary>Any matrix as a heatmap with labelled rows and columns.</summary>
    /// <param name="values">The matrix; minus infinity marks masked cells.</param>
    /// <param name="rowLabels">One label per row.</param>
    /// <param name="columnLabels">One label per column.</param>
    /// <param name="title">Chart title.</param>
    /// <param name="valueName">What a cell holds, for the hover text and colour bar.</param>
    /// <param name="min">Bottom of the colour scale, or null to fit the data.</param>
    /// <param name="max">Top of the colour scale, or null to fit the data.</param>
    /// <param name="rowAxis">Name of the row axis.</param>
    /// <param name="columnAxis">Name of the column axis.</param>
    /// <param name="colors">A plotly colour scale ([position, colour] pairs); null for <see cref="WeightColors"/>.</param>
    /// <param name="showScale">Whether to draw the colour bar.</param>
    /// <param name="size">Width in pixels, or null to fit the number of labels.</param>
    /// <param name="missing">What hovering an empty (minus infinity) cell says.</param>
    /// <returns>The figure: the first <see cref="LongInput.TokensShown"/> rows and columns of a larger matrix (they are tokens in this series), with a note saying so.</returns>
    /// <exception cref="ArgumentException">The label counts do not match the matrix, or a value is NaN.</exception>
    public static Figure Heatmap(
        Matrix<double> values,
        IReadOnlyList<string> rowLabels,
        IReadOnlyList<string> columnLabels,
        string title,
        string valueName = "value",
        double? min = null,
        double? max = null,
        string rowAxis = "query",
        string columnAxis = "key",
        object[][]? colors = null,
        bool showScale = true,
        int? size = null,
        string missing = "masked (−∞)") =>
        DrawHeatmap(values, rowLabels, columnLabels, title, valueName, min, max, rowAxis, columnAxis, colors, showScale, size, missing, columnItems: "tokens");

    /// <summary>
    /// <see cref="Heatmap"/> with the note of a cut picture: computed here when the matrix is larger than
    /// <see cref="LongInput.TokensShown"/>, or <paramref name="cutNote"/> when the caller computed only the part shown.
    /// </summary>
    internal static Figure DrawHeatmap(
        Matrix<double> values,
        IReadOnlyList<string> rowLabels,
        IReadOnlyList<string> columnLabels,
        string title,
        string valueName = "value",
        double? min = null,
        double? max = null,
        string rowAxis = "query",
        string columnAxis = "key",
        object[][]? colors = null,
        bool showScale = true,
        int? size = null,
        string missing = "masked (−∞)",
        string columnItems = "tokens",
        string cutNote = "")
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(columnLabels);
        if (rowLabels.Count != values.RowCount || columnLabels.Count != values.ColumnCount)
        {
            throw new ArgumentException(
                $"the matrix is [{values.RowCount} x {values.ColumnCount}] but there are {rowLabels.Count} row labels and {columnLabels.Count} column labels: give one label per row and per column.",
                nameof(rowLabels));
        }

        if (values.Enumerate().Any(double.IsNaN))
        {
            throw new ArgumentException($"the matrix \"{title}\" holds NaN: a chart of it would be blank. Look at the step that produced it.", nameof(values));
        }

        rowLabels = [.. rowLabels.Select(LongInput.Label)];
        columnLabels = [.. columnLabels.Select(LongInput.Label)];
        var table = NumbersTable(values, rowLabels, columnLabels, $"{rowAxis} \\ {columnAxis}");
        var (allRows, allColumns) = (values.RowCount, values.ColumnCount);
        var note = cutNote.Length > 0 ? cutNote : CutNote(LongInput.Shown(allRows), allRows, LongInput.Shown(allColumns), allColumns, columnItems);
        values = values.SubMatrix(0, LongInput.Shown(allRows), 0, LongInput.Shown(allColumns));
        rowLabels = [.. rowLabels.Take(values.RowCount)];
        columnLabels = [.. columnLabels.Take(values.ColumnCount)];
        var rows = Enumerable.Range(0, values.RowCount);
        var columns = Enumerable.Range(0, values.ColumnCount);
        var z = rows.Select(r => columns.Select(c => double.IsNegativeInfinity(values[r, c]) ? (double?)null : values[r, c]).ToArray()).ToArray();
        var drawable = z.Select(row => row.Select(v => v ?? 0.0).ToArray()).ToArray();
        var chart = PlotlyChart.Heatmap<double, int, int, string>(zData: drawable, X: columns.ToArray(), Y: rows.ToArray());
        var trace = GenericChart.getTraces(chart).Single();
        trace.SetProperty("z", z);
        if (note.Length == 0)
        {
            var hover = rows.Select(r => columns.Select(c =>
                $"{rowAxis}: {rowLabels[r]} ({r})<br>{columnAxis}: {columnLabels[c]} ({c})<br>{valueName}: {(double.IsNegativeInfinity(values[r, c]) ? missing : values[r, c].ToString("0.000000", CultureInfo.InvariantCulture))}").ToArray()).ToArray();
            trace.SetProperty("text", hover);
            trace.SetProperty("hovertemplate", "%{text}<extra></extra>");
        }
        else
        {
            // A cut picture is a long input: per-cell hover text would triple its size; the ticks name the tokens.
            trace.SetProperty("hovertemplate", $"{rowAxis}: %{{y}}<br>{columnAxis}: %{{x}}<br>{valueName}: %{{z:.6f}}<extra></extra>");
        }

        trace.SetProperty("colorscale", colors ?? WeightColors);
        trace.SetProperty("showscale", showScale);
        trace.SetProperty("xgap", values.ColumnCount <= 40 ? 1 : 0);
        trace.SetProperty("ygap", values.RowCount <= 40 ? 1 : 0);
        trace.SetProperty("colorbar", new Dictionary<string, object> { ["title"] = new Dictionary<string, object> { ["text"] = valueName } });
        if (min is { } low)
        {
            trace.SetProperty("zmin", low);
        }

        if (max is { } high)
        {
            trace.SetProperty("zmax", high);
        }

        var width = Math.Min(size ?? Math.Clamp(160 + (22 * values.ColumnCount), 320, Figure.MaxWidth), Figure.MaxWidth);
        var height = size ?? Math.Clamp(140 + (22 * values.RowCount), 300, 900);
        Style(chart, title, width, height, note);
        var layout = GenericChart.getLayout(chart);
        layout.SetProperty("xaxis", Axis(columnAxis, columnLabels, reversed: false, automargin: note.Length == 0));
        layout.SetProperty("yaxis", Axis(rowAxis, rowLabels, reversed: true, automargin: note.Length == 0));
        if (note.Length > 0)
        {
            FixMargins(layout, rowLabels, columnLabels);
        }

        return new Figure(chart, title, table, width, height, note);
    }

    /// <summary>Lines of measurements against x, one per named series.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="xTitle">x axis title.</param>
    /// <param name="yTitle">y axis title.</param>
    /// <param name="x">x values, shared by every series.</param>
    /// <param name="series">Named y values, each as long as <paramref name="x"/>.</param>
    /// <param name="logX">Logarithmic x axis.</param>
    /// <param name="logY">Logarithmic y axis.</param>
    /// <exception cref="ArgumentException">A series has the wrong length or a value that is not finite.</exception>
    public static Figure Lines(string title, string xTitle, string yTitle, IReadOnlyList<double> x, IReadOnlyList<(string Name, IReadOnlyList<double> Y)> series, bool logX = false, bool logY = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(series);
        foreach (var (name, y) in series)
        {
            if (y.Count != x.Count)
            {
                throw new ArgumentException($"series \"{name}\" has {y.Count} values but there are {x.Count} x values: give one value per x.", nameof(series));
            }

            if (y.Any(v => !double.IsFinite(v)) || (logY && y.Any(v => v <= 0)))
            {
                throw new ArgumentException($"series \"{name}\" has a value that cannot be drawn ({(logY ? "zero, negative, " : string.Empty)}NaN or infinity): check the measurement.", nameof(series));
            }
        }

        var lines = series.Select(s => PlotlyChart.Line<double, double, string>(x, s.Y, ShowMarkers: true, Name: s.Name)).ToList();
        var chart = GenericChart.combine(lines);
        Style(chart, title, 540, 400);
        var layout = GenericChart.getLayout(chart);
        layout.SetProperty("xaxis", ValueAxis(xTitle, logX));
        layout.SetProperty("yaxis", ValueAxis(yTitle, logY));
        var table = Table.OfColumns([xTitle, .. series.Select(s => s.Name)], x, [.. series.Select(s => s.Y)]);
        return new Figure(chart, title, table, 540, 400);
    }

    /// <summary>
    /// Measured curves, each with its own x values, with optional vertical markers (e.g. "score matrix leaves L2").
    /// </summary>
    /// <param name="title">Chart title.</param>
    /// <param name="xTitle">x axis title.</param>
    /// <param name="yTitle">y axis title.</param>
    /// <param name="curves">Named curves.</param>
    /// <param name="markers">Vertical lines with labels; none by default.</param>
    /// <param name="logX">Logarithmic x axis.</param>
    /// <param name="logY">Logarithmic y axis.</param>
    /// <exception cref="ArgumentException">A curve has mismatched lengths or a value that cannot be drawn.</exception>
    public static Figure Curves(
        string title, string xTitle, string yTitle,
        IReadOnlyList<(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)> curves,
        IReadOnlyList<(double X, string Label)>? markers = null,
        bool logX = true, bool logY = true)
    {
        ArgumentNullException.ThrowIfNull(curves);
        foreach (var (name, x, y) in curves)
        {
            if (x.Count != y.Count || x.Count == 0)
            {
                throw new ArgumentException($"curve \"{name}\" has {x.Count} x and {y.Count} y values: it needs at least one point and one y per x.", nameof(curves));
            }

            if (x.Concat(y).Any(v => !double.IsFinite(v)) || (logX && x.Any(v => v <= 0)) || (logY && y.Any(v => v <= 0)))
            {
                throw new ArgumentException($"curve \"{name}\" has a value that cannot be drawn on this axis (zero, negative, NaN or infinity): check the measurement.", nameof(curves));
            }
        }

        var chart = GenericChart.combine(curves.Select(c => PlotlyChart.Line<double, double, string>(c.X, c.Y, ShowMarkers: true, Name: c.Name)).ToList());
        Style(chart, title, 640, 480);
        var layout = GenericChart.getLayout(chart);

        // The legend goes under the plot, one row per curve if need be: beside it, long names (fitted exponents,
        // "does not grow with n ...") took the width from the plot itself.
        layout.SetProperty("legend", new Dictionary<string, object> { ["orientation"] = "h", ["x"] = 0, ["xanchor"] = "left", ["y"] = -0.22, ["yanchor"] = "top" });
        layout.SetProperty("xaxis", ValueAxis(xTitle, logX));
        layout.SetProperty("yaxis", ValueAxis(yTitle, logY));
        var lines = markers ?? [];
        layout.SetProperty("shapes", lines.Select(m => new Dictionary<string, object>
        {
            ["type"] = "line", ["xref"] = "x", ["yref"] = "paper", ["x0"] = m.X, ["x1"] = m.X, ["y0"] = 0, ["y1"] = 1,
            ["line"] = new Dictionary<string, object> { ["color"] = "#888", ["dash"] = "dot", ["width"] = 1 },
        }).ToArray());
        layout.SetProperty("annotations", lines.Select((m, i) => new Dictionary<string, object>
        {
            // plotly places annotations on a log axis by log10 of the value, but shapes by the value itself.
            ["x"] = logX ? Math.Log10(m.X) : m.X, ["xref"] = "x", ["yref"] = "paper", ["y"] = 1 - (0.06 * (i % 4)), ["text"] = m.Label,
            ["showarrow"] = false, ["xanchor"] = "left", ["font"] = new Dictionary<string, object> { ["size"] = 10, ["color"] = "#555" },
        }).ToArray());
        var header = new List<string> { "curve", xTitle, yTitle };
        var rows = curves.SelectMany(c => c.X.Select((x, i) => (IReadOnlyList<string>)[x.ToString("G6", CultureInfo.InvariantCulture), c.Y[i].ToString("G6", CultureInfo.InvariantCulture)])).ToList();
        var labels = curves.SelectMany(c => c.X.Select(_ => c.Name)).ToList();
        var table = Table.Of(header, labels, rows)
            + (lines.Count == 0 ? string.Empty : Table.Of(["marker", "x"], [.. lines.Select(m => m.Label)], [.. lines.Select(m => (IReadOnlyList<string>)[m.X.ToString("G6", CultureInfo.InvariantCulture)])]));
        return new Figure(chart, title, table, 640, 480);
    }

    /// <summary>A bar per label.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="labels">Bar labels (tokens may repeat; each keeps its own bar).</param>
    /// <param name="values">Bar heights.</param>
    /// <param name="valueTitle">y axis title.</param>
    public static Figure Bars(string title, IReadOnlyList<string> labels, IReadOnlyList<double> values, string valueTitle = "value") =>
        Bars(title, labels, values, valueTitle, string.Empty);

    /// <summary><see cref="Bars(string, IReadOnlyList{string}, IReadOnlyList{double}, string)"/> with what the picture leaves out (<paramref name="cutNote"/>).</summary>
    internal static Figure Bars(string title, IReadOnlyList<string> labels, IReadOnlyList<double> values, string valueTitle, string cutNote)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(values);
        if (labels.Count != values.Count)
        {
            throw new ArgumentException($"there are {labels.Count} labels but {values.Count} values: give one value per bar.", nameof(values));
        }

        var shown = LongInput.Shown(labels.Count);
        var note = shown < labels.Count ? LongInput.Note(shown, labels.Count, "bars") : cutNote;
        labels = [.. labels.Take(shown).Select(LongInput.Label)];
        var positions = Enumerable.Range(0, shown).ToArray();
        var chart = PlotlyChart.Column<double, int, string>(values.Take(shown), Keys: positions, Name: valueTitle);
        var width = Math.Clamp(200 + (30 * shown), 400, Figure.MaxWidth);
        Style(chart, title, width, 360, note);
        var layout = GenericChart.getLayout(chart);
        layout.SetProperty("xaxis", Axis(string.Empty, labels, reversed: false));
        layout.SetProperty("yaxis", ValueAxis(valueTitle, log: false));
        var table = Table.Of(["#", "label", valueTitle], [.. positions.Select(p => p.ToString(CultureInfo.InvariantCulture))],
            [.. positions.Select(p => (IReadOnlyList<string>)[labels[p], values[p].ToString("G6", CultureInfo.InvariantCulture)])]);
        return new Figure(chart, title, table, width, 360, note);
    }

    /// <summary>Figures in a grid with the given number of columns.</summary>
    /// <param name="columns">Figures per row.</param>
    /// <param name="figures">The figures.</param>
    public static FigureGrid Grid(int columns, params Figure[] figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        return new FigureGrid(figures, Math.Max(1, columns), string.Empty);
    }

    /// <summary>Figures side by side in one row.</summary>
    public static FigureGrid Row(params Figure[] figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        return new FigureGrid(figures, Math.Max(1, figures.Length), string.Empty);
    }

    private static void Style(GenericChart chart, string title, int width, int height, string note = "")
    {
        var layout = GenericChart.getLayout(chart);
        layout.RemoveProperty("template");
        layout.SetProperty("title", new Dictionary<string, object> { ["text"] = LongInput.ChartTitle(title, note), ["x"] = 0.02 });
        layout.SetProperty("width", width);
        layout.SetProperty("height", height);
        layout.SetProperty("margin", new Dictionary<string, object> { ["l"] = 90, ["r"] = 20, ["t"] = note.Length == 0 ? 60 : 80, ["b"] = 90 });
        layout.SetProperty("font", new Dictionary<string, object> { ["family"] = "sans-serif", ["size"] = 12 });
        layout.SetProperty("paper_bgcolor", "white");
        layout.SetProperty("plot_bgcolor", "white");
    }

    private static Dictionary<string, object> Axis(string title, IReadOnlyList<string> labels, bool reversed, bool automargin = true)
    {
        var axis = new Dictionary<string, object>
        {
            ["title"] = new Dictionary<string, object> { ["text"] = title },
            ["tickmode"] = "array",
            ["tickvals"] = Enumerable.Range(0, labels.Count).ToArray(),
            ["ticktext"] = labels.ToArray(),
            ["showgrid"] = false,
            ["zeroline"] = false,
            ["automargin"] = automargin,
        };
        if (reversed)
        {
            axis["autorange"] = "reversed";
        }

        return axis;
    }

    /// <summary>
    /// Margins wide enough for the tick labels, instead of plotly's automargin: on a page of 21 cut heatmaps
    /// (notebook 04 with a long paragraph) automargin's extra layout passes took a third of the drawing time.
    /// Labels are at most <see cref="LongInput.LabelLength"/> characters, so the margin stays bounded.
    /// </summary>
    private static void FixMargins(Layout layout, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels)
    {
        static int Room(IReadOnlyList<string> labels) => Math.Clamp(40 + (7 * labels.Select(l => l.Length).DefaultIfEmpty(0).Max()), 90, 220);
        layout.SetProperty("margin", new Dictionary<string, object> { ["l"] = Room(rowLabels), ["r"] = 20, ["t"] = 80, ["b"] = Room(columnLabels) });
    }

    private static Dictionary<string, object> ValueAxis(string title, bool log) => new()
    {
        ["title"] = new Dictionary<string, object> { ["text"] = title },
        ["type"] = log ? "log" : "linear",
        ["gridcolor"] = "#e5e5e5",
        ["automargin"] = true,
    };

    /// <summary>A heatmap's numbers: the first <see cref="TableSide"/> rows and columns, saying so when there are more.</summary>
    private static string NumbersTable(Matrix<double> values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, string corner)
    {
        var rows = Math.Min(values.RowCount, TableSide);
        var columns = Math.Min(values.ColumnCount, TableSide);
        var table = Table.Of(values.SubMatrix(0, rows, 0, columns), rowLabels.Take(rows).ToList(), columnLabels.Take(columns).ToList(), corner);
        return rows < values.RowCount || columns < values.ColumnCount
            ? $"<div style=\"font:12px sans-serif;margin:4px 0\">The first {rows} of {values.RowCount} rows and {columns} of {values.ColumnCount} columns (the chart draws at most {LongInput.TokensShown}); the matrix itself holds every number.</div>" + table
            : table;
    }

    /// <summary>The note of a heatmap cut to its first rows and columns; rows are tokens in every heatmap of the series.</summary>
    private static string CutNote(int rowsShown, int rows, int columnsShown, int columns, string columnItems)
    {
        var rowsCut = rowsShown < rows;
        var columnsCut = columnsShown < columns;
        if (rowsCut && columnsCut && rows == columns && columnItems == "tokens")
        {
            return LongInput.Note(rowsShown, rows, "tokens");
        }

        return (rowsCut, columnsCut) switch
        {
            (true, true) => LongInput.Note(rowsShown, rows, "tokens") + " and " + LongInput.Note(columnsShown, columns, columnItems)["showing ".Length..],
            (true, false) => LongInput.Note(rowsShown, rows, "tokens"),
            (false, true) => LongInput.Note(columnsShown, columns, columnItems),
            _ => string.Empty,
        };
    }

    private static double MaxAbs(Matrix<double> values)
    {
        var finite = values.Enumerate().Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        return finite > 0 ? finite : 1;
    }
}
