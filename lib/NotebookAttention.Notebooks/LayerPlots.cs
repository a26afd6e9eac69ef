using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Analysis;
using NotebookAttention.Attention;
using NotebookAttention.Cost;
using Plotly.NET;
using PlotlyChart = Plotly.NET.CSharp.Chart;

namespace NotebookAttention.Notebooks;

/// <summary>
/// Charts of a whole stack of attention layers, such as a pretrained transformer's: every layer and head at a
/// glance, one token's attention as lines between tokens, where one token looks layer by layer, and a table of
/// what each head measurably does.
/// </summary>
public static class LayerPlots
{
    /// <summary>The most tokens the layers x heads grid draws (72 heatmaps of 64 x 64 are already 295,000 cells).</summary>
    public const int GridTokenLimit = 64;

    /// <summary>
    /// Every head of every layer as a small heatmap, on one 0-to-1 colour scale: rows are layers, columns heads.
    /// Hovering a cell shows layer, head, query, key and weight.
    /// </summary>
    /// <param name="layers">Each layer's multi-head attention, first layer first.</param>
    /// <param name="validLength">Real tokens when the sequence is padded (only these are drawn), or null for all.</param>
    /// <returns>The figure; its table holds each head's entropy.</returns>
    /// <exception cref="ArgumentException">There are no layers, or the valid length is outside the sequence.</exception>
    public static Figure Grid(IReadOnlyList<MultiHeadAttentionResult> layers, int? validLength = null)
    {
        var (tokens, valid) = Validate(layers, validLength);
        var shown = Math.Min(valid, GridTokenLimit);
        var heads = layers[0].HeadCount;
        var labels = Enumerable.Range(0, shown).Select(i => $"{LongInput.Label(tokens[i])} ({i})").ToArray();
        const double gap = 0.004;
        var traces = new List<GenericChart>();
        var layout = new List<(string Name, Dictionary<string, object> Axis)>();
        for (var layer = 0; layer < layers.Count; layer++)
        {
            for (var head = 0; head < heads; head++)
            {
                var k = (layer * heads) + head + 1;
                var suffix = k == 1 ? string.Empty : k.ToString(CultureInfo.InvariantCulture);
                var weights = layers[layer].Heads[head].Weights;
                var z = Enumerable.Range(0, shown).Select(r => Enumerable.Range(0, shown).Select(c => Math.Round(weights.At(r, c), 4)).ToArray()).ToArray();
                var chart = PlotlyChart.Heatmap<double, string, string, string>(zData: z, X: labels, Y: labels);
                var trace = GenericChart.getTraces(chart).Single();
                trace.SetProperty("xaxis", "x" + suffix);
                trace.SetProperty("yaxis", "y" + suffix);
                trace.SetProperty("coloraxis", "coloraxis");
                trace.SetProperty("hovertemplate", $"layer {layer}, head {head}<br>query: %{{y}}<br>key: %{{x}}<br>weight: %{{z:.3f}}<extra></extra>");
                traces.Add(chart);
                var left = (double)head / heads;
                var top = 1 - ((double)layer / layers.Count);
                layout.Add(("xaxis" + suffix, SmallAxis([left + gap, left + (1.0 / heads) - gap], reversed: false)));
                layout.Add(("yaxis" + suffix, SmallAxis([top - (1.0 / layers.Count) + gap, top - gap], reversed: true)));
            }
        }

        var combined = GenericChart.combine(traces);
        var cell = Math.Clamp((Figure.MaxWidth - 110) / heads, 24, 80);   // every head in one row that fits Figure.MaxWidth
        var width = 110 + (cell * heads);
        var height = 90 + (cell * layers.Count);
        var title = shown < valid
            ? $"{layers.Count} layers x {heads} heads: the first {shown} of {valid} tokens shown (draw one head with Plots.Weights for all)"
            : $"{layers.Count} layers x {heads} heads, weights on one scale from 0 to 1";
        var plotLayout = GenericChart.getLayout(combined);
        plotLayout.RemoveProperty("template");
        plotLayout.SetProperty("title", new Dictionary<string, object> { ["text"] = title, ["x"] = 0.02 });
        plotLayout.SetProperty("width", width);
        plotLayout.SetProperty("height", height);
        plotLayout.SetProperty("margin", new Dictionary<string, object> { ["l"] = 70, ["r"] = 40, ["t"] = 70, ["b"] = 20 });
        plotLayout.SetProperty("paper_bgcolor", "white");
        plotLayout.SetProperty("plot_bgcolor", "white");
        plotLayout.SetProperty("showlegend", false);
        plotLayout.SetProperty("coloraxis", new Dictionary<string, object>
        {
            ["colorscale"] = Plots.WeightColors, ["cmin"] = 0, ["cmax"] = 1,
            ["colorbar"] = new Dictionary<string, object> { ["title"] = new Dictionary<string, object> { ["text"] = "weight" }, ["len"] = 0.8 },
        });
        foreach (var (name, axis) in layout)
        {
            plotLayout.SetProperty(name, axis);
        }

        var annotations = Enumerable.Range(0, heads).Select(head => Label($"head {head}", ((head + 0.5) / heads), 1.0, "center", "bottom"))
            .Concat(Enumerable.Range(0, layers.Count).Select(layer => Label($"layer {layer}", -0.01, 1 - ((layer + 0.5) / layers.Count), "right", "middle")))
            .ToArray();
        plotLayout.SetProperty("annotations", annotations);
        var traits = HeadTraits.Measure(layers, valid);
        var entropy = Matrix<double>.Build.Dense(layers.Count, heads, (layer, head) => traits[(layer * heads) + head].Entropy);
        var table = Table.Of(entropy, [.. Enumerable.Range(0, layers.Count).Select(l => $"layer {l}")], [.. Enumerable.Range(0, heads).Select(h => $"head {h}")], "entropy (bits)", digits: 2);
        return new Figure(combined, title, table, width, height);
    }

    /// <summary>
    /// Head view: one query token's attention as lines to every key token, thicker and darker for larger weights.
    /// Hovering a key shows the weight. A long input is drawn as the <see cref="LongInput.TokensShown"/> tokens
    /// around the query, said on the title.
    /// </summary>
    /// <param name="head">One head's attention (self-attention: the same tokens as queries and keys).</param>
    /// <param name="query">Position of the query token.</param>
    /// <param name="title">Chart title.</param>
    /// <returns>The figure; its table lists the keys by weight (the heaviest <see cref="Plots.TableSide"/> of a long input).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The position is outside the sequence.</exception>
    public static Figure HeadView(AttentionResult head, int query, string title)
    {
        ArgumentNullException.ThrowIfNull(head);
        IReadOnlyList<string> tokens = [.. head.KeyTokens.Select(LongInput.Label)];
        if ((uint)query >= (uint)head.QueryTokens.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query, $"the query tokens are at positions 0 to {head.QueryTokens.Count - 1}.");
        }

        var weights = head.Weights.Row(query);
        var largest = Math.Max(weights.Maximum(), 1e-12);
        var n = tokens.Count;
        var (start, shown) = LongInput.Window(n, query);
        var note = shown < n ? LongInput.WindowNote(start, shown, n) : string.Empty;
        var lines = new List<GenericChart>();
        for (var key = start; key < start + shown; key++)
        {
            var share = weights[key] / largest;
            var line = PlotlyChart.Line<double, double, string>([0.0, 1.0], [query, key]);
            var trace = GenericChart.getTraces(line).Single();
            trace.SetProperty("mode", "lines");
            trace.SetProperty("line", new Dictionary<string, object> { ["color"] = "#08306b", ["width"] = 0.5 + (9 * share) });
            trace.SetProperty("opacity", 0.08 + (0.92 * share));
            trace.SetProperty("hoverinfo", "skip");
            lines.Add(line);
        }

        var window = Enumerable.Range(start, shown).ToList();
        var positions = window.Select(i => (double)i).ToArray();
        lines.Add(TokenColumn(0, positions, [.. window.Select(i => i == query ? $"<b>{tokens[i]}</b>" : tokens[i])], "middle left", [.. window.Select(i => $"query: {tokens[i]} ({i})")]));
        lines.Add(TokenColumn(1, positions, [.. window.Select(i => tokens[i])], "middle right", [.. window.Select(i => $"{LongInput.Label(head.QueryTokens[query])} ({query}) → {tokens[i]} ({i})<br>weight: {weights[i].ToString("0.000", CultureInfo.InvariantCulture)}")]));
        var chart = GenericChart.combine(lines);
        var height = Math.Clamp(120 + (20 * shown), 300, 2400);
        var layout = GenericChart.getLayout(chart);
        layout.RemoveProperty("template");
        layout.SetProperty("title", new Dictionary<string, object> { ["text"] = LongInput.ChartTitle(title, note), ["x"] = 0.02 });
        layout.SetProperty("width", 460);
        layout.SetProperty("height", height);
        layout.SetProperty("showlegend", false);
        layout.SetProperty("paper_bgcolor", "white");
        layout.SetProperty("plot_bgcolor", "white");
        layout.SetProperty("margin", new Dictionary<string, object> { ["l"] = 20, ["r"] = 20, ["t"] = note.Length == 0 ? 60 : 80, ["b"] = 20 });
        layout.SetProperty("xaxis", new Dictionary<string, object> { ["range"] = new[] { -0.6, 1.6 }, ["visible"] = false });
        layout.SetProperty("yaxis", new Dictionary<string, object> { ["range"] = new[] { start + shown - 0.5, start - 0.5 }, ["visible"] = false });
        var order = Enumerable.Range(0, n).OrderByDescending(i => weights[i]).Take(Plots.TableSide).ToList();
        var table = Table.Of(["#", "key", "weight"], [.. order.Select(i => i.ToString(CultureInfo.InvariantCulture))],
            [.. order.Select(i => (IReadOnlyList<string>)[tokens[i], weights[i].ToString("0.0000", CultureInfo.InvariantCulture)])]);
        return new Figure(chart, title, table, 460, height, note);
    }

    /// <summary>
    /// Where one token looks, layer by layer: for each layer, its row of attention weights averaged over the heads.
    /// </summary>
    /// <param name="layers">Each layer's multi-head attention, first layer first.</param>
    /// <param name="query">Position of the query token.</param>
    /// <param name="title">Chart title.</param>
    /// <param name="validLength">Real tokens when the sequence is padded (only these are drawn), or null for all.</param>
    /// <returns>A heatmap [layers x tokens].</returns>
    public static Figure Probe(IReadOnlyList<MultiHeadAttentionResult> layers, int query, string title, int? validLength = null)
    {
        var (tokens, valid) = Validate(layers, validLength);
        var rows = LayerProbe.MeanOverHeads(layers, query);
        var shown = rows.SubMatrix(0, rows.RowCount, 0, valid);
        var layerLabels = Enumerable.Range(0, layers.Count).Select(l => $"layer {l}").ToList();
        var keys = tokens.Take(valid).ToList();
        return Plots.Heatmap(shown, layerLabels, keys, title, "mean weight over heads", 0, Math.Max(shown.Enumerate().Max(), 1e-12), rowAxis: "layer", columnAxis: "key");
    }

    /// <summary>The traits of the heads as a table, strongest first for one trait; the caption says what the shares are (<see cref="HeadTraits.ShareDefinition"/>).</summary>
    /// <param name="traits">From <see cref="HeadTraits.Measure(IReadOnlyList{MultiHeadAttentionResult}, int?)"/>.</param>
    /// <param name="sortBy">One of <see cref="HeadTraits.Names"/>; entropy sorts lowest (most focused) first, the others highest first.</param>
    /// <param name="top">How many heads to list, or null for all.</param>
    /// <exception cref="ArgumentException">The trait name is unknown; the message lists the names.</exception>
    public static TableView Traits(IReadOnlyList<HeadTraits> traits, string sortBy = "previous token", int? top = null)
    {
        ArgumentNullException.ThrowIfNull(traits);
        ArgumentNullException.ThrowIfNull(sortBy);
        var index = HeadTraits.Names.ToList().FindIndex(name => string.Equals(name, sortBy, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
        {
            throw new ArgumentException($"there is no trait \"{sortBy}\": choose one of {string.Join(", ", HeadTraits.Names.Select(n => $"\"{n}\""))}.", nameof(sortBy));
        }

        var ordered = index == 0 ? traits.OrderBy(t => t.Values[index]) : traits.OrderByDescending(t => t.Values[index]);
        var rows = ordered.Take(top ?? traits.Count).ToList();
        var title = $"{rows.Count} of {traits.Count} heads, sorted by {HeadTraits.Names[index]} ({(index == 0 ? "lowest" : "highest")} first). Entropy in bits; the other columns are {HeadTraits.ShareDefinition}.";
        var html = Table.Of(
            ["layer", "head", .. HeadTraits.Names],
            [.. rows.Select(t => t.Layer.ToString(CultureInfo.InvariantCulture))],
            [.. rows.Select(t => (IReadOnlyList<string>)[t.Head.ToString(CultureInfo.InvariantCulture), .. t.Values.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture))])]);
        return new TableView(title, html);
    }

    /// <summary>
    /// What one transformer layer costs at several lengths, by part (<see cref="NotebookAttention.Cost.AttentionCost.Layer"/>):
    /// attention's core, the projections and the FFN in MFLOPs, and the core's share of the layer. FLOPs only: the
    /// caption says that softmax and the traffic of the n x n score matrix are not counted.
    /// </summary>
    /// <param name="lengths">Sequence lengths n.</param>
    /// <param name="dModel">Model width d_model.</param>
    /// <param name="ffnWidth">FFN width.</param>
    /// <param name="positions">The model's position table, or null: a length past it gets a column saying the row is hypothetical for this model.</param>
    /// <returns>The table, one row per length; its caption gives the crossover length.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public static TableView BlockCost(IReadOnlyList<long> lengths, int dModel, int ffnWidth, int? positions = null)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        var layers = lengths.Select(n => NotebookAttention.Cost.AttentionCost.Layer(n, dModel, ffnWidth)).ToList();
        static string Mflops(double flops) => (flops / 1e6).ToString("N1", CultureInfo.InvariantCulture);
        string Fits(long n) => n <= positions ? "yes" : string.Create(CultureInfo.InvariantCulture, $"no: hypothetical, past its {positions} positions");
        IReadOnlyList<string> Row(LayerFlops l) =>
        [
            Mflops(l.AttentionCore), Mflops(l.Projections), Mflops(l.FeedForward), l.AttentionShare.ToString("0.000", CultureInfo.InvariantCulture),
            .. positions is null ? Array.Empty<string>() : [Fits(l.N)],
        ];
        string[] header = ["n", "attention core 4n²d (MFLOP)", "projections 8nd² (MFLOP)", "FFN 4ndf (MFLOP)", "core's share of the layer's FLOPs"];
        var html = Table.Of(
            positions is null ? header : [.. header, "can the model read n pieces?"],
            [.. layers.Select(l => l.N.ToString(CultureInfo.InvariantCulture))],
            [.. layers.Select(Row)]);
        var crossover = NotebookAttention.Cost.AttentionCost.AttentionCrossover(dModel, ffnWidth);
        return new TableView(string.Create(CultureInfo.InvariantCulture, $"One layer with d = {dModel} and an FFN of width f = {ffnWidth}: the core's share of the FLOPs passes one half above n = 2d + f = {crossover}. FLOPs only: softmax and moving the n x n score matrix are not counted, and they make the core slower than its FLOPs suggest (notebook 06)."), html);
    }

    /// <summary>Word pieces as a row of numbered boxes; special pieces ([CLS], [SEP], [UNK], [PAD]) stand out.</summary>
    /// <param name="caption">Text above the pieces, e.g. the sentence and what happened to it.</param>
    /// <param name="pieces">The pieces in order.</param>
    public static TableView Pieces(string caption, IReadOnlyList<string> pieces)
    {
        ArgumentNullException.ThrowIfNull(caption);
        ArgumentNullException.ThrowIfNull(pieces);
        var boxes = pieces.Select((piece, i) =>
        {
            var special = piece.Length > 2 && piece[0] == '[' && piece[^1] == ']';
            var style = special ? "background:#fde2c8;border-color:#e0a060" : "background:#eef3fa;border-color:#9db4d4";
            return $"<span class=\"na-piece\" title=\"position {i}\" style=\"display:inline-block;margin:2px;padding:1px 5px;border:1px solid;border-radius:4px;font:13px monospace;{style}\">"
                + $"{System.Net.WebUtility.HtmlEncode(LongInput.Label(piece))}<sub style=\"color:#888;margin-left:3px\">{i}</sub></span>";
        });
        return new TableView(caption, $"<div class=\"na-pieces\" style=\"max-width:900px\">{string.Concat(boxes)}</div>");
    }

    private static (IReadOnlyList<string> Tokens, int Valid) Validate(IReadOnlyList<MultiHeadAttentionResult> layers, int? validLength)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("there are no layers to draw: pass each layer's multi-head attention result.", nameof(layers));
        }

        var tokens = layers[0].Tokens;
        var valid = validLength ?? tokens.Count;
        if (valid < 1 || valid > tokens.Count)
        {
            throw new ArgumentException($"the valid length is {valid} but the sequence has {tokens.Count} tokens: give 1 to {tokens.Count}.", nameof(validLength));
        }

        return (tokens, valid);
    }

    private static GenericChart TokenColumn(double x, double[] y, string[] text, string position, string[] hover)
    {
        var chart = PlotlyChart.Line<double, double, string>([.. y.Select(_ => x)], y);
        var trace = GenericChart.getTraces(chart).Single();
        trace.SetProperty("mode", "markers+text");
        trace.SetProperty("text", text);
        trace.SetProperty("textposition", position);
        trace.SetProperty("marker", new Dictionary<string, object> { ["color"] = "#4a6fa5", ["size"] = 6 });
        trace.SetProperty("hovertext", hover);
        trace.SetProperty("hoverinfo", "text");
        return chart;
    }

    private static Dictionary<string, object> SmallAxis(double[] domain, bool reversed)
    {
        var axis = new Dictionary<string, object> { ["domain"] = domain, ["showticklabels"] = false, ["ticks"] = string.Empty, ["showgrid"] = false, ["zeroline"] = false };
        if (reversed)
        {
            axis["autorange"] = "reversed";
        }

        return axis;
    }

    private static Dictionary<string, object> Label(string text, double x, double y, string xAnchor, string yAnchor) => new()
    {
        ["text"] = text, ["x"] = x, ["y"] = y, ["xref"] = "paper", ["yref"] = "paper", ["showarrow"] = false,
        ["xanchor"] = xAnchor, ["yanchor"] = yAnchor, ["font"] = new Dictionary<string, object> { ["size"] = 10, ["color"] = "#555" },
    };
}

/// <summary>An HTML table with a caption; displays as the table in a notebook.</summary>
/// <param name="Title">The caption.</param>
/// <param name="Html">The table.</param>
public sealed record TableView(string Title, string Html)
{
    /// <summary>Caption and table as one HTML fragment.</summary>
    /// <returns>The HTML.</returns>
    public string ToHtml() => $"<div style=\"font:13px sans-serif;margin:2px 0 6px\">{System.Net.WebUtility.HtmlEncode(Title)}</div>{Html}";

    /// <inheritdoc />
    public override string ToString() => Title;
}
