using System.Text.Json.Nodes;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// The scripting engine, in this process: a lesson runs with its charts, a failing cell stops its notebook with the
/// cell's number and the compiler's or the exception's message, and directives it cannot run are refused by cell.
/// One class, so that its tests never run two notebooks at once (the running cell is process-wide).
/// </summary>
[Collection(InProcessLessons.Name)]
public sealed class ScriptingEngineTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("scripting-engine-tests-").FullName;
    private readonly string root = SeriesRunner.FindRoot();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private ScriptingEngine Engine => new(Path.Combine(root, "notebooks"));

    private string Notebook(string prefix) =>
        new SeriesRunner(root).Notebooks.Single(n => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal));

    // A notebook whose first cells are those of notebook 03 (its #r and usings), then the given code cells.
    private string Synthetic(string name, params string[] cells)
    {
        var notebook = NotebookFile.Load(Notebook("03"));
        var kept = notebook.Cells.Take(4).Select(c => c!.DeepClone()).ToList();
        foreach (var (source, i) in cells.Select((s, i) => (s, i)))
        {
            kept.Add(new JsonObject { ["cell_type"] = "code", ["id"] = $"t{i}", ["metadata"] = new JsonObject(), ["source"] = source, ["outputs"] = new JsonArray(), ["execution_count"] = null });
        }

        notebook.Root["cells"] = new JsonArray([.. kept]);
        var path = Path.Combine(folder, name + ".ipynb");
        notebook.Save(path);
        return path;
    }

    // Runs a synthetic notebook that must fail: its only error, and the executed copy.
    private (CellError Error, NotebookRun Run) Failing(string name, TimeSpan limit, params string[] cells)
    {
        var run = Engine.Execute(Synthetic(name, cells), Path.Combine(folder, "out"), limit);
        return (Assert.Single(run.Errors), run);
    }

    [Fact]
    public void Notebook_03_runs_in_process_with_its_charts_and_heatmaps_and_no_error()
    {
        var run = Engine.Execute(Notebook("03"), Path.Combine(folder, "out"), TimeSpan.FromMinutes(3));
        Assert.True(run.Succeeded, string.Join("\n", run.Errors));
        var executed = NotebookFile.Load(run.ExecutedPath);
        var counts = EngineAgreement.Count(executed);
        Assert.True(counts.Charts >= 3, $"notebook 03 shows {counts}");
        Assert.True(counts.Heatmaps >= 2, $"notebook 03 shows {counts}");
        var texts = executed.CodeCells.SelectMany(c => EngineAgreement.Outputs(c)).Select(o => o.Text).ToList();
        Assert.Contains(texts, t => t.StartsWith("Installed Packages NotebookAttention.Notebooks", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.StartsWith("Q [", StringComparison.Ordinal) && t.Contains("· K [", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.StartsWith("row 0 of the weights adds up to 1.000000000000", StringComparison.Ordinal));
        Assert.Contains(executed.CodeCells.SelectMany(c => (c["outputs"] as JsonArray ?? []).OfType<JsonObject>()),
            o => NotebookFile.Text(o["data"]?["text/html"]).Contains(OfflinePlotly.LoaderId, StringComparison.Ordinal));
    }

    [Fact]
    public void A_compile_error_stops_the_notebook_with_the_cell_number_and_the_compiler_message()
    {
        var (error, run) = Failing("compile", TimeSpan.FromMinutes(1), "var a = 1;", "var b = a + 1;\nundefinedName + b", "a + 100");
        Assert.Equal(5, error.Cell);
        Assert.StartsWith("Error: (2,1): error CS0103: The name 'undefinedName' does not exist in the current context", error.Message, StringComparison.Ordinal);
        var executed = NotebookFile.Load(run.ExecutedPath);
        Assert.Empty(executed.Cells[6]!["outputs"]!.AsArray());
        Assert.NotEmpty(executed.Cells[2]!["outputs"]!.AsArray());
    }

    [Fact]
    public void An_exception_stops_the_notebook_with_the_cell_number_and_the_exception_message()
    {
        var (error, run) = Failing("throws", TimeSpan.FromMinutes(1), "display(\"before\");\nthrow new InvalidOperationException(\"boom at step 3\");", "1 + 1");
        Assert.Equal(4, error.Cell);
        Assert.StartsWith("Error: System.InvalidOperationException: boom at step 3", error.Message, StringComparison.Ordinal);
        var outputs = EngineAgreement.Outputs(NotebookFile.Load(run.ExecutedPath).Cells[4]);
        Assert.Equal("before", outputs[0].Text);
    }

    [Fact]
    public void Values_console_output_and_the_sentence_are_recorded_as_the_kernel_records_them()
    {
        var path = Synthetic("values", "Console.WriteLine(\"progress 1\");\nConsole.WriteLine(\"progress 2\");\n42", "Learner.Sentence(\"typed here\")", "var unused = 1;", "Console.WriteLine(\"a void call ends this cell\")");
        var run = Engine.Execute(path, Path.Combine(folder, "out"), TimeSpan.FromMinutes(1), sentence: "Увага: інше речення");
        Assert.True(run.Succeeded, string.Join("\n", run.Errors));
        var executed = NotebookFile.Load(run.ExecutedPath);
        var first = EngineAgreement.Outputs(executed.Cells[4]);
        Assert.Equal(["display_data text/html", "stream stdout"], first.Select(o => o.Kind));
        Assert.Equal("42", first[0].Text);
        Assert.Equal("progress 1 progress 2", first[1].Text);
        Assert.Equal("Увага: інше речення", Assert.Single(EngineAgreement.Outputs(executed.Cells[5])).Text);
        Assert.Empty(EngineAgreement.Outputs(executed.Cells[6]));
        Assert.Equal(new ShownOutput("stream stdout", "a void call ends this cell"), Assert.Single(EngineAgreement.Outputs(executed.Cells[7])));
        Assert.Null(Environment.GetEnvironmentVariable(Learner.SentenceVariable));
    }

    [Theory]
    [InlineData("#r \"nuget: Newtonsoft.Json, 13.0.4\"", "Newtonsoft.Json")]
    [InlineData("#!time\n1 + 1", "#!time")]
    [InlineData("#r \"/tmp/some.dll\"", "some.dll")]
    [InlineData("#r\"/tmp/other.dll\"", "other.dll")]
    [InlineData("#load \"/tmp/helpers.csx\"\nHelper()", "helpers.csx")]
    public void Directives_the_engine_cannot_run_fail_their_cell_by_name(string source, string named)
    {
        var (error, _) = Failing("directive", TimeSpan.FromMinutes(1), "var a = 1;", source);
        Assert.Equal(5, error.Cell);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains("kernel engine", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cell_past_the_time_limit_is_cancelled_and_reported()
    {
        var (error, run) = Failing("slow", TimeSpan.FromSeconds(8), "while (!LiveOutput.CellCancellation.IsCancellationRequested) { System.Threading.Thread.Sleep(20); }\n\"stopped\"", "1 + 1");
        Assert.Equal(4, error.Cell);
        Assert.Contains("time limit ran out in this cell", error.Message, StringComparison.Ordinal);
        Assert.Contains("the cell stopped", error.Message, StringComparison.Ordinal);
        Assert.InRange(run.Seconds, 8, 30);
    }
}
