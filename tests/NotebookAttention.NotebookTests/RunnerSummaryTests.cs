using System.Text.Json.Nodes;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>The runner's line per notebook carries the summaries of the notebook's finished live lines (its trainings).</summary>
public sealed class RunnerSummaryTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("runner-summary-tests-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Summaries_are_read_in_cell_order_and_decoded()
    {
        static JsonObject Cell(string id, string html) => new()
        {
            ["cell_type"] = "code", ["id"] = id, ["metadata"] = new JsonObject(), ["source"] = "x",
            ["outputs"] = new JsonArray(new JsonObject { ["output_type"] = "display_data", ["data"] = new JsonObject { ["text/html"] = html }, ["metadata"] = new JsonObject() }),
        };
        var notebook = new JsonObject
        {
            ["cells"] = new JsonArray(
                Cell("a", $"<div {LiveOutput.SummaryAttribute}=\"attention on reverse: step 600/600 &#183; accuracy 100.0%\">…</div>"),
                Cell("b", "<div class=\"na-chart\"></div>"),
                Cell("c", $"<div {LiveOutput.SummaryAttribute}=\"LSTM on remember &amp; repeat\">…</div>")),
            ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 5,
        };
        var path = Path.Combine(folder, "n.ipynb");
        File.WriteAllText(path, notebook.ToJsonString());
        Assert.Equal(["attention on reverse: step 600/600 · accuracy 100.0%", "LSTM on remember & repeat"], ExecutedNotebook.Summaries(path));
    }

    [Fact]
    public void A_notebook_without_live_lines_has_no_summary()
    {
        var notebook = new JsonObject { ["cells"] = new JsonArray(), ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 5 };
        var path = Path.Combine(folder, "empty.ipynb");
        File.WriteAllText(path, notebook.ToJsonString());
        Assert.Empty(ExecutedNotebook.Summaries(path));
    }
}
