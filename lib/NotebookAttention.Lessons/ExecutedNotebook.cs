using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Lessons;

/// <summary>What the series does to an executed notebook after a run, whichever engine ran it.</summary>
public static class ExecutedNotebook
{
    /// <summary>
    /// Makes an executed notebook small and portable: the 1.4 MB plotly.js loader in the setup cell's output
    /// becomes a reference to <see cref="OfflinePlotly.FileName"/> beside it, and the kernel's progress lines and machine paths are removed.
    /// </summary>
    /// <param name="executedPath">The executed notebook, rewritten in place.</param>
    public static void Slim(string executedPath)
    {
        var notebook = NotebookFile.Load(executedPath);
        foreach (var cell in notebook.CodeCells)
        {
            if (cell["outputs"] is not JsonArray outputs)
            {
                continue;
            }

            for (var i = outputs.Count - 1; i >= 0; i--)
            {
                if (outputs[i] is not JsonObject output || output["data"] is not JsonObject data)
                {
                    continue;
                }

                var html = NotebookFile.Text(data["text/html"]);
                var plain = NotebookFile.Text(data["text/plain"]);
                if (html.Contains(OfflinePlotly.LoaderId, StringComparison.Ordinal))
                {
                    data["text/html"] = PlotlyReference;
                }
                else if (plain.StartsWith("Loading extension script from", StringComparison.Ordinal)
                    || html.Contains("<strong>Installing Packages</strong>", StringComparison.Ordinal))
                {
                    outputs.RemoveAt(i);
                }
            }
        }

        notebook.Save(executedPath);
    }

    /// <summary>
    /// The one-line summaries of the finished live lines in an executed notebook (<see cref="LiveOutput.SummaryAttribute"/>),
    /// e.g. each training's last step, loss and accuracy, for the notebook's line on the console.
    /// </summary>
    /// <param name="executedPath">The executed notebook.</param>
    /// <returns>The summaries in cell order.</returns>
    public static IReadOnlyList<string> Summaries(string executedPath)
    {
        var summary = new Regex(LiveOutput.SummaryAttribute + "=\"([^\"]*)\"");
        return [.. NotebookFile.Load(executedPath).CodeCells
            .SelectMany(cell => (cell["outputs"] as JsonArray ?? []).OfType<JsonObject>())
            .SelectMany(output => summary.Matches(NotebookFile.Text(output["data"]?["text/html"])))
            .Select(match => WebUtility.HtmlDecode(match.Groups[1].Value))];
    }

    /// <summary>Loads plotly.js from the file the runner puts beside executed notebooks and pages.</summary>
    public static string PlotlyReference =>
        $"<div id=\"{OfflinePlotly.LoaderId}\" style=\"font:12px sans-serif;color:#667\">plotly.js {OfflinePlotly.Version} comes from {OfflinePlotly.FileName} beside this file.</div>" +
        $"<script type=\"text/javascript\">if (!window.Plotly && !window.naPlotly) {{ window.naPlotly = new Promise(function (resolve, reject) {{ var s = document.createElement(\"script\"); s.src = \"{OfflinePlotly.FileName}\"; s.onload = function () {{ resolve(window.Plotly); }}; s.onerror = reject; document.head.appendChild(s); }}); }}</script>";
}
