using System.Globalization;
using System.Text;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Notebooks;

/// <summary>
/// Notebook 06's walk through <see cref="TiledAttention"/>: the online softmax of one query row of the learner's
/// sentence as a table, block by block, and the check that tiled attention equals the reference path.
/// </summary>
public static class OnlineSoftmaxView
{
    /// <summary>
    /// Largest difference the notebook accepts between the tiled and the reference output: both are fp64 and differ
    /// only by the rounding of a few dozen operations on numbers of size about 1 (about 1e-15), the bound notebook 03
    /// uses for its loops against matrices.
    /// </summary>
    public const double Tolerance = 1e-12;

    /// <summary>Scores shown per block; a longer block shows its first ones and how many more it holds.</summary>
    private const int ScoresShown = 6;

    /// <summary>A block size that cuts a sentence of <paramref name="tokens"/> tokens into about four blocks (at least 2 keys each).</summary>
    /// <param name="tokens">Tokens in the sentence, at least 1.</param>
    /// <returns>Keys per block.</returns>
    public static int BlockSizeFor(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        return Math.Max(2, (tokens + 3) / 4);
    }

    /// <summary>
    /// The trace as a table, one line per key block: its keys, their scores, the block's largest score, the running
    /// maximum m before and after it, the rescale factor e^(m_old - m_new) and the running sum l after it; then the
    /// row's weights e^(s - m) / l and output against the reference path's row (largest differences).
    /// </summary>
    /// <param name="trace">One query row's online softmax (<see cref="TiledAttention.Trace"/>).</param>
    /// <param name="tokens">The sentence's tokens, one per key.</param>
    /// <param name="reference">The reference path's result on the same Q, K, V and mask.</param>
    /// <returns>The table and the comparison, as text.</returns>
    public static string Steps(OnlineSoftmaxTrace trace, IReadOnlyList<string> tokens, AttentionResult reference)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(reference);
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"query {trace.Query} (\"{LongInput.Label(tokens[trace.Query])}\"), keys in blocks of {trace.BlockSize}:");
        text.AppendLine(c, $"{"block",-6}{"keys",-8}{"block max",-11}{"m before",-11}{"m after",-11}{"rescale",-12}{"l after",-12}scores");
        foreach (var block in trace.Blocks)
        {
            var keys = $"{block.FirstKey}-{block.FirstKey + block.Scores.Count - 1}";
            var shown = string.Join(" ", block.Scores.Take(ScoresShown).Select(s => Number(s, "0.0000")));
            var more = block.Scores.Count > ScoresShown ? $" (+{block.Scores.Count - ScoresShown} more)" : string.Empty;
            text.AppendLine(c, $"{block.Index,-6}{keys,-8}{Number(block.BlockMax, "0.0000"),-11}{Number(block.PreviousMax, "0.0000"),-11}{Number(block.RunningMax, "0.0000"),-11}{Number(block.Rescale, "0.000000"),-12}{Number(block.RunningSum, "0.000000"),-12}{shown}{more}");
        }

        var weightDifference = (trace.Weights() - reference.Weights.Row(trace.Query)).AbsoluteMaximum();
        var outputDifference = (trace.Output - reference.Output.Row(trace.Query)).AbsoluteMaximum();
        text.Append(c, $"after the last block: m = {Number(trace.Max, "0.0000")}, l = {Number(trace.Sum, "0.000000")}; weights e^(s - m) / l against row {trace.Query} of the reference's A: largest difference {weightDifference:E2}; output o / l against the reference's output row: largest difference {outputDifference:E2}");
        return text.ToString();
    }

    /// <summary>
    /// <see cref="TiledAttention.Compute"/> against <see cref="ScaledDotProductAttention.Compute"/> on the whole
    /// sentence, without a mask and with the causal mask: the largest difference of each, and whether both are within
    /// <see cref="Tolerance"/>.
    /// </summary>
    /// <param name="queries">Q, shape [tokens x d_k].</param>
    /// <param name="keys">K, shape [tokens x d_k].</param>
    /// <param name="values">V, shape [tokens x d_v].</param>
    /// <param name="blockSize">Keys per block.</param>
    /// <returns>One sentence with the two differences and the verdict drawn from them.</returns>
    public static string CompareWithReference(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, int blockSize)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        var causal = Mask.Causal(keys.RowCount);
        var open = Difference(queries, keys, values, blockSize, null);
        var masked = Difference(queries, keys, values, blockSize, causal);
        return string.Create(CultureInfo.InvariantCulture, $"tiled (blocks of {blockSize} keys) against the reference on all {queries.RowCount} queries: largest difference {open:E2} without a mask and {masked:E2} with the causal mask: {Verdict(open, masked)}");
    }

    /// <summary>The verdict <see cref="CompareWithReference"/> draws from its two differences.</summary>
    /// <param name="open">Largest difference without a mask.</param>
    /// <param name="masked">Largest difference with the causal mask.</param>
    /// <returns>"equal ..." when both are within <see cref="Tolerance"/>, "NOT equal ..." otherwise.</returns>
    public static string Verdict(double open, double masked) =>
        open <= Tolerance && masked <= Tolerance
            ? string.Create(CultureInfo.InvariantCulture, $"equal up to fp64 rounding (both within {Tolerance:E0}).")
            : string.Create(CultureInfo.InvariantCulture, $"NOT equal: a difference is above {Tolerance:E0}, more than fp64 rounding explains.");

    private static double Difference(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, int blockSize, Mask? mask)
    {
        var reference = ScaledDotProductAttention.Compute(queries, keys, values, mask).Output;
        var tiled = TiledAttention.Compute(queries, keys, values, blockSize, mask);
        return (reference - tiled).Enumerate().Max(Math.Abs);
    }

    private static string Number(double value, string format) =>
        double.IsNegativeInfinity(value) ? "-inf" : value.ToString(format, CultureInfo.InvariantCulture);
}
