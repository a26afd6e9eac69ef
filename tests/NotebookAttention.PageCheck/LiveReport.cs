using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NotebookAttention.PageCheck;

/// <summary>Where a code cell is, read from the prompt the classic notebook shows beside it.</summary>
public enum CellState
{
    /// <summary><c>In [ ]:</c>: not run in this session (or its run was aborted after an earlier cell failed).</summary>
    NotRun,

    /// <summary><c>In [*]:</c>: queued or running.</summary>
    Running,

    /// <summary><c>In [7]:</c>: the kernel ran it and gave it an execution count.</summary>
    Run,
}

/// <summary>
/// One look at a notebook page while it runs: the prompt of every code cell and the kernel indicator, as the page
/// shows them to the learner.
/// </summary>
/// <param name="Prompts">The text of each code cell's input prompt, in order, e.g. <c>In [3]:</c>.</param>
/// <param name="KernelIcon">The class of the kernel indicator (<c>kernel_idle_icon</c>, <c>kernel_busy_icon</c>, <c>kernel_dead_icon</c>, ...).</param>
/// <param name="Connected">Whether the page's kernel websocket is open.</param>
public sealed partial record PageProgress(IReadOnlyList<string> Prompts, string KernelIcon, bool Connected)
{
    /// <summary>Reads the JSON that <see cref="LiveScripts.Progress"/> returns.</summary>
    /// <param name="json"><c>{"prompts": [...], "kernel": "...", "connected": true}</c>.</param>
    /// <returns>The progress.</returns>
    public static PageProgress Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new PageProgress(
            [.. root.GetProperty("prompts").EnumerateArray().Select(p => p.GetString() ?? string.Empty)],
            root.GetProperty("kernel").GetString() ?? string.Empty,
            root.GetProperty("connected").GetBoolean());
    }

    /// <summary>Reads a prompt: <c>In [ ]:</c>, <c>In [*]:</c> or <c>In [12]:</c> (blanks inside the brackets ignored).</summary>
    /// <param name="prompt">The prompt's text.</param>
    /// <returns>The cell's state.</returns>
    /// <exception cref="FormatException">The text is not a classic-notebook input prompt.</exception>
    public static CellState StateOf(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var match = PromptPattern().Match(prompt);
        if (!match.Success)
        {
            throw new FormatException($"\"{prompt}\" is not an input prompt such as \"In [3]:\": the classic notebook's page layout changed, so the live check cannot tell which cells ran.");
        }

        var inside = match.Groups[1].Value.Trim();
        return inside.Length == 0 ? CellState.NotRun : inside == "*" ? CellState.Running : CellState.Run;
    }

    /// <summary>Code cells the kernel has run (they show an execution count).</summary>
    public int Run => Prompts.Count(p => StateOf(p) == CellState.Run);

    /// <summary>Code cells queued or running.</summary>
    public int Running => Prompts.Count(p => StateOf(p) == CellState.Running);

    /// <summary>The kernel indicator says the kernel has died.</summary>
    public bool KernelDead => KernelIcon.Contains("kernel_dead_icon", StringComparison.Ordinal);

    /// <summary>The kernel is connected and idle: ready for Run All, or done with it when nothing is running.</summary>
    public bool KernelIdle => Connected && KernelIcon.Contains("kernel_idle_icon", StringComparison.Ordinal);

    /// <summary>After Run All: no cell is queued or running and the kernel is idle (or dead, which ends the wait too).</summary>
    public bool Settled => KernelDead || (KernelIdle && Running == 0);

    [GeneratedRegex(@"^\s*In\s*\[([^\]]*)\]:?\s*$")]
    private static partial Regex PromptPattern();
}

/// <summary>What a notebook page shows once its cells have run: charts drawn, errors and compiler warnings.</summary>
/// <param name="Charts">Chart containers (<c>.na-chart</c>) in the notebook's outputs.</param>
/// <param name="Drawn">Charts with plotly's SVG present and non-empty (it has content and a size).</param>
/// <param name="Heatmaps">Charts whose figure holds a heatmap.</param>
/// <param name="HeatmapsDrawn">Heatmap charts with plotly's heatmap layer painted.</param>
/// <param name="Errors">Error outputs, and standard-error text that is not only compiler warnings, each as "cell N: ..." (N counts every cell from 1).</param>
/// <param name="Warnings">Standard-error text made only of compiler warnings (the kernel writes them there), each as "cell N: warning CS8632: ...".</param>
public sealed partial record PageOutputs(int Charts, int Drawn, int Heatmaps, int HeatmapsDrawn, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings)
{
    private const int ShownLength = 300;

    /// <summary>
    /// Reads the JSON that <see cref="LiveScripts.Outputs"/> returns and sorts the cells' outputs: an error output,
    /// or anything shown as one, is an error; standard-error text is a warning when each of its lines is a compiler
    /// warning (<c>warning CS8632: ...</c>, optionally after a position such as <c>(1,15): </c>), else an error (a
    /// traceback, an exception, a message). Each keeps its first line, which says what happened.
    /// </summary>
    /// <param name="json"><c>{"charts": n, "drawn": n, "heatmaps": n, "heatmapsDrawn": n, "outputs": [{"cell": n, "kind": "error|stderr|shown", "text": "..."}]}</c>.</param>
    /// <returns>The outputs.</returns>
    public static PageOutputs Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var errors = new List<string>();
        var warnings = new List<string>();
        foreach (var output in root.GetProperty("outputs").EnumerateArray())
        {
            var text = (output.GetProperty("text").GetString() ?? string.Empty).Trim();
            var shown = string.Create(CultureInfo.InvariantCulture, $"cell {output.GetProperty("cell").GetInt32()}: ") + FirstLine(text);
            (output.GetProperty("kind").GetString() == "stderr" && OnlyCompilerWarnings(text) ? warnings : errors).Add(shown);
        }

        return new PageOutputs(
            root.GetProperty("charts").GetInt32(),
            root.GetProperty("drawn").GetInt32(),
            root.GetProperty("heatmaps").GetInt32(),
            root.GetProperty("heatmapsDrawn").GetInt32(),
            errors,
            warnings);
    }

    /// <summary>Every chart and every heatmap drawn.</summary>
    public bool AllDrawn => Drawn == Charts && HeatmapsDrawn == Heatmaps;

    /// <summary>Nothing on standard error and no error output: the learner sees no pink or red box.</summary>
    public bool Clean => Errors.Count == 0 && Warnings.Count == 0;

    /// <summary>The first line (what failed or what the compiler warns about; a stack trace or more warnings may follow), cut at <see cref="ShownLength"/> characters.</summary>
    private static string FirstLine(string text)
    {
        var first = text.ReplaceLineEndings("\n").Split('\n')[0];
        return (first.Length > ShownLength ? first[..ShownLength] + "…" : first) + (first.Length < text.Length ? " …" : string.Empty);
    }

    /// <summary>Whether every non-blank line of the text is a compiler warning.</summary>
    private static bool OnlyCompilerWarnings(string text)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length > 0 && lines.All(l => CompilerWarning().IsMatch(l));
    }

    [GeneratedRegex(@"^(?:\(\d+,\d+\):\s*)?warning [A-Z]+\d+:")]
    private static partial Regex CompilerWarning();
}

/// <summary>How one notebook went when a learner's Run All was clicked on it.</summary>
/// <param name="Notebook">The notebook's file name.</param>
/// <param name="CodeCells">Code cells on the page.</param>
/// <param name="StartSeconds">From opening the page until the kernel was idle and Run All could be clicked.</param>
/// <param name="RunSeconds">From the click until every cell had run and every chart was drawn (or the wait gave up).</param>
/// <param name="BudgetSeconds">The time limit for <paramref name="StartSeconds"/> plus <paramref name="RunSeconds"/>.</param>
/// <param name="Progress">The last look at the prompts and the kernel.</param>
/// <param name="Outputs">Charts and errors on the page at the end.</param>
/// <param name="Problems">What went wrong outside the cells: the time limit, a dead kernel, script errors on the page.</param>
public sealed record LiveNotebookReport(string Notebook, int CodeCells, double StartSeconds, double RunSeconds, double BudgetSeconds, PageProgress Progress, PageOutputs Outputs, IReadOnlyList<string> Problems)
{
    /// <summary>
    /// Every code cell ran, at least one chart was shown, every chart and heatmap was drawn, and no cell shows an
    /// error or anything on standard error: a compiler warning is a pink box the learner sees, so it fails too.
    /// </summary>
    public bool Passed => CodeCells > 0 && Progress.Run == CodeCells && Outputs.Charts > 0 && Outputs.AllDrawn && Outputs.Clean && Problems.Count == 0;

    /// <inheritdoc />
    public override string ToString() =>
        $"{(Passed ? "ok  " : "FAIL")} {Notebook}: "
        + string.Create(CultureInfo.InvariantCulture, $"{RunSeconds:0.0} s after Run All (kernel ready in {StartSeconds:0.0} s; limit {BudgetSeconds:0.#} s), ")
        + $"{Progress.Run}/{CodeCells} cells run, {Outputs.Drawn}/{Outputs.Charts} charts drawn, {Outputs.HeatmapsDrawn}/{Outputs.Heatmaps} heatmaps drawn, {Outputs.Errors.Count} errors, {Outputs.Warnings.Count} compiler warnings"
        + (Outputs.Charts == 0 ? "\n       no chart on the page: the notebook's charts were not shown" : string.Empty)
        + string.Concat(Outputs.Errors.Select(e => $"\n       error: {e}"))
        + string.Concat(Outputs.Warnings.Select(w => $"\n       compiler warning on stderr: {w}"))
        + string.Concat(Problems.Select(p => $"\n       {p}"));
}

/// <summary>
/// The charts a notebook should show on the live page: those the kernel drew when the runner executed it
/// (<c>artifacts/series/NN-name.ipynb</c>), counted as the engine comparison counts them, by their
/// <c>class="na-chart"</c> containers. A live page that shows fewer lost a chart on the way.
/// </summary>
public static class ExpectedCharts
{
    /// <summary>The charts in an executed notebook's HTML outputs.</summary>
    /// <param name="executedNotebook">An executed .ipynb.</param>
    /// <returns>How many chart containers its outputs hold.</returns>
    public static int Count(string executedNotebook)
    {
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(executedNotebook));
        var count = 0;
        foreach (var cell in document.RootElement.GetProperty("cells").EnumerateArray())
        {
            if (!cell.TryGetProperty("outputs", out var outputs))
            {
                continue;
            }

            foreach (var output in outputs.EnumerateArray())
            {
                if (output.TryGetProperty("data", out var data) && data.TryGetProperty("text/html", out var html))
                {
                    var text = html.ValueKind == System.Text.Json.JsonValueKind.Array ? string.Concat(html.EnumerateArray().Select(l => l.GetString())) : html.GetString() ?? string.Empty;
                    count += (text.Length - text.Replace(ChartMarker, string.Empty, StringComparison.Ordinal).Length) / ChartMarker.Length;
                }
            }
        }

        return count;
    }

    /// <summary>What marks a chart's container in a notebook output.</summary>
    public const string ChartMarker = "class=\"na-chart\"";

    /// <summary>The failure when the live page showed another number of charts than the kernel's executed copy, or null.</summary>
    /// <param name="report">One notebook's live report.</param>
    /// <param name="executedNotebook">The kernel's executed copy; when it does not exist, nothing is compared.</param>
    /// <returns>The failure, or null when the counts match or there is nothing to compare with.</returns>
    public static string? Mismatch(LiveNotebookReport report, string executedNotebook)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!File.Exists(executedNotebook))
        {
            return null;
        }

        var expected = Count(executedNotebook);
        return report.Outputs.Charts == expected ? null : $"{report.Notebook}: {report.Outputs.Charts} chart(s) on the live page, {expected} in the kernel's executed copy {executedNotebook}";
    }
}
