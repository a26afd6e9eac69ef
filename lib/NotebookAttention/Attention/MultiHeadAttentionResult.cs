using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// Everything multi-head attention computed: the full Q, K, V, each head's steps, the concatenation and the
/// output after W_O.
/// </summary>
public sealed class MultiHeadAttentionResult
{
    internal MultiHeadAttentionResult(
        IReadOnlyList<string> tokens,
        Matrix<double> input,
        Matrix<double> queries,
        Matrix<double> keys,
        Matrix<double> values,
        IReadOnlyList<AttentionResult> heads,
        Matrix<double> concatenated,
        Matrix<double> output,
        Mask? mask)
    {
        Tokens = tokens;
        Input = input;
        Queries = queries;
        Keys = keys;
        Values = values;
        Heads = heads;
        Concatenated = concatenated;
        Output = output;
        Mask = mask;
    }

    /// <summary>Token labels of rows and columns (position numbers when none were given).</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>X, the token vectors that went in, shape [tokens x d_model].</summary>
    public Matrix<double> Input { get; }

    /// <summary>Q for all heads side by side, shape [tokens x d_k].</summary>
    public Matrix<double> Queries { get; }

    /// <summary>K for all heads side by side, shape [tokens x d_k].</summary>
    public Matrix<double> Keys { get; }

    /// <summary>V for all heads side by side, shape [tokens x d_v].</summary>
    public Matrix<double> Values { get; }

    /// <summary>Each head's steps; head i worked on columns i*d/h to (i+1)*d/h - 1.</summary>
    public IReadOnlyList<AttentionResult> Heads { get; }

    /// <summary>Number of heads h.</summary>
    public int HeadCount => Heads.Count;

    /// <summary>The attention weights of every head, [heads x queries x keys]: <c>Weights[h][i, j]</c>.</summary>
    public IReadOnlyList<Matrix<double>> Weights => [.. Heads.Select(h => h.Weights)];

    /// <summary>The head outputs side by side, shape [tokens x d_v].</summary>
    public Matrix<double> Concatenated { get; }

    /// <summary>The output Concat(heads) W_O (+ b_O), shape [tokens x d_out]; fully masked rows are 0.</summary>
    public Matrix<double> Output { get; }

    /// <summary>The mask every head used, or null.</summary>
    public Mask? Mask { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{HeadCount}-head attention over {Tokens.Count} tokens: X {Check.Shape(Input)} -> Q, K {Check.Shape(Queries)} -> {HeadCount} x weights {Check.Shape(Heads[0].Weights)} -> concat {Check.Shape(Concatenated)} -> output {Check.Shape(Output)}";
}
