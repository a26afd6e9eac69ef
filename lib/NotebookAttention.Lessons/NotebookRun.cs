namespace NotebookAttention.Lessons;

/// <summary>How one notebook ran.</summary>
/// <param name="Name">File name, e.g. 03-weighted-sum.ipynb.</param>
/// <param name="CodeCells">Number of code cells.</param>
/// <param name="Seconds">Wall-clock time of the run (kernel or scripting engine).</param>
/// <param name="Errors">Cell errors, empty when every cell ran.</param>
/// <param name="ExecutedPath">The executed notebook (outputs included).</param>
/// <param name="Log">What the engine printed (the kernel's log; empty for the scripting engine, which records into the notebook).</param>
public sealed record NotebookRun(string Name, int CodeCells, double Seconds, IReadOnlyList<CellError> Errors, string ExecutedPath, string Log)
{
    /// <summary>True when every cell ran without error.</summary>
    public bool Succeeded => Errors.Count == 0;
}
