using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookAttention.Lessons;

/// <summary>One cell's error in an executed notebook.</summary>
/// <param name="Cell">Zero-based index of the cell among all cells.</param>
/// <param name="Message">What the kernel reported.</param>
public sealed record CellError(int Cell, string Message);

/// <summary>Reads and rewrites .ipynb files (nbformat 4) as JSON.</summary>
public sealed class NotebookFile
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private NotebookFile(JsonObject root) => Root = root;

    /// <summary>The notebook JSON.</summary>
    public JsonObject Root { get; }

    /// <summary>All cells.</summary>
    public JsonArray Cells => Root["cells"] as JsonArray ?? throw new InvalidDataException("the notebook has no \"cells\" array.");

    /// <summary>The code cells.</summary>
    public IEnumerable<JsonObject> CodeCells => Cells.OfType<JsonObject>().Where(c => (string?)c["cell_type"] == "code");

    /// <summary>Reads a notebook.</summary>
    /// <param name="path">The .ipynb file.</param>
    public static NotebookFile Load(string path) =>
        new(JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path} is not a JSON object, so not a notebook."));

    /// <summary>Reads a notebook from its JSON text.</summary>
    /// <param name="json">The .ipynb content.</param>
    public static NotebookFile Parse(string json) =>
        new(JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("this text is not a JSON object, so not a notebook."));

    /// <summary>Writes the notebook as indented JSON.</summary>
    /// <param name="path">Where to write.</param>
    public void Save(string path) => File.WriteAllText(path, Root.ToJsonString(Indented) + "\n");

    /// <summary>The text of a cell's source.</summary>
    /// <param name="cell">A cell.</param>
    /// <returns>Its source as one string.</returns>
    public static string Source(JsonObject cell) => Text(cell["source"]);

    /// <summary>A multi-line notebook string (a string or an array of strings) as one string.</summary>
    /// <param name="node">The JSON value.</param>
    public static string Text(JsonNode? node) => node switch
    {
        JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
        JsonValue value => (string?)value ?? string.Empty,
        _ => string.Empty,
    };

    /// <summary>The errors in the outputs of the code cells.</summary>
    /// <returns>One entry per failing cell.</returns>
    public IReadOnlyList<CellError> Errors()
    {
        var errors = new List<CellError>();
        for (var i = 0; i < Cells.Count; i++)
        {
            if (Cells[i] is not JsonObject cell || cell["outputs"] is not JsonArray outputs)
            {
                continue;
            }

            foreach (var output in outputs.OfType<JsonObject>())
            {
                if ((string?)output["output_type"] == "error")
                {
                    errors.Add(new CellError(i, $"{(string?)output["ename"]}: {(string?)output["evalue"]}".Trim()));
                }
                else if ((string?)output["output_type"] == "stream" && (string?)output["name"] == "stderr")
                {
                    errors.Add(new CellError(i, Text(output["text"]).Trim()));
                }
            }
        }

        return errors;
    }
}
