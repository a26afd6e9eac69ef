using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Analysis;

/// <summary>
/// Measured traits of one attention head: how spread out its weights are (entropy), and where its attention mass
/// goes. The mass is the sum of the weights of the real (non-padding) query rows, and it is split into disjoint
/// groups of keys, so the shares of a head always add up to 1: each (query i, key j) weight is counted once, in the
/// FIRST group that fits, in this order: [CLS], [SEP], the same token (j = i), the previous token (j = i - 1), the
/// next token (j = i + 1), punctuation, and everything else. The special tokens come first so that a head that
/// parks its weight on [CLS] or [SEP] shows all of it there: [CLS] looking at itself, and the query right after
/// [CLS] looking at it, count as [CLS], never as "same" or "previous token".
/// </summary>
/// <param name="Layer">Layer number (0 = first).</param>
/// <param name="Head">Head number within the layer.</param>
/// <param name="Entropy">Mean entropy of a real query's weights in bits: 0 when every query looks at one key, log2(n) when it spreads evenly.</param>
/// <param name="SameToken">Share of the head's attention mass from token i to itself (unless it is [CLS] or [SEP]).</param>
/// <param name="PreviousToken">Share from token i to token i - 1 (unless it is [CLS] or [SEP]).</param>
/// <param name="NextToken">Share from token i to token i + 1 (a real token, not [CLS] or [SEP]; never a padding one).</param>
/// <param name="Classifier">Share to a real [CLS] token, from any query, itself included.</param>
/// <param name="Separator">Share to a real [SEP] token, from any query, itself included.</param>
/// <param name="Punctuation">Share to a punctuation token (every character Unicode punctuation) not counted above.</param>
/// <param name="Other">Share of everything else (other tokens further away, and any weight on padding keys).</param>
public sealed record HeadTraits(int Layer, int Head, double Entropy, double SameToken, double PreviousToken, double NextToken, double Classifier, double Separator, double Punctuation, double Other)
{
    /// <summary>The [CLS] token as BERT-like tokenizers write it.</summary>
    public const string ClassifierToken = "[CLS]";

    /// <summary>The [SEP] token as BERT-like tokenizers write it.</summary>
    public const string SeparatorToken = "[SEP]";

    /// <summary>The names of the traits, in the order of <see cref="Values"/>: entropy, then the shares in their order of precedence.</summary>
    public static readonly IReadOnlyList<string> Names = ["entropy (bits)", "[CLS]", "[SEP]", "same token", "previous token", "next token", "punctuation", "other"];

    /// <summary>What the share columns mean, for a table's caption.</summary>
    public const string ShareDefinition =
        "shares of each head's attention mass over the real query pieces; each weight counts once, in the first column that fits ([CLS], [SEP], same, previous, next, punctuation, other), so a head's shares add up to 1";

    /// <summary>The traits in the order of <see cref="Names"/>.</summary>
    public IReadOnlyList<double> Values => [Entropy, .. Shares];

    /// <summary>The shares only (every name of <see cref="Names"/> but entropy); they sum to 1.</summary>
    public IReadOnlyList<double> Shares => [Classifier, Separator, SameToken, PreviousToken, NextToken, Punctuation, Other];

    /// <inheritdoc />
    public override string ToString() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"layer {Layer}, head {Head}: entropy {Entropy:0.000} bits; [CLS] {Classifier:0.000}, [SEP] {Separator:0.000}, same {SameToken:0.000}, previous {PreviousToken:0.000}, next {NextToken:0.000}, punctuation {Punctuation:0.000}, other {Other:0.000}");

    /// <summary>Whether a token is punctuation: not empty, and every character Unicode punctuation (".", ",", "'", "«", "—").</summary>
    /// <param name="token">The token's text.</param>
    /// <returns>True for punctuation.</returns>
    public static bool IsPunctuation(string token) => !string.IsNullOrEmpty(token) && token.All(char.IsPunctuation);

    /// <summary>Measures every head of one layer, with the layer's own tokens.</summary>
    /// <param name="result">The layer's multi-head attention.</param>
    /// <param name="layer">The layer's number, stored in the traits.</param>
    /// <param name="validLength">Real tokens when the sequence is padded (queries from here on are skipped), or null for all.</param>
    /// <returns>One entry per head.</returns>
    /// <exception cref="ArgumentException">The valid length is outside the sequence.</exception>
    public static IReadOnlyList<HeadTraits> Measure(MultiHeadAttentionResult result, int layer, int? validLength = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        return [.. result.Heads.Select((head, h) => Measure(head.Weights, layer, h, head.KeyTokens, validLength))];
    }

    /// <summary>Measures every head of every layer.</summary>
    /// <param name="layers">Each layer's multi-head attention, first layer first.</param>
    /// <param name="validLength">Real tokens when the sequence is padded, or null for all.</param>
    /// <returns>One entry per layer and head, layer by layer.</returns>
    public static IReadOnlyList<HeadTraits> Measure(IReadOnlyList<MultiHeadAttentionResult> layers, int? validLength = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return [.. layers.SelectMany((result, layer) => Measure(result, layer, validLength))];
    }

    /// <summary>Measures one head from its weights.</summary>
    /// <param name="weights">Attention weights [n x n] (row = query, column = key).</param>
    /// <param name="layer">Layer number, stored in the traits.</param>
    /// <param name="head">Head number, stored in the traits.</param>
    /// <param name="tokens">The n tokens, which say where [CLS], [SEP] and punctuation are.</param>
    /// <param name="validLength">Real tokens when the sequence is padded, or null for all.</param>
    /// <exception cref="ArgumentException">
    /// The weights are not square or have no mass in the real rows, a weight is negative, the tokens do not match,
    /// or the valid length is outside the sequence.
    /// </exception>
    public static HeadTraits Measure(Matrix<double> weights, int layer, int head, IReadOnlyList<string> tokens, int? validLength = null)
    {
        Check.Finite(weights, "the attention weights", nameof(weights));
        ArgumentNullException.ThrowIfNull(tokens);
        var n = weights.RowCount;
        if (weights.ColumnCount != n)
        {
            throw new ArgumentException($"the weights are {Check.Shape(weights)}: head traits compare query i with key i, so they need self-attention weights [n x n].", nameof(weights));
        }

        if (tokens.Count != n)
        {
            throw new ArgumentException($"there are {tokens.Count} tokens for weights over {n}: give one token per row.", nameof(tokens));
        }

        var valid = validLength ?? n;
        if (valid < 1 || valid > n)
        {
            throw new ArgumentException($"the valid length is {valid} but the sequence has {n} tokens: give 1 to {n}.", nameof(validLength));
        }

        // Groups in order of precedence: 0 [CLS], 1 [SEP], 2 same, 3 previous, 4 next, 5 punctuation, 6 other.
        var special = tokens.Select(t => t == ClassifierToken ? 0 : t == SeparatorToken ? 1 : -1).ToArray();
        var mass = new double[7];
        double entropy = 0;
        for (var i = 0; i < valid; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var w = weights.At(i, j);
                if (w < 0)
                {
                    throw new ArgumentException($"weight [{i}, {j}] is {w}: attention weights are 0 or more (softmax output).", nameof(weights));
                }

                entropy -= w > 0 ? w * Math.Log2(w) : 0;
                mass[j >= valid ? 6 : special[j] >= 0 ? special[j] : j == i ? 2 : j == i - 1 ? 3 : j == i + 1 ? 4 : IsPunctuation(tokens[j]) ? 5 : 6] += w;
            }
        }

        var total = mass.Sum();
        if (!(total > 0))
        {
            throw new ArgumentException($"the {valid} real query rows hold no attention mass: every weight there is 0, so there is nothing to share out; measure a head whose rows sum to 1.", nameof(weights));
        }

        var s = mass.Select(m => m / total).ToArray();
        return new HeadTraits(layer, head, Math.Max(0, entropy / valid), SameToken: s[2], PreviousToken: s[3], NextToken: s[4], Classifier: s[0], Separator: s[1], Punctuation: s[5], Other: s[6]);
    }

    /// <summary>
    /// Where the heads that favour a special token look, in one sentence: how many heads put more than half their
    /// mass on [CLS] and on [SEP], the mean [CLS] and [SEP] shares over all heads, and which of the two draws more
    /// (the one with the larger mean share), set against Clark et al. (2019), who found [SEP] in BERT-base.
    /// </summary>
    /// <param name="traits">The measured heads.</param>
    /// <returns>The sentence, computed from the traits.</returns>
    /// <exception cref="ArgumentException">There are no traits.</exception>
    public static string SpecialTokenSummary(IReadOnlyList<HeadTraits> traits)
    {
        ArgumentNullException.ThrowIfNull(traits);
        if (traits.Count == 0)
        {
            throw new ArgumentException("there are no head traits: measure some heads first.", nameof(traits));
        }

        var cls = traits.Count(t => t.Classifier > 0.5);
        var sep = traits.Count(t => t.Separator > 0.5);
        var (meanCls, meanSep) = (traits.Average(t => t.Classifier), traits.Average(t => t.Separator));
        var sink = meanCls > meanSep
            ? "so here the heads park their weight on [CLS], not on [SEP] as Clark et al. (2019) found in BERT-base: their [SEP] finding does not carry over to these heads"
            : meanSep > meanCls
                ? "so here the heads park more weight on [SEP] than on [CLS], as Clark et al. (2019) found in BERT-base"
                : "so neither special piece draws more weight than the other";
        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"Of {traits.Count} heads, {cls} put more than half of their attention mass on [CLS] and {sep} on [SEP]; over all heads the mean share is {meanCls:0.000} on [CLS] and {meanSep:0.000} on [SEP], {sink}.");
    }
}
