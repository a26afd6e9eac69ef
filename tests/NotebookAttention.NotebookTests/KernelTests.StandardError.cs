using System.Text.Json.Nodes;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

public partial class KernelTests
{
    /// <summary>
    /// Jupyter shows a cell's standard-error text as a pink box under it, and the kernel sends its compiler warnings
    /// there (CS1701 from the kernel's own <c>HTML(...)</c>, CS8632 from a <c>T?</c> on a reference type). The
    /// runner's engine, dotnet-repl, already fails on standard-error output but never receives those warnings, so
    /// this runs the notebooks through Jupyter's own client (<c>jupyter nbconvert --execute</c>, the series'
    /// loopback-only kernelspec) and fails on any standard-error or error output. 03 covers the package's extension
    /// and answer cells of matrices and vectors; 07 a cell that shows a table beside its chart. CI's Jupyter leg and
    /// the live check (<c>PageCheck --live-jupyter</c>) apply the same rule to every notebook.
    /// </summary>
    [Theory]
    [InlineData("03")]
    [InlineData("07")]
    public void Jupyter_shows_no_compiler_warning_or_other_standard_error_under_any_cell(string prefix)
    {
        var notebook = series.Runner.Notebooks.Single(n => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal));
        var jupyterHome = Path.Combine(series.Output, "jupyter-home");
        lock (series)
        {
            if (!Directory.Exists(Path.Combine(jupyterHome, "kernels", ".net-csharp")))
            {
                KernelSpec.Install(series.Runner.Root, Path.Combine(jupyterHome, "kernels"), _ => { });
            }
        }

        var output = Path.Combine(series.Output, "jupyter-executed");
        var result = Commands.Run(
            "jupyter",
            ["nbconvert", "--to", "notebook", "--execute", Path.GetFileName(notebook), "--output-dir", output,
             "--ExecutePreprocessor.kernel_name=.net-csharp", "--ExecutePreprocessor.startup_timeout=180", "--ExecutePreprocessor.timeout=600", "--log-level=WARN"],
            series.Runner.NotebooksFolder,
            TimeSpan.FromMinutes(10),
            new Dictionary<string, string> { ["JUPYTER_PATH"] = jupyterHome });
        Assert.True(result.ExitCode == 0, $"jupyter nbconvert could not run {Path.GetFileName(notebook)} (exit code {result.ExitCode}; install Debian's jupyter-nbconvert and python3-nbclient):\n{result.Output}");

        var executed = NotebookFile.Load(Path.Combine(output, Path.GetFileName(notebook)));
        var shown = executed.Cells.OfType<JsonObject>()
            .SelectMany((cell, index) => (cell["outputs"] as JsonArray ?? []).OfType<JsonObject>()
                .Where(o => (string?)o["output_type"] == "error" || ((string?)o["output_type"] == "stream" && (string?)o["name"] == "stderr"))
                .Select(o => $"cell {index}: {NotebookFile.Text(o["text"] ?? o["evalue"]).Trim()}"))
            .ToList();
        Assert.True(shown.Count == 0, $"{Path.GetFileName(notebook)} in Jupyter shows {shown.Count} standard-error or error output(s):\n{string.Join("\n", shown)}");
        Assert.Contains(OfflinePlotly.LoaderId, File.ReadAllText(Path.Combine(output, Path.GetFileName(notebook))), StringComparison.Ordinal);
    }
}
