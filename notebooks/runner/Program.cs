using System.Globalization;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;

// Runs the notebook series: dotnet run --project notebooks/runner [-- --only 03 --sentence "..." --output DIR]
// or installs its Jupyter kernelspec: dotnet run --project notebooks/runner -- --install-kernel [DIR]
// or writes every notebook as a file-based app: dotnet run --project notebooks/runner -- --export-apps DIR
var options = RunnerOptions.Parse(args);
if (options.Help)
{
    Console.WriteLine(RunnerOptions.Usage);
    return 0;
}

var runner = new SeriesRunner(SeriesRunner.FindRoot());
if (options.InstallKernel)
{
    try
    {
        var installed = KernelSpec.Install(runner.Root, options.KernelFolder ?? KernelSpec.DefaultFolder(), line => Console.WriteLine($"  {line}"));
        Console.WriteLine($"installed {installed.Count} kernelspec(s), each listening on 127.0.0.1 only: {string.Join(", ", installed.Select(Path.GetDirectoryName))}");
        return 0;
    }
    catch (Exception error) when (error is InvalidOperationException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"installing the kernelspec failed: {error.Message}");
        return 1;
    }
}

if (options.ExportApps is not null)
{
    return AppExporter.Command(runner, options.ExportApps, options.Only);
}

var output = Path.GetFullPath(options.Output ?? Path.Combine(runner.Root, "artifacts", "series"));
var notebooks = runner.Notebooks.Where(n => options.Only.Count == 0 || options.Only.Any(o => Path.GetFileName(n).StartsWith(o, StringComparison.Ordinal))).ToList();
if (notebooks.Count == 0)
{
    Console.Error.WriteLine($"no notebook matches {string.Join(", ", options.Only)} in {runner.NotebooksFolder}: use the number at the start of a file name, e.g. --only 03.");
    return 2;
}

Console.WriteLine($"NotebookAttention series: {notebooks.Count} notebook(s) -> {output}");
try
{
    runner.Prepare(line => Console.WriteLine($"  {line}"));
}
catch (InvalidOperationException error)
{
    Console.Error.WriteLine($"preparing the series failed: {error.Message}");
    return 1;
}

Directory.CreateDirectory(output);
File.WriteAllText(Path.Combine(output, OfflinePlotly.FileName), OfflinePlotly.Script());
var runs = new List<NotebookRun>();
for (var i = 0; i < notebooks.Count; i++)
{
    Console.Write($"[{i + 1}/{notebooks.Count}] {Path.GetFileName(notebooks[i])} ... ");
    var run = runner.Execute(notebooks[i], output, TimeSpan.FromSeconds(options.TimeoutSeconds), options.Sentence);
    if (File.Exists(run.ExecutedPath))
    {
        ExecutedNotebook.Slim(run.ExecutedPath);
    }

    runs.Add(run);
    var summaries = File.Exists(run.ExecutedPath) ? ExecutedNotebook.Summaries(run.ExecutedPath) : [];
    Console.WriteLine((run.Succeeded
        ? $"ok ({run.CodeCells} cells, {run.Seconds:0.0} s, {PageWriter.Size(run.ExecutedPath)})"
        : $"FAILED ({run.Errors.Count} error(s), {run.Seconds:0.0} s)") + string.Concat(summaries.Select(s => $" · {s}")));
    foreach (var error in run.Errors)
    {
        Console.WriteLine($"    cell {error.Cell}: {error.Message}");
    }
}

for (var i = 0; i < runs.Count; i++)
{
    if (File.Exists(runs[i].ExecutedPath))
    {
        PageWriter.WriteNotebookPage(
            runs[i].ExecutedPath,
            Path.Combine(output, Path.ChangeExtension(runs[i].Name, ".html")),
            i > 0 ? Path.ChangeExtension(runs[i - 1].Name, ".html") : null,
            i < runs.Count - 1 ? Path.ChangeExtension(runs[i + 1].Name, ".html") : null);
    }
}

PageWriter.WriteIndex(output, runs);
var failed = runs.Count(r => !r.Succeeded);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"summary: {runs.Count} notebooks, {runs.Sum(r => r.CodeCells)} code cells, {runs.Sum(r => r.Seconds):0.0} s, {failed} failed; pages: {Path.Combine(output, "index.html")}"));
return failed == 0 ? 0 : 1;
