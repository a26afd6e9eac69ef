using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using Plotly.NET;
using PlotlyChart = Plotly.NET.CSharp.Chart;

namespace NotebookAttention.Notebooks;

/// <summary>What one head attended to at one step of training, on one fixed sequence.</summary>
/// <param name="Step">Optimizer steps taken when the picture was taken (0: before training).</param>
/// <param name="Weights">The head's attention weights on the sequence, [n x n]: row = query, column = key.</param>
/// <param name="ShareOnAnswer">Mean over the scored queries of the weight on the key that holds the answer (see <see cref="AttentionShare"/>).</param>
public sealed record AttentionFrame(int Step, Matrix<double> Weights, double ShareOnAnswer);

/// <summary>
/// How close a head is to the ideal pattern of a task: the share of its weight that lands on the right key. A task
/// names, for each query position, the input position that holds the answer (<c>ISequenceTask.AnswerPositions</c>);
/// the ideal head puts all its weight there (share 1), an untrained one spreads it (about 1/n over n keys).
/// </summary>
public static class AttentionShare
{
    /// <summary>The mean, over queries with an answer position, of the weight on that position.</summary>
    /// <param name="weights">Attention weights, [n x n].</param>
    /// <param name="answers">For each query, the answer's key position, or a negative number where nothing is scored.</param>
    /// <returns>A number from 0 to 1.</returns>
    /// <exception cref="ArgumentException">The sizes differ, an answer position is outside the sequence, or no query is scored.</exception>
    public static double OnAnswers(Matrix<double> weights, IReadOnlyList<int> answers)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(answers);
        if (answers.Count != weights.RowCount)
        {
            throw new ArgumentException($"there are {answers.Count} answer positions for {weights.RowCount} queries: give one per query (negative where nothing is scored).", nameof(answers));
        }

        var total = 0.0;
        var scored = 0;
        for (var query = 0; query < answers.Count; query++)
        {
            if (answers[query] < 0)
            {
                continue;
            }

            if (answers[query] >= weights.ColumnCount)
            {
                throw new ArgumentException($"query {query}'s answer is at position {answers[query]}, but there are only {weights.ColumnCount} keys.", nameof(answers));
            }

            total += weights[query, answers[query]];
            scored++;
        }

        return scored == 0
            ? throw new ArgumentException("no query has an answer position: the task scores nothing in this sequence.", nameof(answers))
            : total / scored;
    }

    /// <summary>
    /// The share for several heads together: for each query with an answer position, the largest weight any head puts
    /// on that position, averaged over those queries. Heads that split the queries between them score as one.
    /// </summary>
    /// <param name="heads">One [n x n] weights matrix per head (at least one).</param>
    /// <param name="answers">For each query, the answer's key position, or a negative number where nothing is scored.</param>
    /// <returns>A number from 0 to 1; with one head, <see cref="OnAnswers"/>.</returns>
    /// <exception cref="ArgumentException">No head, sizes that differ, or no query scored.</exception>
    public static double OnAnswersAcrossHeads(IReadOnlyList<Matrix<double>> heads, IReadOnlyList<int> answers)
    {
        ArgumentNullException.ThrowIfNull(heads);
        if (heads.Count == 0)
        {
            throw new ArgumentException("there is no head: give at least one weights matrix.", nameof(heads));
        }

        var best = Matrix<double>.Build.Dense(heads[0].RowCount, heads[0].ColumnCount);
        foreach (var head in heads)
        {
            if (head.RowCount != best.RowCount || head.ColumnCount != best.ColumnCount)
            {
                throw new ArgumentException("the heads' weights differ in size: give one [n x n] matrix per head of the same sequence.", nameof(heads));
            }

            best = best.PointwiseMaximum(head);
        }

        return OnAnswers(best, answers);
    }

    /// <summary>The ideal pattern: weight 1 on each scored query's answer key, 0 elsewhere (an empty row where nothing is scored).</summary>
    /// <param name="answers">For each query, the answer's key position, or a negative number.</param>
    /// <returns>[n x n].</returns>
    public static Matrix<double> Ideal(IReadOnlyList<int> answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        var ideal = Matrix<double>.Build.Dense(answers.Count, answers.Count);
        for (var query = 0; query < answers.Count; query++)
        {
            if (answers[query] >= 0)
            {
                ideal[query, answers[query]] = 1;
            }
        }

        return ideal;
    }
}

/// <summary>
/// The charts of a training run: loss and accuracy against the step, and one head's attention through training on a
/// slider (one position per snapshot) that opens on the last one. Sizes fit the series' pages (at most 1,000 pixels
/// wide side by side).
/// </summary>
public static class TrainingPlots
{
    /// <summary>Width of each of the two curve charts in pixels (two fit side by side on a page).</summary>
    public const int CurveWidth = 480;

    /// <summary>Loss (log scale) and accuracy against the optimizer step, side by side.</summary>
    /// <param name="steps">Step numbers (1, 2, ...).</param>
    /// <param name="loss">Mean cross-entropy of each step's batch, in nats.</param>
    /// <param name="accuracy">Share of the batch's scored positions predicted right, from 0 to 1.</param>
    /// <param name="title">A heading, e.g. "attention on reverse".</param>
    /// <param name="evenSpread">The number of outputs V, to draw ln V (the loss of an even spread) as a dashed level; null for none.</param>
    /// <returns>Two charts in a row.</returns>
    /// <exception cref="ArgumentException">The lists differ in length, are empty, or hold a value that cannot be drawn.</exception>
    public static FigureGrid Curves(IReadOnlyList<int> steps, IReadOnlyList<double> loss, IReadOnlyList<double> accuracy, string title, int? evenSpread = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(accuracy);
        if (steps.Count == 0 || loss.Count != steps.Count || accuracy.Count != steps.Count)
        {
            throw new ArgumentException($"there are {steps.Count} steps, {loss.Count} losses and {accuracy.Count} accuracies: give one of each per step (at least one step).", nameof(steps));
        }

        if (loss.Any(v => !(v > 0) || !double.IsFinite(v)) || accuracy.Any(v => !(v >= 0 && v <= 1)))
        {
            throw new ArgumentException("a loss is not a positive finite number or an accuracy is outside 0 to 1: a diverged run stops before such a step, so check where these numbers came from.", nameof(loss));
        }

        if (evenSpread is < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(evenSpread), evenSpread, "an even spread needs at least 2 outputs.");
        }

        var x = steps.Select(s => (double)s).ToList();
        var percent = accuracy.Select(a => 100 * a).ToList();
        var lossChart = Curve("Loss (cross-entropy, nats)", x, loss, "loss", log: true, "#1f77b4", evenSpread);
        return new FigureGrid(
            [
                lossChart,
                Curve("Accuracy on the training batch", x, percent, "accuracy (%)", log: false, "#2ca02c"),
            ],
            2,
            title);
    }

    /// <summary>
    /// One head's attention on one sequence through training: a heatmap per snapshot on a slider, the colour scale
    /// fixed from 0 to 1 so frames compare, opening on the last snapshot. Each frame's title gives its step and its
    /// share of weight on the right key.
    /// </summary>
    /// <param name="frames">The snapshots, in step order (at least one).</param>
    /// <param name="labels">One label per position of the sequence (its symbols).</param>
    /// <param name="title">What the frames show, e.g. "head 0 on 3 1 4 1 5 9".</param>
    /// <returns>The figure; its table lists every frame's step and share.</returns>
    /// <exception cref="ArgumentException">No frame, frames of different sizes, labels that do not match, or steps out of order.</exception>
    public static Figure AttentionThroughTraining(IReadOnlyList<AttentionFrame> frames, IReadOnlyList<string> labels, string title)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(labels);
        if (frames.Count == 0)
        {
            throw new ArgumentException("there is no snapshot to draw: train first (a run records one before its first step).", nameof(frames));
        }

        var n = labels.Count;
        if (frames.Any(f => f.Weights.RowCount != n || f.Weights.ColumnCount != n))
        {
            throw new ArgumentException($"every snapshot must be [{n} x {n}], one row and column per label.", nameof(frames));
        }

        if (frames.Zip(frames.Skip(1)).Any(p => p.Second.Step <= p.First.Step))
        {
            throw new ArgumentException("the snapshots are not in increasing step order.", nameof(frames));
        }

        if (n > LongInput.TokensShown)
        {
            throw new ArgumentException($"the sequence has {n} positions; a slider heatmap draws at most {LongInput.TokensShown}: probe a shorter sequence.", nameof(labels));
        }

        string FrameTitle(AttentionFrame frame) =>
            LongInput.ChartTitle(title, string.Empty) + string.Create(CultureInfo.InvariantCulture, $"<br>step {frame.Step:N0} ({(frame.Step == 0 ? Plots.Untrained : "trained weights")}): {100 * frame.ShareOnAnswer:0.0}% of the weight on the right key");
        var last = frames[^1];
        var figure = Plots.Heatmap(last.Weights, labels, labels, title, "weight", 0, 1);
        var chart = figure.Chart;
        var layout = GenericChart.getLayout(chart);
        layout.SetProperty("title", new Dictionary<string, object> { ["text"] = FrameTitle(last), ["x"] = 0.02, ["font"] = new Dictionary<string, object> { ["size"] = 13 } });
        var steps = frames.Select(frame => new Dictionary<string, object>
        {
            ["method"] = "update",
            ["label"] = frame.Step.ToString("N0", CultureInfo.InvariantCulture),
            ["args"] = new object[]
            {
                new Dictionary<string, object> { ["z"] = new object[] { Rows(frame.Weights) } },
                new Dictionary<string, object> { ["title.text"] = FrameTitle(frame) },
            },
        }).ToArray();
        layout.SetProperty("sliders", new object[]
        {
            new Dictionary<string, object>
            {
                ["active"] = frames.Count - 1,
                ["steps"] = steps,
                ["currentvalue"] = new Dictionary<string, object> { ["prefix"] = "step ", ["font"] = new Dictionary<string, object> { ["size"] = 12 } },
                ["pad"] = new Dictionary<string, object> { ["t"] = 70 },
                ["x"] = 0.0,
                ["len"] = 1.0,
            },
        });
        var width = SliderWidth(figure.Width);
        var height = figure.Height + 150;
        layout.SetProperty("width", width);
        layout.SetProperty("height", height);
        layout.SetProperty("margin", new Dictionary<string, object> { ["l"] = 90, ["r"] = 20, ["t"] = 80, ["b"] = 90 });
        GenericChart.getTraces(chart).Single().SetProperty("hovertemplate", "query %{y}<br>key %{x}<br>weight %{z:.4f}<extra></extra>");
        var table = Table.Of(
            ["step", "share of weight on the right key"],
            [.. frames.Select(f => f.Step.ToString("N0", CultureInfo.InvariantCulture))],
            [.. frames.Select(f => (IReadOnlyList<string>)[f.ShareOnAnswer.ToString("0.0000", CultureInfo.InvariantCulture)])]);
        var lastTable = figure.TableHtml;
        return new Figure(chart, title, table + $"<div style=\"font:12px sans-serif;margin:4px 0\">The weights at step {last.Step.ToString("N0", CultureInfo.InvariantCulture)}:</div>" + lastTable, width, height);
    }

    /// <summary>The width of the slider heatmap (and of the ideal pattern beside it) for a heatmap drawn <paramref name="heatmapWidth"/> wide.</summary>
    /// <param name="heatmapWidth">The heatmap's own width in pixels.</param>
    /// <returns>Between 520 and 640 pixels.</returns>
    public static int SliderWidth(int heatmapWidth) => Math.Clamp(heatmapWidth, 520, 640);

    private static double[][] Rows(Matrix<double> weights) =>
        [.. Enumerable.Range(0, weights.RowCount).Select(r => weights.Row(r).ToArray())];

    private static Figure Curve(string title, List<double> x, IReadOnlyList<double> y, string yTitle, bool log, string color, int? evenSpread = null)
    {
        var chart = PlotlyChart.Line<double, double, string>(x, y, ShowMarkers: false, Name: yTitle, LineColor: Color.fromString(color));
        var level = evenSpread is { } outputs ? Math.Log(outputs) : (double?)null;
        if (level is { } even)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"ln {evenSpread} = {even:0.00}: an even spread over the {evenSpread} outputs");
            var dashed = PlotlyChart.Line<double, double, string>([x[0], x[^1]], [even, even], ShowMarkers: false, Name: name, LineColor: Color.fromString("#888888"), LineDash: StyleParam.DrawingStyle.Dash);
            chart = GenericChart.combine([chart, dashed]);
        }

        var layout = GenericChart.getLayout(chart);
        layout.RemoveProperty("template");
        layout.SetProperty("title", new Dictionary<string, object> { ["text"] = title, ["x"] = 0.02 });
        layout.SetProperty("width", CurveWidth);
        layout.SetProperty("height", 340);
        layout.SetProperty("margin", new Dictionary<string, object> { ["l"] = 70, ["r"] = 20, ["t"] = 50, ["b"] = 60 });
        layout.SetProperty("font", new Dictionary<string, object> { ["family"] = "sans-serif", ["size"] = 12 });
        layout.SetProperty("paper_bgcolor", "white");
        layout.SetProperty("plot_bgcolor", "white");
        layout.SetProperty("showlegend", false);
        layout.SetProperty("xaxis", new Dictionary<string, object> { ["title"] = new Dictionary<string, object> { ["text"] = "step" }, ["gridcolor"] = "#e5e5e5", ["automargin"] = true });
        var yAxis = new Dictionary<string, object> { ["title"] = new Dictionary<string, object> { ["text"] = yTitle }, ["type"] = log ? "log" : "linear", ["gridcolor"] = "#e5e5e5", ["automargin"] = true };
        if (!log)
        {
            yAxis["range"] = new[] { 0.0, 101.0 };
        }
        else
        {
            // Ticks at the powers of ten only (0.01, 0.1, 1, ...), not plotly's 2 and 5 between them.
            var values = level is { } shown ? y.Append(shown) : y;
            var low = (int)Math.Floor(Math.Log10(values.Min()));
            var high = (int)Math.Ceiling(Math.Log10(values.Max()));
            var ticks = Enumerable.Range(low, high - low + 1).Select(e => Math.Pow(10, e)).ToArray();
            yAxis["tickvals"] = ticks;
            yAxis["ticktext"] = ticks.Select(t => t.ToString("0.#########", CultureInfo.InvariantCulture)).ToArray();
        }

        if (level is not null)
        {
            // The loss falls from top left to bottom right, and ln V is a line near the top: the space below that line on the
            // right is free for the legend.
            layout.SetProperty("showlegend", true);
            layout.SetProperty("legend", new Dictionary<string, object> { ["x"] = 0.98, ["xanchor"] = "right", ["y"] = 0.85, ["yanchor"] = "top", ["font"] = new Dictionary<string, object> { ["size"] = 10 }, ["bgcolor"] = "rgba(255,255,255,0.8)" });
        }

        layout.SetProperty("yaxis", yAxis);
        var table = Table.OfColumns(["step", yTitle], x, [y]);
        return new Figure(chart, title, table, CurveWidth, 340);
    }
}
