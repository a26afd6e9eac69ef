using NotebookAttention.Notebooks;
using NotebookAttention.PageCheck;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>Packs the library and restores the kernel once for every test that runs notebooks.</summary>
public sealed class SeriesFixture : IDisposable
{
    /// <summary>Prepares the series.</summary>
    public SeriesFixture()
    {
        Runner = new SeriesRunner(SeriesRunner.FindRoot());
        Runner.Prepare(_ => { });
        Output = Directory.CreateTempSubdirectory("notebook-attention-tests-").FullName;
    }

    private readonly Dictionary<(string Prefix, string? Sentence, string Label), NotebookRun> runs = [];

    /// <summary>The runner.</summary>
    public SeriesRunner Runner { get; }

    /// <summary>Where executed notebooks go.</summary>
    public string Output { get; }

    /// <summary>
    /// Runs one notebook (by file-name prefix) with an optional sentence and returns the run; a second test asking for
    /// the same notebook, sentence and label gets the first run instead of running it again.
    /// </summary>
    public NotebookRun Run(string prefix, string? sentence = null, string label = "default")
    {
        lock (runs)
        {
            if (!runs.TryGetValue((prefix, sentence, label), out var run))
            {
                var notebook = Runner.Notebooks.Single(n => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal));
                run = Runner.Execute(notebook, Path.Combine(Output, label), TimeSpan.FromMinutes(5), sentence);
                runs[(prefix, sentence, label)] = run;
            }

            return run;
        }
    }

    /// <summary>
    /// Runs a copy of one notebook whose answer cells hold their solutions (see <see cref="ExerciseLayout"/>), as a
    /// learner who opened every solution would; cached like <see cref="Run"/>.
    /// </summary>
    public (NotebookRun Run, IReadOnlyList<ExerciseCells> Exercises) RunWithSolutions(string prefix)
    {
        lock (runs)
        {
            var notebook = Runner.Notebooks.Single(n => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal));
            var solved = NotebookFile.Load(notebook);
            var exercises = ExerciseLayout.FillInSolutions(solved);
            if (!runs.TryGetValue((prefix, null, "solved"), out var run))
            {
                var source = Path.Combine(Output, "solved-source");
                Directory.CreateDirectory(source);
                var copy = Path.Combine(source, Path.GetFileName(notebook));
                solved.Save(copy);
                run = Runner.Execute(copy, Path.Combine(Output, "solved"), TimeSpan.FromMinutes(5));
                runs[(prefix, null, "solved")] = run;
            }

            return (run, exercises);
        }
    }

    /// <summary>
    /// Writes the page of an executed notebook as the runner does (slimmed, plotly.js beside it) and opens it in
    /// headless Chromium, offline: every chart must be drawn within <paramref name="budgetSeconds"/>.
    /// </summary>
    public async Task<PageReport> CheckPageAsync(NotebookRun run, double budgetSeconds)
    {
        const string chromium = ChromiumTheoryAttribute.Chromium;

        var pages = Path.Combine(Output, "pages", Path.GetFileName(Path.GetDirectoryName(run.ExecutedPath)!));
        Directory.CreateDirectory(pages);
        var slim = Path.Combine(pages, run.Name);
        File.Copy(run.ExecutedPath, slim, overwrite: true);
        ExecutedNotebook.Slim(slim);
        File.WriteAllText(Path.Combine(pages, OfflinePlotly.FileName), OfflinePlotly.Script());
        var page = Path.ChangeExtension(slim, ".html");
        PageWriter.WriteNotebookPage(slim, page, null, null);
        return (await PageChecker.CheckAsync([page], chromium, null, budgetSeconds)).Single();
    }

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(Output, recursive: true);
}

/// <summary>Notebook runs share one kernel preparation and run one at a time (two cores).</summary>
[CollectionDefinition(Name)]
public sealed class SeriesGroup : ICollectionFixture<SeriesFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "notebook series";
}

/// <summary>
/// A theory that opens pages in Debian's Chromium: reported as skipped, with how to install it, on a machine without
/// it (README's test command must pass on a machine with only the .NET SDK). CI installs Chromium first, so there it
/// always runs.
/// </summary>
public sealed class ChromiumTheoryAttribute : TheoryAttribute
{
    /// <summary>Where Debian installs Chromium.</summary>
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>Marks the theory skipped when there is no browser to run it.</summary>
    public ChromiumTheoryAttribute()
    {
        if (!File.Exists(Chromium))
        {
            Skip = $"needs a browser at {Chromium}: install Debian's chromium (apt-get install -y chromium); .ci/run does.";
        }
    }
}
