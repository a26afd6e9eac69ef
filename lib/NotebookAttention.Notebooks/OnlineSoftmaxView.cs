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
    /// <summary>Scores shown per block; a longer block shows its first ones and how many more it holds.</summary>
    private const int ScoresShown = 6;

    /// <summary>A block size that cuts a sentence of <paramref name="tokens"/> tokens into about four blocks (one key each up to 4 tokens).</summary>
    /// <param name="tokens">Tokens in the sentence, at least 1.</param>
    /// <returns>Keys per block.</returns>
    public static int BlockSizeFor(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        return Math.Max(1, (tokens + 3) / 4);
    }

    /// <summary>
    /// The trace as a table, one line per key block: its keys, their scores, the block's largest score, the running
    /// maximum m before and after it, the rescale factor c = e^(m_old - m_new), the block sum rowsum e^(s - m_new) and
    /// the running sum l = c l_old + block sum after it; then the row's weights e^(s - m) / l and output against the
    /// reference path's row: largest differences (<see cref="Differences.Largest(Vector{double}, Vector{double})"/>, NaN
    /// if anything is not finite) next to the fp64 rounding bound they must stay within
    /// (<see cref="TiledAttention.RoundingBound"/>, with V replaced by ones for the weights).
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
        text.AppendLine(c, $"{"block",-6}{"keys",-8}{"block max",-11}{"m before",-11}{"m after",-11}{"rescale",-12}{"block sum",-12}{"l after",-12}scores");
        foreach (var block in trace.Blocks)
        {
            var keys = $"{block.FirstKey}-{block.FirstKey + block.Scores.Count - 1}";
            var shown = string.Join(" ", block.Scores.Take(ScoresShown).Select(s => Number(s, "0.0000")));
            var more = block.Scores.Count > ScoresShown ? $" (+{block.Scores.Count - ScoresShown} more)" : string.Empty;
            text.AppendLine(c, $"{block.Index,-6}{keys,-8}{Number(block.BlockMax, "0.0000"),-11}{Number(block.PreviousMax, "0.0000"),-11}{Number(block.RunningMax, "0.0000"),-11}{Number(block.Rescale, "0.000000"),-12}{Number(BlockSum(block), "0.000000"),-12}{Number(block.RunningSum, "0.000000"),-12}{shown}{more}");
        }

        var scaled = reference.Scale != 1.0;
        var ones = Matrix<double>.Build.Dense(reference.Keys.RowCount, 1, 1.0);
        var weightBound = TiledAttention.RoundingBound(reference.Queries, reference.Keys, ones, trace.BlockSize, scaled);
        var outputBound = TiledAttention.RoundingBound(reference.Queries, reference.Keys, reference.Values, trace.BlockSize, scaled);
        var weightDifference = Differences.Largest(trace.Weights(), reference.Weights.Row(trace.Query));
        var outputDifference = Differences.Largest(trace.Output, reference.Output.Row(trace.Query));
        text.Append(c, $"after the last block: m = {Number(trace.Max, "0.0000")}, l = {Number(trace.Sum, "0.000000")}; weights e^(s - m) / l against row {trace.Query} of the reference's A: largest difference {weightDifference:E2} (fp64 bound {weightBound:E2}); output o / l against the reference's output row: largest difference {outputDifference:E2} (fp64 bound {outputBound:E2})");
        return text.ToString();
    }

    /// <summary>
    /// <see cref="TiledAttention.Compute"/> against <see cref="ScaledDotProductAttention.Compute"/> on the whole
    /// sentence, without a mask and with the causal mask: the largest difference of each, and whether both are within
    /// the fp64 rounding bound derived for these inputs (<see cref="TiledAttention.RoundingBound"/>), printed with them.
    /// A fixed 1e-12 would not do: the bound grows with the number of keys and with max |v|.
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
        var bound = TiledAttention.RoundingBound(queries, keys, values, blockSize);
        return string.Create(CultureInfo.InvariantCulture, $"tiled (blocks of {blockSize} keys) against the reference on all {queries.RowCount} queries: largest difference {open:E2} without a mask and {masked:E2} with the causal mask; fp64 rounding bound for these inputs {bound:E2}: {Verdict(open, masked, bound)}");
    }

    /// <summary>The verdict <see cref="CompareWithReference"/> draws from its two differences.</summary>
    /// <param name="open">Largest difference without a mask.</param>
    /// <param name="masked">Largest difference with the causal mask.</param>
    /// <param name="bound">The fp64 rounding bound (<see cref="TiledAttention.RoundingBound"/>).</param>
    /// <returns>"equal ..." when both are within <paramref name="bound"/>, "NOT equal ..." otherwise, NaN included.</returns>
    public static string Verdict(double open, double masked, double bound) =>
        open <= bound && masked <= bound
            ? "equal up to fp64 rounding (both within the bound)."
            : "NOT equal: a difference is above the bound or not a number, more than fp64 rounding explains.";

    private static double Difference(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, int blockSize, Mask? mask)
    {
        var reference = ScaledDotProductAttention.Compute(queries, keys, values, mask).Output;
        var tiled = TiledAttention.Compute(queries, keys, values, blockSize, mask);
        return Differences.Largest(reference, tiled);
    }

    /// <summary>rowsum e^(s - m_new) over the block's keys, the amount the block adds to l (0 while no allowed key was seen).</summary>
    private static double BlockSum(OnlineSoftmaxBlock block) =>
        double.IsNegativeInfinity(block.RunningMax) ? 0.0 : block.Scores.Sum(score => Math.Exp(score - block.RunningMax));

    private static string Number(double value, string format) =>
        double.IsNegativeInfinity(value) ? "-inf" : value.ToString(format, CultureInfo.InvariantCulture);
}
