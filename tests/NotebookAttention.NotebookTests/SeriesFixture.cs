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

    /// <summary>The runner.</summary>
    public SeriesRunner Runner { get; }

    /// <summary>Where executed notebooks go.</summary>
    public string Output { get; }

    /// <summary>Runs one notebook (by file-name prefix) with an optional sentence and returns the run.</summary>
    public NotebookRun Run(string prefix, string? sentence = null, string label = "default")
    {
        var notebook = Runner.Notebooks.Single(n => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal));
        return Runner.Execute(notebook, Path.Combine(Output, label), TimeSpan.FromMinutes(5), sentence);
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
