using System.Globalization;
using System.Net;
using System.Text;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Recurrence;
using Plotly.NET;
using PlotlyChart = Plotly.NET.CSharp.Chart;

namespace NotebookAttention.Notebooks;

/// <summary>Pictures for notebook 07: dependency graphs and their path lengths.</summary>
public static class RecurrencePlots
{
    /// <summary>
    /// Path lengths between every pair of tokens as a heatmap (row: from, column: to; empty: unreachable). A long
    /// sentence is drawn as its first <see cref="LongInput.TokensShown"/> tokens, searched in the whole graph.
    /// </summary>
    /// <param name="graph">A dependency graph over the sentence.</param>
    /// <param name="tokens">The tokens, one per position.</param>
    public static Figure PathLengths(DependencyGraph graph, IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (graph.N > LongInput.TokensShown)
        {
            // The lengths among the tokens drawn are those of the graph over them alone: no search in the whole one.
            return PathLengths(graph.Architecture, tokens);
        }

        var shown = graph.N;
        var rows = Enumerable.Range(0, shown).Select(graph.PathLengthsFrom).ToList();
        return PathLengthsFigure(graph.Architecture, graph.N, shown, (from, to) => rows[from][to], tokens);
    }

    /// <summary>
    /// Path lengths between the first <see cref="LongInput.TokensShown"/> tokens of a sentence, searched in a stack
    /// of <paramref name="architecture"/> over those tokens only: signals in these graphs never need a later
    /// position to reach an earlier one, so the lengths are those of the whole sentence, without building its graph.
    /// </summary>
    /// <param name="architecture">The layer kind.</param>
    /// <param name="tokens">The sentence's tokens.</param>
    public static Figure PathLengths(Architecture architecture, IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(tokens);
        var shown = LongInput.Shown(tokens.Count);
        var table = DependencyGraph.Build(architecture, shown).PathLengths();
        return PathLengthsFigure(architecture, tokens.Count, shown, (from, to) => table[from, to], tokens);
    }

    /// <summary>
    /// The computation graph: one dot per state (position across, layer up; layer 0 is the input), a grey line per
    /// read, and in red the shortest path from token <paramref name="from"/> to token <paramref name="to"/>.
    /// A long sentence is drawn as the graph of its first <see cref="LongInput.TokensShown"/> tokens, the path
    /// ending at the last of them, said on the title.
    /// </summary>
    /// <param name="graph">A dependency graph over the sentence.</param>
    /// <param name="tokens">The tokens, one per position.</param>
    /// <param name="from">Start token position.</param>
    /// <param name="to">End token position.</param>
    public static Figure Graph(DependencyGraph graph, IReadOnlyList<string> tokens, int from, int to)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.N <= LongInput.TokensShown ? Draw(graph, tokens, from, to, string.Empty) : Graph(graph.Architecture, tokens, from, to);
    }

    /// <summary>
    /// <see cref="Graph(DependencyGraph, IReadOnlyList{string}, int, int)"/> of a stack of <paramref name="architecture"/>
    /// over the sentence, built only over the tokens drawn.
    /// </summary>
    /// <param name="architecture">The layer kind.</param>
    /// <param name="tokens">The sentence's tokens.</param>
    /// <param name="from">Start token position.</param>
    /// <param name="to">End token position (the last drawn token when it lies beyond the picture).</param>
    public static Figure Graph(Architecture architecture, IReadOnlyList<string> tokens, int from, int to)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(tokens);
        if ((uint)from >= (uint)tokens.Count || (uint)to >= (uint)tokens.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(to), $"positions {from} and {to} must both be in 0 to {tokens.Count - 1}.");
        }

        var shown = LongInput.Shown(tokens.Count);
        var note = shown < tokens.Count ? LongInput.Note(shown, tokens.Count, "tokens") : string.Empty;
        return Draw(DependencyGraph.Build(architecture, shown), tokens, Math.Min(from, shown - 1), Math.Min(to, shown - 1), note);
    }

    /// <summary>
    /// One bar per layer kind: the steps from the first token to the last, by graph search. A long sentence is
    /// measured between its first and its <see cref="LongInput.TokensShown"/>-th token, like the graphs drawn beside
    /// it, and the title says so: the graph of a whole long text would not fit in memory (a stack of 3-wide
    /// convolutions over n tokens has about n²/2 states).
    /// </summary>
    /// <param name="architectures">The layer kinds.</param>
    /// <param name="tokens">The sentence's tokens.</param>
    public static Figure StepsFirstToLast(IReadOnlyList<Architecture> architectures, IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(architectures);
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Count == 0)
        {
            throw new ArgumentException("there are no tokens: type at least one word.", nameof(tokens));
        }

        var shown = LongInput.Shown(tokens.Count);
        var last = shown - 1;
        var steps = architectures.Select(a => (double)Math.Max(1, DependencyGraph.Build(a, shown).PathLengthsFrom(0)[last])).ToList();
        var note = shown < tokens.Count ? LongInput.Note(shown, tokens.Count, "tokens") : string.Empty;
        return Plots.Bars($"Steps from \"{LongInput.Label(tokens[0])}\" to \"{LongInput.Label(tokens[last])}\"", [.. architectures.Select(a => a.Name)], steps, "steps", note);
    }

    private static Figure Draw(DependencyGraph graph, IReadOnlyList<string> tokens, int from, int to, string note)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        tokens = [.. tokens.Take(graph.N).Select(LongInput.Label)];
        var edgeX = new List<double?>();
        var edgeY = new List<double?>();
        foreach (var (read, reader) in graph.Edges())
        {
            edgeX.AddRange([read.Position, reader.Position, null]);
            edgeY.AddRange([read.Layer, reader.Layer, null]);
        }

        var path = graph.ShortestPath(from, to);
        var nodes = Enumerable.Range(0, graph.Layers + 1).SelectMany(layer => Enumerable.Range(0, graph.N).Select(position => (layer, position))).ToList();
        var edges = Trace(PlotlyChart.Line<double, double, string>([0.0], [0.0], Name: "reads"), edgeX, edgeY, "lines", "#c8c8c8", 1);
        var states = Trace(PlotlyChart.Line<double, double, string>([0.0], [0.0], Name: "states"), [.. nodes.Select(n => (double?)n.position)], [.. nodes.Select(n => (double?)n.layer)], "markers", "#4a6fa5", 6);
        var shortest = Trace(PlotlyChart.Line<double, double, string>([0.0], [0.0], Name: $"shortest path: {Math.Max(0, path.Count - 1)} steps"), [.. path.Select(p => (double?)p.Position)], [.. path.Select(p => (double?)p.Layer)], "lines+markers", "#d62728", 3);
        var chart = GenericChart.combine([edges, states, shortest]);
        var width = Math.Clamp(160 + (30 * graph.N), 360, 540);
        var height = Math.Clamp(200 + (60 * graph.Layers), 260, 700);
        var layout = GenericChart.getLayout(chart);
        layout.RemoveProperty("template");
        layout.SetProperty("title", new Dictionary<string, object> { ["text"] = LongInput.ChartTitle($"{graph.Architecture.Name}: \"{tokens[from]}\" to \"{tokens[to]}\" in {Math.Max(0, path.Count - 1)} steps", note), ["x"] = 0.02 });
        layout.SetProperty("width", width);
        layout.SetProperty("height", height);
        layout.SetProperty("paper_bgcolor", "white");
        layout.SetProperty("plot_bgcolor", "white");
        layout.SetProperty("xaxis", new Dictionary<string, object> { ["tickmode"] = "array", ["tickvals"] = Enumerable.Range(0, graph.N).ToArray(), ["ticktext"] = tokens.ToArray(), ["showgrid"] = false, ["zeroline"] = false });
        layout.SetProperty("yaxis", new Dictionary<string, object> { ["title"] = new Dictionary<string, object> { ["text"] = "layer (0 = input)" }, ["dtick"] = 1, ["showgrid"] = false, ["zeroline"] = false });
        var table = Table.Of(["step", "layer", "position", "token"], [.. path.Select((_, i) => i.ToString(CultureInfo.InvariantCulture))],
            [.. path.Select(p => (IReadOnlyList<string>)[p.Layer.ToString(CultureInfo.InvariantCulture), p.Position.ToString(CultureInfo.InvariantCulture), tokens[p.Position]])]);
        return new Figure(chart, $"{graph.Architecture.Name} graph", table, width, height, note);
    }

    private static Figure PathLengthsFigure(Architecture architecture, int n, int shown, Func<int, int, int> length, IReadOnlyList<string> tokens)
    {
        var values = Matrix<double>.Build.Dense(shown, shown, (i, j) => length(i, j) < 0 ? double.NegativeInfinity : length(i, j));
        var longest = Math.Max(1, values.Enumerate().Where(double.IsFinite).DefaultIfEmpty(1).Max());
        var labels = tokens.Take(shown).Select(LongInput.Label).ToList();
        var note = shown < n ? LongInput.Note(shown, n, "tokens") : string.Empty;
        return Plots.DrawHeatmap(values, labels, labels, architecture.Name, "steps", 0, longest, "from", "to", size: Math.Clamp(160 + (18 * shown), 300, 620), missing: "unreachable", cutNote: note);
    }

    /// <summary>
    /// Table 1, computed: the maximum path length of each layer kind against n (one curve each) and the sequential
    /// steps of recurrence and self-attention, all from graph search. The figure's table sets Table 1's three columns
    /// (complexity per layer, sequential operations, maximum path length) beside the lengths searched.
    /// </summary>
    /// <param name="architectures">The layer kinds.</param>
    /// <param name="lengths">The n values.</param>
    /// <returns>The figure; <see cref="Figure.TableHtml"/> holds the table.</returns>
    public static Figure PathLengthCurves(IReadOnlyList<Architecture> architectures, IReadOnlyList<int> lengths)
    {
        ArgumentNullException.ThrowIfNull(architectures);
        ArgumentNullException.ThrowIfNull(lengths);
        var graphs = architectures.Select(a => lengths.Select(n => DependencyGraph.Build(a, n)).ToList()).ToList();
        var longest = graphs.Select(row => row.Select(g => (double)g.MaximumPathLength()).ToList()).ToList();
        var sequential = graphs.Select(row => row.Select(g => (double)g.SequentialSteps()).ToList()).ToList();
        IReadOnlyList<double> x = [.. lengths.Select(n => (double)n)];
        var curves = architectures.Select((a, i) => ($"path: {a.Name}", x, (IReadOnlyList<double>)longest[i]))
            .Concat(architectures.Select((a, i) => (Kind: a.Kind, Curve: ($"sequential steps: {a.Name}", x, (IReadOnlyList<double>)sequential[i])))
                .Where(s => s.Kind is LayerKind.Recurrent or LayerKind.SelfAttention)
                .Select(s => s.Curve))
            .ToList();
        var figure = Plots.Curves("Maximum path length and sequential steps against n", "sequence length n", "steps", curves);
        var header = new List<string> { "layer type", "complexity per layer", "sequential operations", "maximum path length" };
        header.AddRange(lengths.Select(n => $"max path, n = {n}"));
        header.Add($"sequential steps, n = {lengths[^1]}");
        var table = Table.Of(header, [.. architectures.Select(a => a.Name)],
            [.. architectures.Select((a, i) => (IReadOnlyList<string>)[a.ComplexityPerLayer, a.SequentialOperations, a.MaximumPathLengthOrder, .. longest[i].Select(v => v.ToString(CultureInfo.InvariantCulture)), sequential[i][^1].ToString(CultureInfo.InvariantCulture)])]);
        return new Figure(figure.Chart, figure.Title, table, figure.Width, figure.Height);
    }

    /// <summary>The class of the gradient tables, for tests that read the numbers back from an executed notebook.</summary>
    public const string GradientTableClass = "na-gradients";

    /// <summary>
    /// ||d output_T / d x_t|| against the distance T - t for each RNN and for attention (log scale), from
    /// <see cref="GradientComparison.Measure"/>: the same inputs, untrained weights.
    /// </summary>
    /// <param name="comparison">A measured comparison (with its curves).</param>
    public static Figure GradientCurves(GradientComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        if (comparison.Curves.Count == 0)
        {
            throw new ArgumentException("this comparison has no curves (it was rebuilt from rows): draw one from GradientComparison.Measure.", nameof(comparison));
        }

        return Plots.Curves(
            Invariant($"Gradient norm against distance (untrained weights, first seed, RNN after a burn-in, inputs of scale {comparison.InputScale:G3})"),
            "distance T − t",
            "||∂ output_T / ∂ x_t|| (Frobenius)",
            [.. comparison.Curves.Select(c => (c.Name, (IReadOnlyList<double>)[.. Enumerable.Range(0, c.Norms.Count).Select(d => (double)d)], c.Norms))],
            logX: false);
    }

    /// <summary>
    /// The comparison's numbers (one table for the RNNs, one for attention) and the sentences derived from them. Each
    /// row carries its exact values as <c>data-</c> attributes, so a test can rebuild the comparison from the page.
    /// </summary>
    /// <param name="comparison">A comparison.</param>
    public static TableView GradientTable(GradientComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        const string cell = "padding:2px 6px;text-align:right";
        var html = new StringBuilder(Invariant($"<table class=\"na-table {GradientTableClass}\" data-input-scale=\"{comparison.InputScale:R}\" style=\"border-collapse:collapse;font:12px monospace;margin-bottom:8px\"><thead><tr>"));
        Header(html, cell, ["ρ", "seeds", "σ_max (range)", "largest |h|", "from h = 0, first steps (median)", "near half, per step: median [range]", "far half, per step: median [range]", "steps"]);
        foreach (var row in comparison.Recurrent)
        {
            var seeds = string.Join(";", row.Seeds.Select(s => Invariant($"{s.Seed}:{s.LargestSingularValue:R}:{s.LargestState:R}:{s.StartRate:R}:{s.NearRate:R}:{s.LateRate:R}:{s.AtDistanceOne:R}")));
            html.Append(Invariant($"<tr data-radius=\"{row.SpectralRadius:R}\" data-steps=\"{row.Steps}\" data-seeds=\"{seeds}\">"))
                .Append(Invariant($"<td style=\"{cell}\">{row.SpectralRadius:0.##}</td><td style=\"{cell}\">{row.Seeds.Count}</td><td style=\"{cell}\">{row.SmallestSingularValue:0.00} to {row.LargestSingularValue:0.00}</td><td style=\"{cell}\">{row.LargestState:0.00}</td><td style=\"{cell}\">x{row.MedianStartRate:0.00}</td>"))
                .Append(Invariant($"<td style=\"{cell}\">x{row.MedianNearRate:0.00} [{row.Seeds.Min(s => s.NearRate):0.00}, {row.Seeds.Max(s => s.NearRate):0.00}]</td><td style=\"{cell}\">x{row.MedianLateRate:0.00} [{row.Seeds.Min(s => s.LateRate):0.00}, {row.Seeds.Max(s => s.LateRate):0.00}]</td><td style=\"{cell}\">{row.Steps}</td></tr>"));
        }

        html.Append(Invariant($"</tbody></table><table class=\"na-table {GradientTableClass}\" style=\"border-collapse:collapse;font:12px monospace\"><thead><tr>"));
        Header(html, cell, ["attention, n", "per step of distance (t < T)", "distance 1 to n − 1", "largest over t < T", "largest weight a_t, t < T", "mean over t < T", "n × mean", "self (t = T)", "at distance 1"]);
        foreach (var row in comparison.Attention)
        {
            html.Append(Invariant($"<tr data-n=\"{row.N}\" data-rate=\"{row.RatePerStep:R}\" data-mean=\"{row.MeanOtherNorm:R}\" data-largest=\"{row.LargestOtherNorm:R}\" data-weight=\"{row.LargestOtherWeight:R}\" data-self=\"{row.SelfNorm:R}\" data-distance-one=\"{row.AtDistanceOne:R}\">"))
                .Append(Invariant($"<td style=\"{cell}\">{row.N:N0}</td><td style=\"{cell}\">x{row.RatePerStep:0.0000}</td><td style=\"{cell}\">x{row.Change:0.##}</td><td style=\"{cell}\">{row.LargestOtherNorm:0.####}</td><td style=\"{cell}\">{row.LargestOtherWeight:0.###}</td><td style=\"{cell}\">{row.MeanOtherNorm:0.######}</td>"))
                .Append(Invariant($"<td style=\"{cell}\">{row.N * row.MeanOtherNorm:0.00}</td><td style=\"{cell}\">{row.SelfNorm:0.####}</td><td style=\"{cell}\">{row.AtDistanceOne:0.####}</td></tr>"));
        }

        html.Append("</tbody></table><ul class=\"na-conclusions\" style=\"font:13px sans-serif;max-width:900px\">");
        foreach (var sentence in comparison.Conclusions)
        {
            html.Append("<li>").Append(WebUtility.HtmlEncode(sentence)).Append("</li>");
        }

        html.Append("</ul>");
        var title = Invariant($"||∂ output_T / ∂ x_t|| of an Elman-style RNN with tanh (16 units) and of one attention layer (d = 8, with positions), untrained weights, the same content inputs (entries of scale {comparison.InputScale:G3}; attention's also carry positions). ")
            + Invariant($"RNN rates are fitted to ln(norm) against distance after a burn-in of {GradientComparison.BurnIn} inputs, separately on the near and far half of the distances, for each seed; the first-steps column is a chain started at h = 0 instead.");
        return new TableView(title, html.ToString());
    }

    private static void Header(StringBuilder html, string style, IEnumerable<string> headers)
    {
        foreach (var header in headers)
        {
            html.Append(Invariant($"<th style=\"{style}\">{WebUtility.HtmlEncode(header)}</th>"));
        }

        html.Append("</tr></thead><tbody>");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static GenericChart Trace(GenericChart chart, IReadOnlyList<double?> x, IReadOnlyList<double?> y, string mode, string color, double size)
    {
        var trace = GenericChart.getTraces(chart).Single();
        trace.SetProperty("x", x.ToArray());
        trace.SetProperty("y", y.ToArray());
        trace.SetProperty("mode", mode);
        trace.SetProperty("line", new Dictionary<string, object> { ["color"] = color, ["width"] = mode == "markers" ? 0 : size });
        trace.SetProperty("marker", new Dictionary<string, object> { ["color"] = color, ["size"] = size + 4 });
        trace.SetProperty("hoverinfo", "skip");
        return chart;
    }
}
