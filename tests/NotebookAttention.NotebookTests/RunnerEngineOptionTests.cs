using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>The runner's --engine and --compare options and where each engine writes.</summary>
public sealed class RunnerEngineOptionTests
{
    [Theory]
    [InlineData(new string[0], RunnerEngine.Kernel)]
    [InlineData(new[] { "--engine", "kernel" }, RunnerEngine.Kernel)]
    [InlineData(new[] { "--engine", "scripting", "--only", "03" }, RunnerEngine.Scripting)]
    [InlineData(new[] { "--engine", "both" }, RunnerEngine.Both)]
    public void Engine_is_parsed_and_the_kernel_stays_the_default(string[] args, RunnerEngine engine) =>
        Assert.Equal(engine, RunnerOptions.Parse(args).Engine);

    [Fact]
    public void An_unknown_engine_is_refused_with_the_choices()
    {
        var error = Assert.Throws<ArgumentException>(() => RunnerOptions.Parse(["--engine", "roslyn"]));
        Assert.Contains("kernel, scripting or both", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_takes_two_folders()
    {
        Assert.Equal(("artifacts/series", "artifacts/scripting"), RunnerOptions.Parse(["--compare", "artifacts/series", "artifacts/scripting"]).Compare);
        var error = Assert.Throws<ArgumentException>(() => RunnerOptions.Parse(["--compare", "artifacts/series"]));
        Assert.Contains("two folders", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_engine_writes_to_its_own_folder_so_both_sets_sit_side_by_side()
    {
        var root = Path.GetFullPath("/repo");
        Assert.Equal(Path.Combine(root, "artifacts", "series"), EngineRun.OutputFolder(root, RunnerEngine.Kernel, null, both: false));
        Assert.Equal(Path.Combine(root, "artifacts", "scripting"), EngineRun.OutputFolder(root, RunnerEngine.Scripting, null, both: false));
        Assert.Equal(Path.GetFullPath("/out"), EngineRun.OutputFolder(root, RunnerEngine.Scripting, "/out", both: false));
        Assert.Equal(Path.Combine(Path.GetFullPath("/out"), "scripting"), EngineRun.OutputFolder(root, RunnerEngine.Scripting, "/out", both: true));
        Assert.Equal(Path.Combine(Path.GetFullPath("/out"), "series"), EngineRun.OutputFolder(root, RunnerEngine.Kernel, "/out", both: true));
    }
}
