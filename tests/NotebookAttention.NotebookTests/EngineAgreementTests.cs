using System.Text.Json.Nodes;

namespace NotebookAttention.NotebookTests;

/// <summary>The comparison that proves both engines produce the same lessons, on synthetic executed notebooks.</summary>
public sealed class EngineAgreementTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("engine-agreement-tests-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static JsonObject Plain(string text) => new() { ["output_type"] = "display_data", ["data"] = new JsonObject { ["text/plain"] = text }, ["metadata"] = new JsonObject() };

    private static JsonObject Html(string html) => new() { ["output_type"] = "display_data", ["data"] = new JsonObject { ["text/html"] = html }, ["metadata"] = new JsonObject() };

    private static JsonObject Stream(string text) => new() { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = text };

    private static JsonObject Chart(string id, string type) =>
        Html($"<div class=\"na-chart\" id=\"{id}\"></div><script>var figure = {{\"data\":[{{\"type\":\"{type}\",\"z\":[[0.25]]}}]}};</script>");

    private static JsonObject Failure(string message) => new() { ["output_type"] = "error", ["ename"] = "Error", ["evalue"] = message, ["traceback"] = new JsonArray() };

    // A lesson as both engines would write it: a table, a heatmap, a bar chart, a caption and a timing line.
    private static JsonObject[][] Lesson(string chartId = "na-chart-1-aaaa", string timing = "reference n = 64: 0.787 ms, 0.27 MiB allocated\n", string caption = "attention over 11 tokens: weights [11 x 11]", string second = "bar") =>
    [
        [Html("<table><tr><td>0.500</td></tr></table>"), Chart(chartId, "heatmap")],
        [Html($"<div style=\"font:13px monospace\">{caption}</div>"), Chart(chartId + "b", second)],
        [Stream(timing), Plain("largest difference: 0.00E+000 (allowed: 1E-012)")],
    ];

    // The lesson with one cell's outputs replaced, written as the scripting side.
    private string WriteChanged(int cell, params JsonObject[] outputs)
    {
        var lesson = Lesson();
        lesson[cell] = outputs;
        return Write("scripting", lesson);
    }

    private string Write(string side, params JsonObject[][] cells)
    {
        var folderOfSide = Path.Combine(folder, side);
        Directory.CreateDirectory(folderOfSide);
        var json = new JsonArray([.. cells.Select((outputs, i) => (JsonNode)new JsonObject
        {
            ["cell_type"] = "code", ["id"] = $"c{i}", ["metadata"] = new JsonObject(), ["source"] = "x", ["outputs"] = new JsonArray([.. outputs]),
        })]);
        var notebook = new JsonObject { ["cells"] = json, ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 5 };
        File.WriteAllText(Path.Combine(folderOfSide, "03-lesson.ipynb"), notebook.ToJsonString());
        return folderOfSide;
    }

    [Fact]
    public void Identical_lessons_agree_and_their_counts_are_read()
    {
        var kernel = Write("kernel", Lesson());
        var scripting = Write("scripting", Lesson());
        Assert.Empty(EngineAgreement.CompareFolders(kernel, scripting));
        Assert.Equal(new OutputCounts(Charts: 2, Heatmaps: 1, Tables: 1), EngineAgreement.Count(NotebookFile.Load(Path.Combine(kernel, "03-lesson.ipynb"))));
    }

    [Fact]
    public void A_differing_time_and_memory_figure_and_chart_id_pass()
    {
        var kernel = Write("kernel", Lesson());
        var scripting = Write("scripting", Lesson(chartId: "na-chart-1-bbbb", timing: "reference n = 64: 12.5 ms, 0.31 MiB allocated\n"));
        Assert.Empty(EngineAgreement.CompareFolders(kernel, scripting));
    }

    [Fact]
    public void A_changed_text_fails_and_names_the_cell_and_both_texts()
    {
        var kernel = Write("kernel", Lesson());
        var scripting = Write("scripting", Lesson(caption: "attention over 12 tokens: weights [12 x 12]"));
        var disagreement = Assert.Single(EngineAgreement.CompareFolders(kernel, scripting));
        Assert.Equal(1, disagreement.Cell);
        Assert.Contains("11 tokens", disagreement.What, StringComparison.Ordinal);
        Assert.Contains("12 tokens", disagreement.What, StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_number_without_a_unit_fails_even_beside_a_timing_line()
    {
        var kernel = Write("kernel", Lesson());
        var scripting = WriteChanged(2, Stream("reference n = 64: 0.787 ms, 0.27 MiB allocated\n"), Plain("largest difference: 1.00E-003 (allowed: 1E-012)"));
        var disagreement = Assert.Single(EngineAgreement.CompareFolders(kernel, scripting));
        Assert.Equal(2, disagreement.Cell);
        Assert.Contains("output 2", disagreement.What, StringComparison.Ordinal);
    }

    [Fact]
    public void A_timing_sweep_that_measured_other_lengths_passes_but_a_missing_output_fails()
    {
        var kernel = Write("kernel", Lesson());
        var other = Write("scripting", Lesson(timing: "reference n = 64: 3.476 ms, 0.27 MiB allocated\nreference n = 128: 9.1 ms, 0.72 MiB allocated\n"));
        Assert.Empty(EngineAgreement.CompareFolders(kernel, other));

        var lesson = Lesson();
        lesson[2] = [lesson[2][1]];
        var missing = Write("scripting-missing", lesson);
        var disagreement = Assert.Single(EngineAgreement.CompareFolders(kernel, missing));
        Assert.Contains("stream stdout", disagreement.What, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_chart_fails()
    {
        var kernel = Write("kernel", Lesson());
        var scripting = WriteChanged(0, Html("<table><tr><td>0.500</td></tr></table>"), Html("<div>no chart</div>"));
        var disagreements = EngineAgreement.CompareFolders(kernel, scripting);
        Assert.Contains(disagreements, d => d.Cell == -1 && d.What.Contains("2 charts, 1 heatmaps", StringComparison.Ordinal) && d.What.Contains("1 charts, 0 heatmaps", StringComparison.Ordinal));
    }

    [Fact]
    public void A_chart_of_another_kind_fails_on_the_heatmap_count()
    {
        var kernel = Write("kernel", Lesson());
        var scripting = Write("scripting", Lesson(second: "heatmap"));
        var disagreement = Assert.Single(EngineAgreement.CompareFolders(kernel, scripting));
        Assert.Contains("2 heatmaps", disagreement.What, StringComparison.Ordinal);
    }

    [Fact]
    public void A_notebook_failing_on_one_side_only_fails()
    {
        var kernel = Write("kernel", Lesson());
        var scripting = WriteChanged(2, Failure("(2,1): error CS0103: The name 'x' does not exist in the current context"));
        var disagreement = Assert.Single(EngineAgreement.CompareFolders(kernel, scripting));
        Assert.Equal(-1, disagreement.Cell);
        Assert.Contains("kernel: ran to the end", disagreement.What, StringComparison.Ordinal);
        Assert.Contains("scripting: failed in cell 2", disagreement.What, StringComparison.Ordinal);
    }

    [Fact]
    public void A_notebook_written_by_one_engine_only_fails()
    {
        var kernel = Write("kernel", Lesson());
        var scripting = Path.Combine(folder, "scripting-empty");
        Directory.CreateDirectory(scripting);
        File.WriteAllText(Path.Combine(scripting, "04-other.ipynb"), File.ReadAllText(Path.Combine(kernel, "03-lesson.ipynb")));
        var disagreements = EngineAgreement.CompareFolders(kernel, scripting);
        Assert.Equal(2, disagreements.Count);
        Assert.All(disagreements, d => Assert.Contains("not written", d.What, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("step 200/200 · loss 0.003 · accuracy 100.0% · 3.5 s · completed", true)]
    [InlineData("n = 64: 0.787 ms, 0.27 MiB allocated", true)]
    [InlineData("tiled at n = 8192: 22.1 GFLOP/s = 31% of the FMA ceiling", true)]
    [InlineData("n materialized (s) x tiled (s) x fp32 scores (KiB)", true)]
    [InlineData("materialized: n^2.29 from 4 lengths (R² = 0.994): close to n^2, within ±0.3.", true)]
    [InlineData("needs 22.3 GiB for its score matrix, but 21.7 GiB is available", true)]
    [InlineData("18 runs (3 models x 6 distances, 80 steps each)", false)]
    [InlineData("Q [11 x 8], 8 digits, 4 heads, 2 sentences; cost grows as n^2", false)]
    [InlineData("attention on reverse: accuracy 100.0%, loss 0.003", false)]
    public void Machine_figures_are_recognised_by_their_units_only(string text, bool machineFigure) =>
        Assert.Equal(machineFigure, EngineAgreement.HoldsMachineFigure(text));
}
