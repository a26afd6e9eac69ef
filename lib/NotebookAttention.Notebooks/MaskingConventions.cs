using System.Globalization;
using System.Text;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;

namespace NotebookAttention.Notebooks;

/// <summary>
/// One sentence of a padded batch through one head under the two padding conventions: this library's
/// (<see cref="Mask.Padding(int, int)"/>: padding queries and keys masked) and PyTorch's and BERT's
/// (<see cref="Mask.KeyPadding"/>: padding keys masked only). Every sentence of <see cref="Conclusion"/> is
/// derived from the numbers measured here.
/// </summary>
public sealed class PaddingConventions
{
    /// <summary>Most real rows, and most padding rows, the table shows (a long paragraph pads to hundreds).</summary>
    public const int RowsShown = 16;

    /// <summary>Outputs closer than this count as the same (fp64 rounding of identical arithmetic is exactly 0).</summary>
    public const double SameOutput = 1e-12;

    private PaddingConventions(int sentence, int validLength, AttentionResult queriesAndKeys, AttentionResult keysOnly)
    {
        Sentence = sentence;
        ValidLength = validLength;
        QueriesAndKeys = queriesAndKeys;
        KeysOnly = keysOnly;
        var rows = Enumerable.Range(0, PaddedLength);
        RowDifferences = [.. rows.Select(r => (queriesAndKeys.Output.Row(r) - keysOnly.Output.Row(r)).InfinityNorm())];
    }

    /// <summary>Which sentence of the batch.</summary>
    public int Sentence { get; }

    /// <summary>Real tokens of that sentence.</summary>
    public int ValidLength { get; }

    /// <summary>Length of every sentence of the batch.</summary>
    public int PaddedLength => QueriesAndKeys.Weights.RowCount;

    /// <summary>The head under this library's mask (padding queries and keys masked).</summary>
    public AttentionResult QueriesAndKeys { get; }

    /// <summary>The head under PyTorch's key_padding_mask and BERT's attention_mask (padding keys only).</summary>
    public AttentionResult KeysOnly { get; }

    /// <summary>Per query row, the largest absolute difference between the two outputs.</summary>
    public IReadOnlyList<double> RowDifferences { get; }

    /// <summary>The largest output difference over the real rows.</summary>
    public double LargestRealRowDifference => RowDifferences.Take(ValidLength).Max();

    /// <summary>Runs <paramref name="head"/> on one sentence of <paramref name="batch"/> under both conventions.</summary>
    /// <param name="head">The head.</param>
    /// <param name="batch">The padded batch.</param>
    /// <param name="sentence">Which sentence.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sentence"/> is not in the batch.</exception>
    public static PaddingConventions Compare(SelfAttention head, PaddedBatch batch, int sentence)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(batch);
        var queriesAndKeys = head.Forward(batch.Inputs[sentence], batch.PaddingMask(sentence), tokens: batch.Labels[sentence]);
        var keysOnly = head.Forward(batch.Inputs[sentence], Mask.KeyPadding(batch.ValidLengths[sentence], batch.PaddedLength), tokens: batch.Labels[sentence]);
        return new PaddingConventions(sentence, batch.ValidLengths[sentence], queriesAndKeys, keysOnly);
    }

    /// <summary>What the numbers show, in words that follow from them.</summary>
    public string Conclusion
    {
        get
        {
            var real = LargestRealRowDifference <= SameOutput
                ? string.Create(CultureInfo.InvariantCulture, $"Real tokens: the same outputs under both masks (largest difference {LargestRealRowDifference:0.0E+0}), because both hide the padding keys.")
                : string.Create(CultureInfo.InvariantCulture, $"Real tokens: outputs differ by up to {LargestRealRowDifference:0.0E+0} between the masks.");
            if (ValidLength == PaddedLength)
            {
                return real + $" Sentence {Sentence} has no padding, so the two masks agree everywhere: compare a shorter sentence.";
            }

            var padding = Enumerable.Range(ValidLength, PaddedLength - ValidLength).ToList();
            var zeroHere = padding.All(r => QueriesAndKeys.Weights.Row(r).Sum() == 0 && QueriesAndKeys.Output.Row(r).InfinityNorm() == 0);
            var sumsOne = padding.All(r => Math.Abs(KeysOnly.Weights.Row(r).Sum() - 1) <= 1e-12);
            var norms = padding.Select(r => KeysOnly.Output.Row(r).L2Norm()).ToList();
            var library = zeroHere
                ? "with queries and keys masked (this library) they attend to nothing: weights and output 0"
                : "with queries and keys masked (this library) some of them still have weights";
            var keys = sumsOne && norms.Min() > 0
                ? string.Create(CultureInfo.InvariantCulture, $"with keys only (PyTorch, BERT) they attend to the {ValidLength} real tokens: weights sum to 1, output norms {norms.Min():0.###} to {norms.Max():0.###}")
                : "with keys only (PyTorch, BERT) their weights do not all sum to 1";
            return real + $" Padding rows {ValidLength} to {PaddedLength - 1}: {library}; {keys}.";
        }
    }

    /// <summary>One row per query: its token, whether it is padding, weight sums and output norms under both masks.</summary>
    /// <returns>The table, titled with <see cref="Conclusion"/>.</returns>
    public TableView Table()
    {
        var realShown = LongInput.Shown(ValidLength, RowsShown);
        var paddingShown = Math.Min(PaddedLength - ValidLength, RowsShown);
        var shown = Enumerable.Range(0, realShown).Concat(Enumerable.Range(ValidLength, paddingShown)).ToList();
        var cuts = new[] { (realShown, ValidLength, "real rows"), (paddingShown, PaddedLength - ValidLength, "padding rows") }
            .Where(c => c.Item1 < c.Item2).Select(c => LongInput.Note(c.Item1, c.Item2, c.Item3)).ToList();
        var note = cuts.Count > 0 ? $" Table: {string.Join(" and ", cuts)}; the sentences above cover every row." : string.Empty;
        var rows = shown.Select(r => (IReadOnlyList<string>)
        [
            r < ValidLength ? "real" : "padding",
            Number(QueriesAndKeys.Weights.Row(r).Sum()),
            Number(QueriesAndKeys.Output.Row(r).L2Norm()),
            Number(KeysOnly.Weights.Row(r).Sum()),
            Number(KeysOnly.Output.Row(r).L2Norm()),
            RowDifferences[r].ToString("0.0E+0", CultureInfo.InvariantCulture),
        ]).ToList();
        var labels = shown.Select(r => $"{r} {LongInput.Label(QueriesAndKeys.QueryTokens[r])}").ToList();
        var html = NotebookAttention.Notebooks.Table.Of(
            ["query", "row", "queries+keys: weight sum", "queries+keys: |output|", "keys only: weight sum", "keys only: |output|", "largest difference"],
            labels,
            rows);
        return new TableView($"Sentence {Sentence}, untrained weights. {Conclusion}{note}", html);
    }

    private static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}

/// <summary>
/// A query row whose keys are all masked, under two conventions: minus infinity with an empty row (this library,
/// PyTorch's safe softmax, FlashAttention) and the fp32 minimum added to the scores (Hugging Face's eager attention),
/// both computed here from the same scores.
/// </summary>
public sealed class FullyMaskedRow
{
    private FullyMaskedRow(int query, Vector<double> emptyWeights, Vector<double> emptyOutput, Vector<double> finiteWeights, Vector<double> finiteOutput, Vector<double> meanValue)
    {
        Query = query;
        EmptyWeights = emptyWeights;
        EmptyOutput = emptyOutput;
        FiniteWeights = finiteWeights;
        FiniteOutput = finiteOutput;
        MeanValue = meanValue;
    }

    /// <summary>The row.</summary>
    public int Query { get; }

    /// <summary>Its weights with minus infinity (this library's softmax).</summary>
    public Vector<double> EmptyWeights { get; }

    /// <summary>Its output with minus infinity.</summary>
    public Vector<double> EmptyOutput { get; }

    /// <summary>Its weights with the fp32 minimum added to the masked scores.</summary>
    public Vector<double> FiniteWeights { get; }

    /// <summary>Its output with the fp32 minimum.</summary>
    public Vector<double> FiniteOutput { get; }

    /// <summary>The mean of all value rows, which a uniform row returns.</summary>
    public Vector<double> MeanValue { get; }

    /// <summary>Recomputes row <paramref name="query"/> of <paramref name="result"/> with the fp32-minimum mask.</summary>
    /// <param name="result">A masked attention result.</param>
    /// <param name="query">A row of it whose keys are all masked.</param>
    /// <returns>Both conventions for that row.</returns>
    /// <exception cref="ArgumentException">The result has no mask, or the row is not fully masked.</exception>
    public static FullyMaskedRow Of(AttentionResult result, int query)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Mask is null || !result.Mask.IsFullyMasked(query))
        {
            throw new ArgumentException($"row {query} is not fully masked in this result: mask every key of that row (Mask.FromFunction) first.", nameof(query));
        }

        var finiteWeights = Softmax.Rows(result.Mask.AddFp32Minimum(result.Scores));   // [queries x keys]
        var finiteOutput = WeightedSum.Of(finiteWeights, result.Values);               // [queries x d_v]
        var meanValue = result.Values.ColumnSums() / result.Values.RowCount;
        return new FullyMaskedRow(query, result.Weights.Row(query), result.Output.Row(query), finiteWeights.Row(query), finiteOutput.Row(query), meanValue);
    }

    /// <summary>What the numbers show, in words that follow from them.</summary>
    public string Conclusion
    {
        get
        {
            var keys = FiniteWeights.Count;
            var empty = EmptyWeights.Sum() == 0 && EmptyOutput.InfinityNorm() == 0
                ? "With −∞ the row is empty: weights sum to 0 and the output is 0."
                : "With −∞ the row is not empty.";
            var spread = FiniteWeights.Maximum() - FiniteWeights.Minimum();
            var uniform = spread <= 1e-12 && Math.Abs(FiniteWeights[0] - (1.0 / keys)) <= 1e-12;
            var finite = uniform
                ? string.Create(CultureInfo.InvariantCulture, $"With the fp32 minimum added the row is uniform: all {keys} weights are {FiniteWeights[0]:0.####} = 1/{keys}, so the output is the mean of all value rows (differs from it by {(FiniteOutput - MeanValue).InfinityNorm():0.0E+0}).")
                : string.Create(CultureInfo.InvariantCulture, $"With the fp32 minimum added the weights run from {FiniteWeights.Minimum():0.####} to {FiniteWeights.Maximum():0.####}: not uniform.");
            return $"Row {Query}: {empty} {finite}";
        }
    }

    /// <summary>The row's weights under both conventions, titled with <see cref="Conclusion"/>.</summary>
    public TableView Table()
    {
        var shown = LongInput.Shown(FiniteWeights.Count);
        var header = new List<string> { "key" };
        header.AddRange(Enumerable.Range(0, shown).Select(k => k.ToString(CultureInfo.InvariantCulture)));
        header.Add("|output|");
        var rows = new List<IReadOnlyList<string>>
        {
            Row(EmptyWeights, EmptyOutput, shown),
            Row(FiniteWeights, FiniteOutput, shown),
        };
        var note = shown < FiniteWeights.Count ? $" Table: {LongInput.Note(shown, FiniteWeights.Count, "keys")}; the sentences above cover every key." : string.Empty;
        var html = NotebookAttention.Notebooks.Table.Of(header, ["−∞ (library, PyTorch safe softmax, FlashAttention)", "+ fp32 minimum (Hugging Face)"], rows);
        return new TableView($"Untrained weights. {Conclusion}{note}", html);
    }

    private static List<string> Row(Vector<double> weights, Vector<double> output, int shown)
    {
        var cells = weights.Take(shown).Select(w => w.ToString("0.####", CultureInfo.InvariantCulture)).ToList();
        cells.Add(output.L2Norm().ToString("0.####", CultureInfo.InvariantCulture));
        return cells;
    }
}

/// <summary>
/// The number of trainable numbers of several multi-head layers, counted from their matrices
/// (<see cref="MultiHeadAttention.ParameterCount"/>), with a conclusion derived from the counts.
/// </summary>
public sealed class ParameterCounts
{
    private ParameterCounts(IReadOnlyList<(string Name, MultiHeadAttention Layer)> layers) => Layers = layers;

    /// <summary>The layers, each with a name.</summary>
    public IReadOnlyList<(string Name, MultiHeadAttention Layer)> Layers { get; }

    /// <summary>Counts the parameters of the given layers.</summary>
    /// <param name="layers">Named layers, at least one.</param>
    /// <exception cref="ArgumentException">No layers were given.</exception>
    public static ParameterCounts Of(IReadOnlyList<(string Name, MultiHeadAttention Layer)> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("there are 0 layers to count: give at least one named layer.", nameof(layers));
        }

        return new ParameterCounts([.. layers]);
    }

    /// <summary>What the counts show, in words that follow from them.</summary>
    public string Conclusion
    {
        get
        {
            var text = new StringBuilder();
            var split = Layers.Where(l => SplitsDModel(l.Layer)).ToList();
            if (split.Count > 0)
            {
                var byDModel = split.GroupBy(l => l.Layer.DModel);
                foreach (var group in byDModel)
                {
                    var d = (long)group.Key;
                    var all = group.All(l => l.Layer.ParameterCount == 4 * d * d);
                    var heads = string.Join(", ", group.Select(l => l.Layer.Heads));
                    text.Append(CultureInfo.InvariantCulture, $"d_model = {d}, heads of d_model / h, h = {heads}: ")
                        .Append(all
                            ? string.Create(CultureInfo.InvariantCulture, $"every layer has 4·d_model² = {4 * d * d} parameters, whatever h is. ")
                            : string.Create(CultureInfo.InvariantCulture, $"the counts differ ({string.Join(", ", group.Select(l => l.Layer.ParameterCount))}), not all 4·d_model² = {4 * d * d}. "));
                }
            }

            foreach (var (name, layer) in Layers.Where(l => !SplitsDModel(l.Layer)))
            {
                var width = (long)layer.Heads * layer.HeadDK;
                var expected = (2 * (long)layer.DModel * width) + ((long)layer.DModel * layer.Projections.DV) + ((long)layer.Projections.DV * layer.OutputProjection.OutputSize);
                text.Append(CultureInfo.InvariantCulture, $"{name}: h·d_k = {width} ≠ d_model = {layer.DModel}, ")
                    .Append(layer.ParameterCount == expected
                        ? string.Create(CultureInfo.InvariantCulture, $"{layer.ParameterCount} = {(layer.HeadDK == layer.HeadDV && layer.OutputProjection.OutputSize == layer.DModel ? "4·d_model·h·d_k" : "2·d_model·h·d_k + d_model·h·d_v + h·d_v·d_out")} parameters. ")
                        : string.Create(CultureInfo.InvariantCulture, $"{layer.ParameterCount} parameters. "));
            }

            return text.ToString().TrimEnd();
        }
    }

    /// <summary>One row per layer: heads, head width, the four shapes, the count.</summary>
    /// <returns>The table, titled with <see cref="Conclusion"/>.</returns>
    public TableView Table()
    {
        var rows = Layers.Select(l => (IReadOnlyList<string>)
        [
            l.Layer.DModel.ToString(CultureInfo.InvariantCulture),
            l.Layer.Heads.ToString(CultureInfo.InvariantCulture),
            l.Layer.HeadDK.ToString(CultureInfo.InvariantCulture),
            Shape(l.Layer.Projections.Query.Weight),
            Shape(l.Layer.OutputProjection.Weight),
            l.Layer.ParameterCount.ToString(CultureInfo.InvariantCulture),
        ]).ToList();
        var html = NotebookAttention.Notebooks.Table.Of(["layer", "d_model", "h", "d_k per head", "W_Q, W_K, W_V", "W_O", "parameters"], [.. Layers.Select(l => l.Name)], rows);
        return new TableView(Conclusion, html);
    }

    private static bool SplitsDModel(MultiHeadAttention layer) =>
        layer.Projections.DK == layer.DModel && layer.Projections.DV == layer.DModel && layer.OutputProjection.OutputSize == layer.DModel
        && layer.Projections.Query.Bias is null && layer.Projections.Key.Bias is null && layer.Projections.Value.Bias is null && layer.OutputProjection.Bias is null;

    private static string Shape(Matrix<double> matrix) => string.Create(CultureInfo.InvariantCulture, $"[{matrix.RowCount} x {matrix.ColumnCount}]");
}
