using NotebookAttention.Runner;

// Runs the notebook series: dotnet run --project notebooks/runner [-- --engine kernel|scripting|both --only 03 --sentence "..." --output DIR]
// or installs its Jupyter kernelspec: dotnet run --project notebooks/runner -- --install-kernel [DIR]
// or writes every notebook as a file-based app: dotnet run --project notebooks/runner -- --export-apps DIR
var options = RunnerOptions.Parse(args);
if (options.Help)
{
    Console.WriteLine(RunnerOptions.Usage);
    return 0;
}

if (options.Compare is { } folders)
{
    return Agreement.Report(folders.First, folders.Second, Console.Out);
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
    return AppExporter.Command(runner, options.ExportApps, options.Only, options.Force);
}

var notebooks = runner.Notebooks.Where(n => options.Only.Count == 0 || options.Only.Any(o => Path.GetFileName(n).StartsWith(o, StringComparison.Ordinal))).ToList();
if (notebooks.Count == 0)
{
    Console.Error.WriteLine($"no notebook matches {string.Join(", ", options.Only)} in {runner.NotebooksFolder}: use the number at the start of a file name, e.g. --only 03.");
    return 2;
}

var engines = options.Engine == RunnerEngine.Both ? [RunnerEngine.Kernel, RunnerEngine.Scripting] : new[] { options.Engine };
foreach (var engine in engines)
{
    try
    {
        OutputGuard.RefuseNotebooksFolder(EngineRun.OutputFolder(runner.Root, engine, options.Output, options.Engine == RunnerEngine.Both), runner.NotebooksFolder, "--output");
    }
    catch (ArgumentException error)
    {
        Console.Error.WriteLine(error.Message);
        return 2;
    }
}

var series = new List<EngineRun>();
foreach (var engine in engines)
{
    var output = EngineRun.OutputFolder(runner.Root, engine, options.Output, options.Engine == RunnerEngine.Both);
    Console.WriteLine($"NotebookAttention series on the {EngineRun.Name(engine)} engine: {notebooks.Count} notebook(s) -> {output}");
    if (engine == RunnerEngine.Kernel)
    {
        try
        {
            runner.Prepare(line => Console.WriteLine($"  {line}"));
        }
        catch (InvalidOperationException error)
        {
            Console.Error.WriteLine($"preparing the series failed: {error.Message}");
            return 1;
        }
    }

    var scripting = new ScriptingEngine(runner.NotebooksFolder);
    series.Add(EngineRun.Run(engine, notebooks, output, Console.Out, notebook => engine == RunnerEngine.Kernel
        ? runner.Execute(notebook, output, TimeSpan.FromSeconds(options.TimeoutSeconds), options.Sentence)
        : scripting.Execute(notebook, output, TimeSpan.FromSeconds(options.TimeoutSeconds), options.Sentence)));
}

foreach (var run in series)
{
    Console.WriteLine(run.Summary());
}

var agree = series.Count < 2 || Agreement.Report(series[0].Output, series[1].Output, Console.Out, [.. notebooks.Select(Path.GetFileName).OfType<string>()]) == 0;
return series.All(r => r.Failed == 0) && agree ? 0 : 1;
