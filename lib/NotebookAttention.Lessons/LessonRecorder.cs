using System.Text.Json.Nodes;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Lessons;

/// <summary>
/// Builds the executed copy of a lesson outside the kernel: the notebook's cells with each code cell's outputs as
/// the kernel would record them. Run the code cells in order, each between <see cref="BeginCell"/> and
/// <see cref="EndCell"/>; while a cell runs, <see cref="Lesson.display"/>, Console output and live lines land in
/// its outputs. Then <see cref="Save"/> writes the executed .ipynb, which <see cref="ExecutedNotebook.Slim"/> and
/// <see cref="PageWriter.WriteNotebookPage"/> turn into the offline page.
/// </summary>
/// <remarks>One cell runs at a time in a process: the running cell is process-wide, like the console.</remarks>
public sealed class LessonRecorder
{
    private static CellOutputs? running;

    /// <summary>Starts the executed copy of <paramref name="source"/>: every code cell's outputs empty, no execution counts.</summary>
    /// <param name="source">The lesson as committed (its cells, metadata and sources are kept).</param>
    public LessonRecorder(NotebookFile source)
    {
        ArgumentNullException.ThrowIfNull(source);
        LessonFormatting.Connect();
        Notebook = NotebookFile.Parse(source.Root.ToJsonString());
        foreach (var cell in Notebook.CodeCells)
        {
            cell["outputs"] = new JsonArray();
            cell["execution_count"] = null;
        }
    }

    /// <summary>The cell running now, in any recorder, or null between cells.</summary>
    public static CellOutputs? RunningCell => Volatile.Read(ref running);

    /// <summary>The executed copy, outputs so far included.</summary>
    public NotebookFile Notebook { get; }

    /// <summary>The errors recorded so far, one per failing cell output (the runner's report).</summary>
    public IReadOnlyList<CellError> Errors => Notebook.Errors();

    /// <summary>Reads a lesson from its .ipynb file.</summary>
    /// <param name="notebookPath">The committed notebook.</param>
    /// <returns>A recorder for it.</returns>
    public static LessonRecorder Load(string notebookPath) => new(NotebookFile.Load(notebookPath));

    /// <summary>Makes the code cell at <paramref name="cell"/> the running cell.</summary>
    /// <param name="cell">Zero-based index among all cells (markdown included), as <see cref="CellError.Cell"/> counts.</param>
    /// <param name="cancellation">The cell's stop signal (e.g. a time limit), given to <see cref="LiveOutput.CellCancellation"/>.</param>
    /// <returns>The cell's outputs, to add its last value or its error to.</returns>
    /// <exception cref="ArgumentOutOfRangeException">There is no code cell at that index.</exception>
    /// <exception cref="InvalidOperationException">Another cell is still running: end it first.</exception>
    public CellOutputs BeginCell(int cell, CancellationToken cancellation = default)
    {
        if (cell < 0 || cell >= Notebook.Cells.Count || Notebook.Cells[cell] is not JsonObject json || (string?)json["cell_type"] != "code")
        {
            throw new ArgumentOutOfRangeException(nameof(cell), cell, $"cell {cell} is not a code cell of this notebook ({Notebook.Cells.Count} cells): count all cells from 0, markdown included.");
        }

        var outputs = new CellOutputs(cell, cancellation);
        if (Interlocked.CompareExchange(ref running, outputs, null) is { } other)
        {
            throw new InvalidOperationException($"cell {other.Cell} is still running: call EndCell before starting cell {cell}.");
        }

        return outputs;
    }

    /// <summary>
    /// Ends the running cell and stores its outputs in <see cref="Notebook"/>, Console streams after the displayed
    /// values and errors, as dotnet-repl writes them (notebook 06's race cell: its chart, then its progress lines).
    /// </summary>
    /// <exception cref="InvalidOperationException">No cell is running.</exception>
    public void EndCell()
    {
        var outputs = Interlocked.Exchange(ref running, null) ?? throw new InvalidOperationException("no cell is running: call BeginCell first.");
        var all = outputs.Snapshot();
        static bool IsStream(JsonNode? output) => (string?)output?["output_type"] == "stream";
        Notebook.Cells[outputs.Cell]!["outputs"] = new JsonArray([.. all.Where(o => !IsStream(o)), .. all.Where(IsStream)]);
    }

    /// <summary>Writes the executed notebook.</summary>
    /// <param name="path">The .ipynb to write; its folder must exist.</param>
    public void Save(string path) => Notebook.Save(path);
}
