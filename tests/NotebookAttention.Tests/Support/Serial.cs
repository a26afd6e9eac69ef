namespace NotebookAttention.Tests.Support;

/// <summary>
/// Tests that count process-wide allocations, time work, or flip the process-wide kernel switch
/// (<see cref="Fast.Microkernels.Level"/>) run alone: xunit runs this collection after the parallel ones,
/// one test at a time, so other tests' allocations and load do not leak into their measurements and no other test
/// runs while the switch is flipped.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasurementsRunAlone
{
    /// <summary>The collection name.</summary>
    public const string Name = "measurements run alone";
}
