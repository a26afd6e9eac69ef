using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// The input rules of the attention steps, one method per rule, each with a message that says what was wrong and
/// what to do. Entry points (<see cref="ScaledDotProductAttention.Compute"/>, <see cref="SelfAttention.Forward"/>,
/// <see cref="MultiHeadAttention.Forward(Matrix{double}, Mask?, bool, IReadOnlyList{string}?)"/> and the backward
/// passes) run them once; each public step runs its own rule in one line, for a learner who calls the step directly,
/// and then the same unchecked core that the entry points call for every head.
/// </summary>
internal static class AttentionChecks
{
    /// <summary>Q and K are finite, not empty, and have the same d_k (a query meets a key by dot product).</summary>
    public static void QueriesMeetKeys(Matrix<double> queries, Matrix<double> keys)
    {
        Check.Finite(queries, "queries Q", nameof(queries));
        Check.Finite(keys, "keys K", nameof(keys));
        if (queries.ColumnCount != keys.ColumnCount)
        {
            throw new ArgumentException(
                $"Q is {Check.Shape(queries)} but K is {Check.Shape(keys)}: a query and a key are compared by dot product, so both need the same length d_k (same number of columns).",
                nameof(keys));
        }
    }

    /// <summary>The inputs of the scores step on their own: Q and K meet (<see cref="QueriesMeetKeys"/>) and S fits in memory.</summary>
    public static void ScoreInputs(Matrix<double> queries, Matrix<double> keys)
    {
        QueriesMeetKeys(queries, keys);
        Check.ReferenceFits(queries.RowCount, keys.RowCount, 1, "the scores Q K^T");
    }

    /// <summary>V has one row per key.</summary>
    public static void ValuePerKey(Matrix<double> keys, Matrix<double> values)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        if (values.RowCount != keys.RowCount)
        {
            throw new ArgumentException(
                $"K is {Check.Shape(keys)} but V is {Check.Shape(values)}: every key needs its value, so both need the same number of rows.",
                nameof(values));
        }
    }

    /// <summary>A and V are finite and not empty, and A has one column per value.</summary>
    public static void WeightsMeetValues(Matrix<double> weights, Matrix<double> values)
    {
        Check.Finite(weights, "attention weights A", nameof(weights));
        Check.Finite(values, "values V", nameof(values));
        if (weights.ColumnCount != values.RowCount)
        {
            throw new ArgumentException(
                $"A is {Check.Shape(weights)} but V is {Check.Shape(values)}: A needs one column per value (one per key), so {values.RowCount} columns.",
                nameof(values));
        }
    }

    /// <summary>The mask is [queries x keys], the shape of the scores it masks.</summary>
    public static void MaskFits(Mask mask, int queries, int keys, string parameter)
    {
        if (queries != mask.Queries || keys != mask.Keys)
        {
            throw new ArgumentException(
                $"the mask is [{mask.Queries} x {mask.Keys}] but the scores are [{queries} x {keys}] ({queries} queries x {keys} keys): build the mask for these {keys} tokens, e.g. Mask.Causal({keys}).",
                parameter);
        }
    }

    /// <summary>The scores fit the mask and are finite: a minus infinity already there would look masked.</summary>
    public static void MaskableScores(Mask mask, Matrix<double> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        MaskFits(mask, scores.RowCount, scores.ColumnCount, nameof(scores));
        Check.Finite(scores, "scores", nameof(scores));
    }

    /// <summary>No score is NaN or plus infinity (minus infinity marks a masked key).</summary>
    public static void SoftmaxScores(Vector<double> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        for (var key = 0; key < scores.Count; key++)
        {
            SoftmaxScore(scores[key], key, "scores", nameof(scores));
        }
    }

    /// <inheritdoc cref="SoftmaxScores(Vector{double})"/>
    public static void SoftmaxScores(Matrix<double> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        for (var query = 0; query < scores.RowCount; query++)
        {
            for (var key = 0; key < scores.ColumnCount; key++)
            {
                SoftmaxScore(scores.At(query, key), key, $"scores {Check.Shape(scores)} row {query}", nameof(scores));
            }
        }
    }

    /// <summary>S = Q K^T came out finite: an overflowed score would be read as masked (-infinity) or poison the softmax.</summary>
    public static void ScoresInRange(Matrix<double> scores) =>
        Check.NoOverflow(
            scores,
            "the scores Q K^T",
            "some q_i . k_j is beyond the fp64 range, so no softmax of it is meaningful; scale the queries and keys down (for example divide X or the projection weights by a constant)",
            "queries");

    /// <summary>O = A V came out finite.</summary>
    public static void WeightedSumInRange(Matrix<double> output) =>
        Check.NoOverflow(output, "the weighted sum A V", "A or V is too large (softmax weights are at most 1, so V is); scale V down", "values");

    /// <summary>Y = X W + b came out finite.</summary>
    public static void ProjectionInRange(Matrix<double> output) =>
        Check.NoOverflow(output, "the projection X W + b", "X or W is too large; scale X down (for example normalise the token vectors)", "input");

    /// <summary>X is finite, not empty, and has one column per row of W.</summary>
    public static void ProjectionInput(Matrix<double> input, Matrix<double> weight)
    {
        Check.Finite(input, "projection input X", nameof(input));
        if (input.ColumnCount != weight.RowCount)
        {
            throw new ArgumentException(
                $"X is {Check.Shape(input)} but W is {Check.Shape(weight)}: X needs {weight.RowCount} columns (one per input feature) to be projected.",
                nameof(input));
        }
    }

    /// <summary>h is at least 1 and divides <paramref name="width"/>, so every head gets an equal share of the columns.</summary>
    public static void HeadsDivide(int width, int heads, string what)
    {
        if (heads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(heads), heads, $"heads = {heads}: multi-head attention needs at least 1 head.");
        }

        if (width % heads != 0)
        {
            var choices = Enumerable.Range(1, width).Where(h => width % h == 0).Select(h => h.ToString(System.Globalization.CultureInfo.InvariantCulture));
            throw new ArgumentException(
                $"{what} = {width} is not divisible by heads = {heads} ({width} / {heads} leaves {width % heads}): each head gets an equal share of the columns, so choose heads from {string.Join(", ", choices)}.",
                nameof(heads));
        }
    }

    /// <summary>There is at least one head output and all have one shape.</summary>
    public static void SameShapedHeads(IReadOnlyList<Matrix<double>> heads)
    {
        ArgumentNullException.ThrowIfNull(heads);
        if (heads.Count == 0)
        {
            throw new ArgumentException("there are 0 heads to concatenate: pass at least one head output.", nameof(heads));
        }

        if (heads.Any(h => h.RowCount != heads[0].RowCount || h.ColumnCount != heads[0].ColumnCount))
        {
            throw new ArgumentException(
                $"head outputs have different shapes ({string.Join(", ", heads.Select(Check.Shape))}): every head must see the same tokens and have the same width.",
                nameof(heads));
        }
    }

    /// <summary>The inputs of <see cref="ScaledDotProductAttention.Compute"/>, checked once before any step runs.</summary>
    public static void AttentionInputs(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, Mask? mask, IReadOnlyList<string>? tokens)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ValuePerKey(keys, values);
        // Scores, masked scores and weights are all kept for the notebooks: three [queries x keys] matrices.
        Check.ReferenceFits(queries.RowCount, keys.RowCount, 3, "scaled dot-product attention");
        Check.Labels(tokens, queries.RowCount, "Q", nameof(tokens));
        Check.Labels(tokens, keys.RowCount, "K", nameof(tokens));
        QueriesMeetKeys(queries, keys);
        if (mask is not null)
        {
            MaskFits(mask, queries.RowCount, keys.RowCount, nameof(mask));
        }

        Check.Finite(values, "values V", nameof(values));
    }

    /// <summary>
    /// The inputs of a self-attention layer's forward pass, checked once before projecting: X itself is checked by
    /// the projection; here the mask fits [tokens x tokens], one label per token, and the kept matrices fit in memory.
    /// </summary>
    public static void SelfAttentionInputs(Matrix<double> tokenVectors, Mask? mask, IReadOnlyList<string>? tokens, int keptMatrices, string what)
    {
        ArgumentNullException.ThrowIfNull(tokenVectors);
        Check.ReferenceFits(tokenVectors.RowCount, tokenVectors.RowCount, keptMatrices, what);
        Check.Labels(tokens, tokenVectors.RowCount, "X", nameof(tokens));
        if (mask is not null)
        {
            MaskFits(mask, tokenVectors.RowCount, tokenVectors.RowCount, nameof(mask));
        }
    }

    /// <summary>The gradient of an attention output has the output's shape.</summary>
    /// <param name="output">The forward pass's output, O or Y.</param>
    /// <param name="outputGradient">Its gradient, dO or dY.</param>
    /// <param name="symbol">"O" or "Y", for the message.</param>
    public static void OutputGradient(Matrix<double> output, Matrix<double> outputGradient, string symbol)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        if (outputGradient.RowCount != output.RowCount || outputGradient.ColumnCount != output.ColumnCount)
        {
            throw new ArgumentException(
                $"the output {symbol} is {Check.Shape(output)} but d{symbol} is {Check.Shape(outputGradient)}: the gradient has the output's shape.",
                nameof(outputGradient));
        }
    }

    /// <summary>dS has one row per query and one column per key, and Q and K share d_k.</summary>
    public static void ScoreGradient(Matrix<double> queries, Matrix<double> keys, Matrix<double> scoreGradient)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(scoreGradient);
        if (queries.ColumnCount != keys.ColumnCount || scoreGradient.RowCount != queries.RowCount || scoreGradient.ColumnCount != keys.RowCount)
        {
            throw new ArgumentException(
                $"Q is {Check.Shape(queries)}, K is {Check.Shape(keys)} and dS is {Check.Shape(scoreGradient)}: dS needs one row per query and one column per key, and Q and K the same d_k.",
                nameof(scoreGradient));
        }
    }

    /// <summary>dA has the shape of A.</summary>
    public static void WeightGradient(Matrix<double> weights, Matrix<double> weightGradient)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(weightGradient);
        if (weights.RowCount != weightGradient.RowCount || weights.ColumnCount != weightGradient.ColumnCount)
        {
            throw new ArgumentException(
                $"A is {Check.Shape(weights)} but dA is {Check.Shape(weightGradient)}: the gradient has the shape of the weights.",
                nameof(weightGradient));
        }
    }

    /// <summary>dO has the shape of A V.</summary>
    public static void WeightedSumGradient(Matrix<double> weights, Matrix<double> values, Matrix<double> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(outputGradient);
        if (weights.ColumnCount != values.RowCount || outputGradient.RowCount != weights.RowCount || outputGradient.ColumnCount != values.ColumnCount)
        {
            throw new ArgumentException(
                $"A is {Check.Shape(weights)}, V is {Check.Shape(values)} and dO is {Check.Shape(outputGradient)}: dO needs the shape of A V.",
                nameof(outputGradient));
        }
    }

    /// <summary>The gradient of the masked scores has the mask's shape.</summary>
    public static void MaskedScoreGradient(Mask mask, Matrix<double> maskedScoreGradient)
    {
        ArgumentNullException.ThrowIfNull(maskedScoreGradient);
        if (maskedScoreGradient.RowCount != mask.Queries || maskedScoreGradient.ColumnCount != mask.Keys)
        {
            throw new ArgumentException(
                $"the mask is [{mask.Queries} x {mask.Keys}] but the gradient is {Check.Shape(maskedScoreGradient)}: pass the gradient of the masked scores this mask produced.",
                nameof(maskedScoreGradient));
        }
    }

    /// <summary>X and dY fit the projection W: X has one column per row of W, dY one per column, both one row per token.</summary>
    public static void ProjectionGradient(Matrix<double> input, Matrix<double> outputGradient, Matrix<double> weight)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(outputGradient);
        if (input.ColumnCount != weight.RowCount || outputGradient.ColumnCount != weight.ColumnCount || outputGradient.RowCount != input.RowCount)
        {
            throw new ArgumentException(
                $"X is {Check.Shape(input)} and dY is {Check.Shape(outputGradient)} but W is {Check.Shape(weight)}: X needs {weight.RowCount} columns and dY {weight.ColumnCount}, both one row per token.",
                nameof(outputGradient));
        }
    }

    private static void SoftmaxScore(double score, int key, string what, string parameter)
    {
        if (double.IsNaN(score) || double.IsPositiveInfinity(score))
        {
            throw new ArgumentException(
                $"{what} has {(double.IsNaN(score) ? "NaN" : "+infinity")} at column {key}: softmax needs finite scores (minus infinity marks a masked key); look at the inputs that produced them.",
                parameter);
        }
    }
}
