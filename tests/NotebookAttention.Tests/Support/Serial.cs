namespace NotebookAttention.Tests.Support;

/// <summary>
/// Tests that count process-wide allocations or time work run alone, so other tests' allocations and load do not
/// leak into their measurements.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasurementsRunAlone
{
    /// <summary>The collection name.</summary>
    public const string Name = "measurements run alone";
}
