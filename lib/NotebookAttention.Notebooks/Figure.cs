using System.Net;
using System.Text;
using Plotly.NET;

namespace NotebookAttention.Notebooks;

/// <summary>
/// A Plotly.NET chart with its numbers as a table. In a notebook it displays as the chart (drawn by an offline
/// copy of plotly.js) with the table folded underneath.
/// </summary>
public sealed class Figure
{
    /// <summary>
    /// The widest a chart is drawn, in pixels: a VS Code notebook gives its outputs about 800 to 900 pixels, Jupyter
    /// about 90 fewer (its In [ ] column sits beside every output; at 800 px, 08's layer grid reached 885 px of an
    /// 816 px Jupyter page), the runner's pages 1068. A wider chart would be cut at the edge of the output; rows of
    /// charts wrap instead (<see cref="FigureGrid"/>).
    /// </summary>
    public const int MaxWidth = 700;

    private static int counter;

    internal Figure(GenericChart chart, string title, string table, int width, int height, string note = "")
    {
        Chart = chart;
        Title = LongInput.Titled(title, note);
        TableHtml = table;
        Width = width;
        Height = height;
        Note = note;
    }

    /// <summary>The Plotly.NET chart, for anyone who wants to restyle it with Plotly.NET.</summary>
    public GenericChart Chart { get; }

    /// <summary>The chart's title, with <see cref="Note"/> in brackets when the picture is cut.</summary>
    public string Title { get; }

    /// <summary>
    /// What part of a long input the picture shows (e.g. "showing the first 32 of 2,000 tokens"), or empty when it
    /// shows everything. See <see cref="LongInput"/>.
    /// </summary>
    public string Note { get; }

    /// <summary>The numbers behind the chart as an HTML table.</summary>
    public string TableHtml { get; }

    /// <summary>
    /// The numbers behind the chart as a table a cell can show on its own, captioned with the chart's title:
    /// <c>display(figure.Numbers())</c>. (The kernel's <c>HTML(...)</c> would show it too, but makes Jupyter print
    /// compiler warning CS1701 under the cell.)
    /// </summary>
    public TableView Numbers() => new($"Numbers: {Title}", TableHtml);

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The figure JSON (data and layout) that plotly.js draws.</summary>
    public string Json => GenericChart.toFigureJson(Chart);

    /// <summary>An HTML fragment: the note of a cut picture, the chart, then the numbers in a folded table.</summary>
    /// <returns>The HTML.</returns>
    public string ToHtml() => NoteHtml([Note]) + ChartHtml() + Details();

    /// <inheritdoc />
    public override string ToString() => Title;

    internal string ChartHtml()
    {
        var id = $"na-chart-{Interlocked.Increment(ref counter)}-{Guid.NewGuid():N}";
        return $$"""
            <div class="na-chart" id="{{id}}" style="width:{{Width}}px;height:{{Height}}px;max-width:100%"></div>
            <script type="text/javascript">
            (function () {
              var figure = {{Json}};
              var element = document.getElementById("{{id}}");
              function draw(plotly) { plotly.newPlot(element, figure.data, figure.layout, { responsive: true, displaylogo: false }); }
              if (window.Plotly) { draw(window.Plotly); }
              else if (window.naPlotly) { window.naPlotly.then(draw, function (error) { element.textContent = "plotly.js could not be loaded: " + error; }); }
              else { element.textContent = "This chart needs plotly.js, which the notebook's first cell loads: run that cell, then this one again. The numbers are in the table below."; }
            })();
            </script>
            """;
    }

    /// <summary>Each distinct note as a line of text above the pictures, so a cut is never silent.</summary>
    internal static string NoteHtml(IEnumerable<string> notes) => string.Concat(notes.Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).Select(note =>
        $"<div class=\"na-cut\" style=\"font:12px sans-serif;color:#7a4a00;margin:2px 0\">{WebUtility.HtmlEncode(char.ToUpperInvariant(note[0]) + note[1..])}: the picture stays readable; the computation used every token.</div>"));

    internal string Details() =>
        $"<details class=\"na-numbers\"><summary style=\"cursor:pointer;font:12px sans-serif\">Numbers: {WebUtility.HtmlEncode(Title)}</summary>{TableHtml}</details>";
}

/// <summary>Several figures laid out in rows and columns, e.g. one heatmap per attention head.</summary>
public sealed class FigureGrid
{
    internal FigureGrid(IReadOnlyList<Figure> figures, int columns, string title)
    {
        Figures = figures;
        Columns = columns;
        Title = title;
    }

    /// <summary>The figures, row by row.</summary>
    public IReadOnlyList<Figure> Figures { get; }

    /// <summary>Figures per row.</summary>
    public int Columns { get; }

    /// <summary>A heading shown above the grid.</summary>
    public string Title { get; }

    /// <summary>An HTML fragment: a heading, the charts in a grid, and every table folded underneath.</summary>
    /// <returns>The HTML.</returns>
    public string ToHtml()
    {
        var html = new StringBuilder();
        if (Title.Length > 0)
        {
            html.Append("<div style=\"font:bold 14px sans-serif;margin:4px 0\">").Append(WebUtility.HtmlEncode(Title)).Append("</div>");
        }

        html.Append(Figure.NoteHtml(Figures.Select(f => f.Note)));
        // A row that is wider than the output wraps (flex-wrap) instead of being cut at its edge; a full-width empty
        // item ends each row of Columns figures, so a 2 x 2 grid stays two rows of two wherever they fit.
        html.Append("<div class=\"na-grid\" style=\"display:flex;flex-wrap:wrap;gap:4px\">");
        for (var i = 0; i < Figures.Count; i++)
        {
            if (i > 0 && i % Columns == 0)
            {
                html.Append("<div class=\"na-grid-break\" style=\"flex-basis:100%;height:0\"></div>");
            }

            html.Append("<div>").Append(Figures[i].ChartHtml()).Append("</div>");
        }

        html.Append("</div>");
        foreach (var figure in Figures)
        {
            html.Append(figure.Details());
        }

        return html.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Title;
}
