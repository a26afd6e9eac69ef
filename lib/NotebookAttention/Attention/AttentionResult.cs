using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// Everything one attention head computed, step by step, so a notebook can show any step and label a chart's
/// axes with the tokens.
/// </summary>
public sealed class AttentionResult
{
    internal AttentionResult(
        IReadOnlyList<string> queryTokens,
        IReadOnlyList<string> keyTokens,
        Matrix<double> queries,
        Matrix<double> keys,
        Matrix<double> values,
        double scale,
        Matrix<double> scores,
        Mask? mask,
        Matrix<double> maskedScores,
        Matrix<double> weights,
        Matrix<double> output)
    {
        QueryTokens = queryTokens;
        KeyTokens = keyTokens;
        Queries = queries;
        Keys = keys;
        Values = values;
        Scale = scale;
        Scores = scores;
        Mask = mask;
        MaskedScores = maskedScores;
        Weights = weights;
        Output = output;
    }

    /// <summary>Labels of the rows (queries): the tokens, or "0", "1", ... when none were given.</summary>
    public IReadOnlyList<string> QueryTokens { get; }

    /// <summary>Labels of the columns (keys); the same as <see cref="QueryTokens"/> in self-attention.</summary>
    public IReadOnlyList<string> KeyTokens { get; }

    /// <summary>Q, shape [queries x d_k].</summary>
    public Matrix<double> Queries { get; }

    /// <summary>K, shape [keys x d_k].</summary>
    public Matrix<double> Keys { get; }

    /// <summary>V, shape [keys x d_v].</summary>
    public Matrix<double> Values { get; }

    /// <summary>The factor the dot products were multiplied by: 1/sqrt(d_k), or 1 without scaling.</summary>
    public double Scale { get; }

    /// <summary>Scaled scores S = Q K^T * <see cref="Scale"/>, before masking, shape [queries x keys].</summary>
    public Matrix<double> Scores { get; }

    /// <summary>The mask that was applied, or null when every key was visible.</summary>
    public Mask? Mask { get; }

    /// <summary>The scores with minus infinity where the mask forbids, shape [queries x keys].</summary>
    public Matrix<double> MaskedScores { get; }

    /// <summary>Attention weights A = softmax(masked scores), one row per query, shape [queries x keys].</summary>
    public Matrix<double> Weights { get; }

    /// <summary>The output O = A V, shape [queries x d_v].</summary>
    public Matrix<double> Output { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"attention over {KeyTokens.Count} tokens: Q {Check.Shape(Queries)}, K {Check.Shape(Keys)}, V {Check.Shape(Values)} -> weights {Check.Shape(Weights)} -> output {Check.Shape(Output)}";
}
