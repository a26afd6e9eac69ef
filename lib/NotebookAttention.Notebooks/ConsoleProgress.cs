namespace NotebookAttention.Notebooks;

/// <summary>
/// Progress lines written at once to the cell's output (unlike <see cref="Progress{T}"/>, which may deliver them
/// after the cell has finished), so a long measurement shows where it is.
/// </summary>
public sealed class ConsoleProgress : IProgress<string>
{
    /// <inheritdoc />
    public void Report(string value) => Console.WriteLine(value);
}
