using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// Simple measured traits of one attention head, averaged over the real query tokens: how spread out its
/// weights are, and how much of them go to the previous token, the token itself, the next token and the
/// special tokens (such as [CLS] and [SEP]).
/// </summary>
/// <param name="Layer">Layer number (0 = first).</param>
/// <param name="Head">Head number within the layer.</param>
/// <param name="Entropy">Mean entropy of a query's weights in bits: 0 when every query looks at one key, log2(n) when it spreads evenly.</param>
/// <param name="PreviousToken">Mean weight from token i to token i - 1 (over queries that have one; 0 for a single token).</param>
/// <param name="SameToken">Mean weight from token i to itself.</param>
/// <param name="NextToken">Mean weight from token i to token i + 1 (over queries that have one; 0 for a single token).</param>
/// <param name="SpecialTokens">Mean total weight on the special positions.</param>
public sealed record HeadTraits(int Layer, int Head, double Entropy, double PreviousToken, double SameToken, double NextToken, double SpecialTokens)
{
    /// <summary>The names of the measured traits, in the order of <see cref="Values"/>.</summary>
    public static readonly IReadOnlyList<string> Names = ["entropy (bits)", "previous token", "same token", "next token", "special tokens"];

    /// <summary>The traits in the order of <see cref="Names"/>.</summary>
    public IReadOnlyList<double> Values => [Entropy, PreviousToken, SameToken, NextToken, SpecialTokens];

    /// <inheritdoc />
    public override string ToString() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"layer {Layer}, head {Head}: entropy {Entropy:0.000} bits, previous {PreviousToken:0.000}, same {SameToken:0.000}, next {NextToken:0.000}, special {SpecialTokens:0.000}");

    /// <summary>Measures every head of one layer.</summary>
    /// <param name="result">The layer's multi-head attention.</param>
    /// <param name="layer">The layer's number, stored in the traits.</param>
    /// <param name="specialPositions">Positions of special tokens such as [CLS] and [SEP] (may be empty).</param>
    /// <param name="validLength">Real tokens when the sequence is padded (queries from here on are skipped), or null for all.</param>
    /// <returns>One entry per head.</returns>
    /// <exception cref="ArgumentException">A position or the valid length is outside the sequence.</exception>
    public static IReadOnlyList<HeadTraits> Measure(MultiHeadAttentionResult result, int layer, IReadOnlyCollection<int> specialPositions, int? validLength = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(specialPositions);
        return [.. result.Heads.Select((head, h) => Measure(head.Weights, layer, h, specialPositions, validLength))];
    }

    /// <summary>Measures every head of every layer.</summary>
    /// <param name="layers">Each layer's multi-head attention, first layer first.</param>
    /// <param name="specialPositions">Positions of special tokens such as [CLS] and [SEP] (may be empty).</param>
    /// <param name="validLength">Real tokens when the sequence is padded, or null for all.</param>
    /// <returns>One entry per layer and head, layer by layer.</returns>
    public static IReadOnlyList<HeadTraits> Measure(IReadOnlyList<MultiHeadAttentionResult> layers, IReadOnlyCollection<int> specialPositions, int? validLength = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return [.. layers.SelectMany((result, layer) => Measure(result, layer, specialPositions, validLength))];
    }

    /// <summary>Measures one head from its weights.</summary>
    /// <param name="weights">Attention weights [n x n], rows summing to 1.</param>
    /// <param name="layer">Layer number, stored in the traits.</param>
    /// <param name="head">Head number, stored in the traits.</param>
    /// <param name="specialPositions">Positions of special tokens (may be empty).</param>
    /// <param name="validLength">Real tokens when the sequence is padded, or null for all.</param>
    /// <returns>The traits.</returns>
    /// <exception cref="ArgumentException">The weights are not square, or a position or the valid length is outside the sequence.</exception>
    public static HeadTraits Measure(Matrix<double> weights, int layer, int head, IReadOnlyCollection<int> specialPositions, int? validLength = null)
    {
        Check.Finite(weights, "the attention weights", nameof(weights));
        ArgumentNullException.ThrowIfNull(specialPositions);
        var n = weights.RowCount;
        if (weights.ColumnCount != n)
        {
            throw new ArgumentException($"the weights are {Check.Shape(weights)}: head traits compare query i with key i, so they need self-attention weights [n x n].", nameof(weights));
        }

        var valid = validLength ?? n;
        if (valid < 1 || valid > n)
        {
            throw new ArgumentException($"the valid length is {valid} but the sequence has {n} tokens: give 1 to {n}.", nameof(validLength));
        }

        var outside = specialPositions.Where(p => p < 0 || p >= n).ToList();
        if (outside.Count > 0)
        {
            throw new ArgumentException($"special position {outside[0]} is outside the {n} tokens: give positions 0 to {n - 1}.", nameof(specialPositions));
        }

        var specials = specialPositions.Distinct().ToArray();
        double entropy = 0, previous = 0, same = 0, next = 0, special = 0;
        for (var i = 0; i < valid; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var w = weights.At(i, j);
                entropy -= w > 0 ? w * Math.Log2(w) : 0;
            }

            previous += i > 0 ? weights.At(i, i - 1) : 0;
            same += weights.At(i, i);
            next += i < valid - 1 ? weights.At(i, i + 1) : 0;
            special += specials.Sum(p => weights.At(i, p));
        }

        var pairs = Math.Max(1, valid - 1);
        return new HeadTraits(layer, head, Math.Max(0, entropy / valid), previous / pairs, same / valid, next / pairs, special / valid);
    }
}
