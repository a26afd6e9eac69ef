using System.Globalization;
using System.Net;
using System.Text;
using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Notebooks;

/// <summary>Numbers as HTML tables, for people who read rather than look: every chart carries one.</summary>
public static class Table
{
    /// <summary>A matrix as a table with row and column labels; minus infinity shows as −∞ (masked).</summary>
    /// <param name="values">The matrix.</param>
    /// <param name="rowLabels">One label per row.</param>
    /// <param name="columnLabels">One label per column.</param>
    /// <param name="corner">Text of the top-left cell, e.g. "query \ key".</param>
    /// <param name="digits">Decimal places.</param>
    /// <returns>An HTML table.</returns>
    public static string Of(Matrix<double> values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, string corner = "", int digits = 4)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(columnLabels);
        var rows = Enumerable.Range(0, values.RowCount).Select(r => Enumerable.Range(0, values.ColumnCount).Select(c => Number(values[r, c], digits)).ToList()).ToList();
        return Of([corner, .. columnLabels], rowLabels, rows);
    }

    /// <summary>Columns of numbers side by side, e.g. the points of a line chart.</summary>
    /// <param name="header">Column names, the first for <paramref name="first"/>.</param>
    /// <param name="first">Values of the first column.</param>
    /// <param name="others">Values of the other columns, each as long as <paramref name="first"/>.</param>
    /// <param name="digits">Significant digits.</param>
    /// <returns>An HTML table.</returns>
    public static string OfColumns(IReadOnlyList<string> header, IReadOnlyList<double> first, IReadOnlyList<IReadOnlyList<double>> others, int digits = 6)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(others);
        var labels = first.Select(x => x.ToString("G" + digits, CultureInfo.InvariantCulture)).ToList();
        var rows = Enumerable.Range(0, first.Count).Select(i => others.Select(column => column[i].ToString("G" + digits, CultureInfo.InvariantCulture)).ToList()).ToList();
        return Of(header, labels, rows);
    }

    /// <summary>A table of text cells with a header row and a label column.</summary>
    /// <param name="header">Header cells, the first above the labels.</param>
    /// <param name="rowLabels">One label per row.</param>
    /// <param name="rows">The cells of each row.</param>
    /// <returns>An HTML table.</returns>
    public static string Of(IReadOnlyList<string> header, IReadOnlyList<string> rowLabels, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(rows);
        var html = new StringBuilder("<table class=\"na-table\" style=\"border-collapse:collapse;font:12px monospace\"><thead><tr>");
        foreach (var cell in header)
        {
            html.Append("<th style=\"padding:2px 6px;text-align:right\">").Append(WebUtility.HtmlEncode(cell)).Append("</th>");
        }

        html.Append("</tr></thead><tbody>");
        for (var r = 0; r < rows.Count; r++)
        {
            html.Append("<tr><th style=\"padding:2px 6px;text-align:right\">").Append(WebUtility.HtmlEncode(rowLabels[r])).Append("</th>");
            foreach (var cell in rows[r])
            {
                html.Append("<td style=\"padding:2px 6px;text-align:right\">").Append(WebUtility.HtmlEncode(cell)).Append("</td>");
            }

            html.Append("</tr>");
        }

        return html.Append("</tbody></table>").ToString();
    }

    internal static string Number(double value, int digits) =>
        double.IsNegativeInfinity(value) ? "−∞" : value.ToString("F" + digits, CultureInfo.InvariantCulture);
}
