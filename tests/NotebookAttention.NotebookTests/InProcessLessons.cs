namespace NotebookAttention.NotebookTests;

/// <summary>
/// Tests that run lessons in this process on the scripting engine. The engine records Console output and errors into
/// the running cell, and Console is process-wide: another test class writing to Console.Error at the same moment (the
/// exporter refusing a folder, say) would land in that cell. These run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InProcessLessons
{
    /// <summary>The collection's name.</summary>
    public const string Name = "lessons run in this process";
}
