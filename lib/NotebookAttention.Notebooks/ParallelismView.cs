using System.Globalization;
using System.Net;
using System.Text;
using NotebookAttention.Recurrence;

namespace NotebookAttention.Notebooks;

/// <summary>
/// Notebook 07's parallelism measurement shown: the four time curves, and the table of times and speedups with the
/// sentences the report derives from them.
/// </summary>
public static class ParallelismView
{
    /// <summary>The class of the table, for tests that read the numbers back from an executed notebook.</summary>
    public const string TableClass = "na-parallelism";

    /// <summary>The class of the list of conclusions under the table.</summary>
    public const string ConclusionsClass = "na-conclusions";

    /// <summary>Time of one forward pass against n: the recurrent layer and attention, each on 1 and on 2 cores.</summary>
    /// <param name="report">A measured report.</param>
    /// <returns>The figure (log-log axes).</returns>
    public static Figure Chart(ParallelismReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        IReadOnlyList<double> n = [.. report.Rows.Select(r => (double)r.N)];
        (string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y) Curve(string name, Func<ParallelismRow, double> seconds) =>
            (name, n, [.. report.Rows.Select(seconds)]);
        return Plots.Curves("Forward pass: recurrent layer against attention", "sequence length n", "seconds",
            [Curve("RNN, 1 core", r => r.RecurrentOneCore), Curve("RNN, 2 cores", r => r.RecurrentTwoCores),
             Curve("attention, 1 core", r => r.AttentionOneCore), Curve("attention, 2 cores", r => r.AttentionTwoCores)]);
    }

    /// <summary>
    /// The table (times in ms; speedups of 2 cores over 1; attention against the RNN, each on its faster core count)
    /// and the conclusions. Every time cell carries its exact value in seconds (<c>data-seconds</c>) and the table its
    /// width and cores, so a test can rebuild the report from the page and check that the sentences follow.
    /// </summary>
    /// <param name="report">A measured report.</param>
    public static TableView Table(ParallelismReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        const string cell = "padding:2px 6px;text-align:right";
        var html = new StringBuilder(Invariant($"<table class=\"na-table {TableClass}\" data-width=\"{report.Width}\" data-cores=\"{report.Cores}\" style=\"border-collapse:collapse;font:12px monospace\"><thead><tr>"));
        foreach (var header in new[] { "n", "RNN 1 core (ms)", "RNN 2 cores (ms)", "RNN 2 vs 1", "attention 1 core (ms)", "attention 2 cores (ms)", "attention 2 vs 1", "attention vs RNN" })
        {
            html.Append(Invariant($"<th style=\"{cell}\">{WebUtility.HtmlEncode(header)}</th>"));
        }

        html.Append("</tr></thead><tbody>");
        foreach (var row in report.Rows)
        {
            html.Append(Invariant($"<tr data-n=\"{row.N}\"><th style=\"{cell}\">{row.N:N0}</th>"))
                .Append(Time(row.RecurrentOneCore, cell)).Append(Time(row.RecurrentTwoCores, cell)).Append(Times(row.RecurrentSpeedup, cell))
                .Append(Time(row.AttentionOneCore, cell)).Append(Time(row.AttentionTwoCores, cell)).Append(Times(row.AttentionSpeedup, cell))
                .Append(Times(row.AttentionAdvantage, cell)).Append("</tr>");
        }

        html.Append(Invariant($"</tbody></table><ul class=\"{ConclusionsClass}\" style=\"font:13px sans-serif;max-width:900px\">"));
        foreach (var sentence in report.Conclusions)
        {
            html.Append("<li>").Append(WebUtility.HtmlEncode(sentence)).Append("</li>");
        }

        html.Append("</ul>");
        var title = $"d = {report.Width}, {report.Cores} core{(report.Cores == 1 ? string.Empty : "s")} on this machine. \"2 vs 1\": how many times faster on 2 cores than on 1; "
            + "\"attention vs RNN\": how many times faster attention was, each on its faster core count (below 1: slower).";
        return new TableView(title, html.ToString());
    }

    private static string Time(double seconds, string style) =>
        Invariant($"<td style=\"{style}\" data-seconds=\"{seconds:R}\">{seconds * 1e3:0.000}</td>");

    private static string Times(double factor, string style) => Invariant($"<td style=\"{style}\">x{factor:0.00}</td>");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
