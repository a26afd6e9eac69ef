using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// One self-attention head as a layer: the sequence attends to itself. X becomes Q, K and V through the
/// projections, then <see cref="ScaledDotProductAttention"/> runs on them.
/// </summary>
public sealed class SelfAttention
{
    /// <summary>A head with seeded projections (Xavier uniform, see <see cref="LinearProjection"/>).</summary>
    /// <param name="dModel">Token vector length.</param>
    /// <param name="dK">Query and key length.</param>
    /// <param name="dV">Value length (output length).</param>
    /// <param name="seed">Seed; the same seed gives the same weights.</param>
    /// <param name="bias">Whether the projections have biases.</param>
    public SelfAttention(int dModel, int dK, int dV, int seed = 0, bool bias = false)
        : this(QkvProjections.Create(dModel, dK, dV, seed, bias))
    {
    }

    /// <summary>A head with given projections.</summary>
    /// <param name="projections">W_Q, W_K and W_V.</param>
    public SelfAttention(QkvProjections projections)
    {
        ArgumentNullException.ThrowIfNull(projections);
        Projections = projections;
    }

    /// <summary>W_Q, W_K and W_V.</summary>
    public QkvProjections Projections { get; }

    /// <summary>Runs the head on token vectors.</summary>
    /// <param name="tokenVectors">X, shape [tokens x d_model].</param>
    /// <param name="mask">Which keys each token may see, [tokens x tokens]; null shows every key.</param>
    /// <param name="scaled">Divide scores by sqrt(d_k) (the default).</param>
    /// <param name="tokens">Token labels, one per row of X, or null for position numbers.</param>
    /// <returns>Every step from Q, K, V to the output [tokens x d_v].</returns>
    public AttentionResult Forward(Matrix<double> tokenVectors, Mask? mask = null, bool scaled = true, IReadOnlyList<string>? tokens = null)
    {
        AttentionChecks.SelfAttentionInputs(tokenVectors, mask, tokens, 3, "self-attention");
        var (queries, keys, values) = Projections.Project(tokenVectors);   // checks X once
        return ScaledDotProductAttention.ComputeUnchecked(queries, keys, values, mask, scaled, tokens);
    }
}
