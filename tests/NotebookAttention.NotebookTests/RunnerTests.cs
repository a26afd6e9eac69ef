using System.Text.Json.Nodes;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

public sealed class RunnerTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("runner-tests-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Write(params JsonObject[] outputs)
    {
        var cell = new JsonObject { ["cell_type"] = "code", ["id"] = "c1", ["metadata"] = new JsonObject(), ["source"] = "x", ["outputs"] = new JsonArray([.. outputs]) };
        var notebook = new JsonObject { ["cells"] = new JsonArray(cell), ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 5 };
        var path = Path.Combine(folder, "n.ipynb");
        File.WriteAllText(path, notebook.ToJsonString());
        return path;
    }

    private static JsonObject Html(string html) => new() { ["output_type"] = "display_data", ["data"] = new JsonObject { ["text/html"] = html }, ["metadata"] = new JsonObject() };

    [Fact]
    public void Errors_and_standard_error_outputs_count_as_cell_errors()
    {
        var path = Write(
            Html("<b>fine</b>"),
            new JsonObject { ["output_type"] = "error", ["ename"] = "Error", ["evalue"] = "CS0103: no File", ["traceback"] = new JsonArray() },
            new JsonObject { ["output_type"] = "stream", ["name"] = "stderr", ["text"] = "boom" });
        var errors = NotebookFile.Load(path).Errors();
        Assert.Equal(2, errors.Count);
        Assert.Equal("Error: CS0103: no File", errors[0].Message);
        Assert.Equal("boom", errors[1].Message);
        Assert.All(errors, e => Assert.Equal(0, e.Cell));
    }

    [Fact]
    public void Slim_replaces_the_inline_plotly_and_drops_kernel_progress_and_paths()
    {
        var path = Write(
            Html("<div><strong>Installing Packages</strong></div>"),
            new JsonObject { ["output_type"] = "display_data", ["data"] = new JsonObject { ["text/plain"] = "Loading extension script from `/root/.nuget/packages/x/extension.dib`" }, ["metadata"] = new JsonObject() },
            Html(OfflinePlotly.LoaderHtml()),
            Html("<div class=\"na-chart\"></div>"));
        var before = new FileInfo(path).Length;
        ExecutedNotebook.Slim(path);
        var text = File.ReadAllText(path);
        Assert.True(new FileInfo(path).Length < before / 100, $"slimmed notebook is {new FileInfo(path).Length} bytes");
        Assert.DoesNotContain("/root/", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Installing Packages", text, StringComparison.Ordinal);
        Assert.Contains(OfflinePlotly.FileName, text, StringComparison.Ordinal);
        Assert.Contains("na-chart", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_parse_and_unknown_ones_are_refused_with_the_usage()
    {
        var options = RunnerOptions.Parse(["--only", "03", "--only", "04", "--sentence", "Увага", "--timeout", "60"]);
        Assert.Equal(["03", "04"], options.Only);
        Assert.Equal("Увага", options.Sentence);
        Assert.Equal(60, options.TimeoutSeconds);
        var error = Assert.Throws<ArgumentException>(() => RunnerOptions.Parse(["--fast"]));
        Assert.Contains("unknown option --fast", error.Message, StringComparison.Ordinal);
        Assert.Contains("usage:", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => RunnerOptions.Parse(["--sentence"]));
    }
}
