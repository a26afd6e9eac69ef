using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>One exercise of a notebook: its number, its answer cell and the code of its solution.</summary>
/// <param name="Number">The exercise number, from 1.</param>
/// <param name="AnswerCell">Index, among all cells, of the code cell the learner answers in.</param>
/// <param name="Check">The check the answer cell calls, e.g. "Exercises.Qkv.RowsOfQ".</param>
/// <param name="Solution">The solution: a complete replacement of the answer cell.</param>
public sealed record ExerciseCells(int Number, int AnswerCell, string Check, string Solution);

/// <summary>
/// Reads the series' exercise layout: a markdown cell "**Exercise N.** ...", then the answer cell (it holds
/// <see cref="AnswerMarker"/> and calls an <c>Exercises.</c> check), then a markdown cell that starts with
/// <c>&lt;details&gt;&lt;summary&gt;Solution to exercise N&lt;/summary&gt;</c> and holds one <c>```csharp</c> block.
/// Solutions are markdown, so "Run All" never runs them and they stay folded until the learner opens one.
/// </summary>
public static partial class ExerciseLayout
{
    /// <summary>The comment that marks an answer cell.</summary>
    public const string AnswerMarker = "// ✎ your answer";

    /// <summary>Reads every exercise of a notebook, checking the layout as it goes.</summary>
    /// <param name="notebook">The notebook.</param>
    /// <returns>The exercises in order.</returns>
    /// <exception cref="InvalidDataException">The layout is broken; the message says where and how.</exception>
    public static IReadOnlyList<ExerciseCells> Read(NotebookFile notebook)
    {
        var cells = notebook.Cells.OfType<JsonObject>().ToList();
        var exercises = new List<ExerciseCells>();
        for (var i = 0; i < cells.Count; i++)
        {
            var source = NotebookFile.Source(cells[i]);
            if (Kind(cells[i]) != "code" || !source.Contains(AnswerMarker, StringComparison.Ordinal))
            {
                continue;
            }

            var number = exercises.Count + 1;
            var check = CheckCall().Match(source);
            Require(check.Success, $"answer cell {i} has no Exercises.<Notebook>.<Check>(...) call");
            Require(i > 0 && Kind(cells[i - 1]) == "markdown" && NotebookFile.Source(cells[i - 1]).Contains($"**Exercise {number}.**", StringComparison.Ordinal),
                $"answer cell {i} must follow a markdown cell with \"**Exercise {number}.**\"");
            Require(i + 1 < cells.Count && Kind(cells[i + 1]) == "markdown", $"answer cell {i} must be followed by its solution (a markdown cell)");
            var solutionText = NotebookFile.Source(cells[i + 1]);
            var opening = $"<details><summary>Solution to exercise {number}</summary>";
            Require(solutionText.StartsWith(opening, StringComparison.Ordinal), $"the cell after answer cell {i} must start with {opening}");
            Require(solutionText.TrimEnd().EndsWith("</details>", StringComparison.Ordinal), $"the solution to exercise {number} must end with </details>");
            var blocks = CSharpBlock().Matches(solutionText);
            Require(blocks.Count == 1, $"the solution to exercise {number} must hold exactly one ```csharp block; it holds {blocks.Count}");
            var solution = blocks[0].Groups["code"].Value;
            Require(solution.Contains(check.Value, StringComparison.Ordinal), $"the solution to exercise {number} must call {check.Value}, as its answer cell does");
            Require(!solution.Contains(AnswerMarker, StringComparison.Ordinal), $"the solution to exercise {number} still says \"{AnswerMarker}\"");
            exercises.Add(new ExerciseCells(number, i, check.Value.TrimEnd('('), solution));
        }

        return exercises;
    }

    /// <summary>Replaces every answer cell with its solution, as a learner who opened each solution would.</summary>
    /// <param name="notebook">The notebook, changed in place.</param>
    /// <returns>The exercises that were filled in.</returns>
    public static IReadOnlyList<ExerciseCells> FillInSolutions(NotebookFile notebook)
    {
        var exercises = Read(notebook);
        foreach (var exercise in exercises)
        {
            notebook.Cells[exercise.AnswerCell]!["source"] = exercise.Solution;
        }

        return exercises;
    }

    /// <summary>The exercise verdicts (<c>na-correct</c>, <c>na-wrong</c>, <c>na-notanswered</c>) an executed cell showed.</summary>
    /// <param name="html">The cell's HTML output.</param>
    /// <returns>The verdict classes in order.</returns>
    public static IReadOnlyList<string> Verdicts(string html) =>
        [.. Verdict().Matches(html).Select(m => m.Groups["status"].Value)];

    private static string? Kind(JsonObject cell) => (string?)cell["cell_type"];

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidDataException(message + ".");
        }
    }

    [GeneratedRegex(@"Exercises\.\w+\.\w+\(")]
    private static partial Regex CheckCall();

    [GeneratedRegex(@"```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"class=""na-exercise na-(?<status>\w+)""")]
    private static partial Regex Verdict();
}
