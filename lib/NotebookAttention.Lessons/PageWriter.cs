using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Markdig;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Lessons;

/// <summary>Writes an executed notebook as a standalone HTML page, and the index page of the series.</summary>
public static class PageWriter
{
    private static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    private const string Style = """
        body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 0 auto; padding: 16px; color: #1f2328; }
        nav { font-size: 13px; margin-bottom: 12px; }
        pre.code { background: #f6f8fa; border-left: 3px solid #0969da; padding: 8px 12px; overflow-x: auto; font-size: 13px; }
        pre.text { padding: 4px 12px; overflow-x: auto; font-size: 13px; }
        pre.error { background: #ffebe9; color: #cf222e; padding: 8px 12px; overflow-x: auto; }
        .output { margin: 4px 0 16px 0; overflow-x: auto; }
        table { border-collapse: collapse; }
        td, th { border-bottom: 1px solid #eee; padding: 2px 8px; }
        """;

    /// <summary>Writes the page of one executed notebook.</summary>
    /// <param name="executedNotebook">The executed .ipynb.</param>
    /// <param name="pagePath">Where to write the .html.</param>
    /// <param name="previous">File name of the previous page, or null.</param>
    /// <param name="next">File name of the next page, or null.</param>
    /// <param name="index">File name of the series' index page beside it, or null where there is none (a lesson app's page).</param>
    public static void WriteNotebookPage(string executedNotebook, string pagePath, string? previous, string? next, string? index = "index.html")
    {
        var notebook = NotebookFile.Load(executedNotebook);
        var title = TitleOf(notebook, Path.GetFileNameWithoutExtension(executedNotebook));
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{WebUtility.HtmlEncode(title)}</title>
            <script src="{OfflinePlotly.FileName}"></script>
            <style>{Style}</style></head><body>
            <nav>{(index is null ? "NotebookAttention series" : $"<a href=\"{WebUtility.HtmlEncode(index)}\">NotebookAttention series</a>")}{Link(" · previous: ", previous)}{Link(" · next: ", next)}</nav>
            <main>
            """);
        foreach (var cell in notebook.Cells.OfType<JsonObject>())
        {
            var source = NotebookFile.Source(cell);
            if ((string?)cell["cell_type"] == "markdown")
            {
                html.Append(Markdig.Markdown.ToHtml(source, Markdown));
                continue;
            }

            html.Append("<pre class=\"code\"><code>").Append(WebUtility.HtmlEncode(source)).Append("</code></pre>");
            if (cell["outputs"] is JsonArray outputs)
            {
                foreach (var output in outputs.OfType<JsonObject>())
                {
                    html.Append("<div class=\"output\">").Append(OutputHtml(output)).Append("</div>");
                }
            }
        }

        html.Append("</main></body></html>\n");
        File.WriteAllText(pagePath, html.ToString());
    }

    /// <summary>Writes index.html: every notebook with its status, time and sizes.</summary>
    /// <param name="outputFolder">The folder with the pages.</param>
    /// <param name="runs">The runs, in series order.</param>
    /// <param name="executedBy">What ran them, for the page's first sentence, e.g. "the .NET Interactive kernel" or "Roslyn scripting (no kernel)".</param>
    public static void WriteIndex(string outputFolder, IReadOnlyList<NotebookRun> runs, string executedBy = "the .NET Interactive kernel")
    {
        ArgumentNullException.ThrowIfNull(runs);
        var rows = new StringBuilder();
        foreach (var run in runs)
        {
            var page = Path.ChangeExtension(run.Name, ".html");
            var title = File.Exists(run.ExecutedPath) ? TitleOf(NotebookFile.Load(run.ExecutedPath), run.Name) : run.Name;
            var status = run.Succeeded ? "✓ ran" : $"✗ {run.Errors.Count} error(s): {WebUtility.HtmlEncode(run.Errors[0].Message)}";
            rows.Append(CultureInfo.InvariantCulture, $"<tr><td><a href=\"{page}\">{WebUtility.HtmlEncode(title)}</a></td><td>{status}</td><td>{run.CodeCells}</td><td>{run.Seconds:0.0} s</td><td>{Size(run.ExecutedPath)}</td><td><a href=\"{run.Name}\">{run.Name}</a></td></tr>");
        }

        File.WriteAllText(Path.Combine(outputFolder, "index.html"), $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>NotebookAttention: the series</title><style>{Style}</style></head><body>
            <h1>NotebookAttention: self-attention, step by step</h1>
            <p>Every notebook below was executed top to bottom on {WebUtility.HtmlEncode(executedBy)}. Charts are drawn by
            plotly.js {OfflinePlotly.Version} from <code>{OfflinePlotly.FileName}</code> in this folder: no internet needed.</p>
            <table><thead><tr><th>Notebook</th><th>Status</th><th>Code cells</th><th>Run time</th><th>Executed notebook</th><th>File</th></tr></thead>
            <tbody>{rows}</tbody></table>
            </body></html>

            """);
    }

    /// <summary>The first heading of the notebook's first markdown cell, or a fallback.</summary>
    /// <param name="notebook">A notebook.</param>
    /// <param name="fallback">Used when there is no heading.</param>
    public static string TitleOf(NotebookFile notebook, string fallback)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        var heading = notebook.Cells.OfType<JsonObject>()
            .Where(c => (string?)c["cell_type"] == "markdown")
            .SelectMany(c => NotebookFile.Source(c).Split('\n'))
            .FirstOrDefault(line => line.StartsWith("# ", StringComparison.Ordinal));
        return heading is null ? fallback : heading[2..].Trim();
    }

    /// <summary>A file's size as text, e.g. "48 KB".</summary>
    /// <param name="path">The file.</param>
    /// <returns>The size, or "missing".</returns>
    public static string Size(string path) =>
        File.Exists(path) ? $"{new FileInfo(path).Length / 1024.0:0} KB" : "missing";

    private static string OutputHtml(JsonObject output)
    {
        switch ((string?)output["output_type"])
        {
            case "error":
                return $"<pre class=\"error\">{WebUtility.HtmlEncode($"{(string?)output["ename"]}: {(string?)output["evalue"]}")}</pre>";
            case "stream":
                return $"<pre class=\"text\">{WebUtility.HtmlEncode(NotebookFile.Text(output["text"]))}</pre>";
        }

        if (output["data"] is not JsonObject data)
        {
            return string.Empty;
        }

        if (data["text/html"] is { } html)
        {
            return NotebookFile.Text(html);
        }

        return data["text/plain"] is { } plain ? $"<pre class=\"text\">{WebUtility.HtmlEncode(NotebookFile.Text(plain))}</pre>" : string.Empty;
    }

    private static string Link(string label, string? page) =>
        page is null ? string.Empty : $"{label}<a href=\"{page}\">{WebUtility.HtmlEncode(Path.GetFileNameWithoutExtension(page))}</a>";
}
