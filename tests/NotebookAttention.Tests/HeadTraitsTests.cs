using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Analysis;
using NotebookAttention.Attention;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>Head traits and layer probes: hand-computed cases, invariants on random heads, and clear errors.</summary>
public class HeadTraitsTests
{
    private static readonly Matrix<double> Hand = Matrix<double>.Build.DenseOfArray(new[,]
    {
        { 1.0, 0.0, 0.0 },
        { 0.5, 0.5, 0.0 },
        { 0.25, 0.25, 0.5 },
    });

    private static readonly string[] HandTokens = ["[CLS]", "a", "."];

    [Fact]
    public void Hand_computed_four_token_head_splits_its_mass_into_disjoint_groups()
    {
        // Keys [CLS] a . [SEP]; each weight goes to the first group that fits: [CLS], [SEP], same, previous, next,
        // punctuation, other. Row 0: [CLS] .5 (itself), next .25, punctuation .25. Row 1: [CLS] .5 (also the previous
        // token), same .5. Row 2: [CLS] .25, same .25, [SEP] .5 (also the next token). Row 3: [CLS] .25, other .25
        // ("a"), [SEP] .5 (itself). Mass 4.
        var weights = Matrix<double>.Build.DenseOfArray(new[,]
        {
            { 0.5, 0.25, 0.25, 0.0 },
            { 0.5, 0.5, 0.0, 0.0 },
            { 0.25, 0.0, 0.25, 0.5 },
            { 0.25, 0.25, 0.0, 0.5 },
        });
        var traits = HeadTraits.Measure(weights, layer: 4, head: 7, tokens: ["[CLS]", "a", ".", "[SEP]"]);
        Assert.Equal((4, 7), (traits.Layer, traits.Head));
        Assert.Equal(5.5 / 4, traits.Entropy, 12);              // rows: 1.5, 1, 1.5 and 1.5 bits
        Assert.Equal(0.75 / 4, traits.SameToken, 12);
        Assert.Equal(0.0, traits.PreviousToken, 12);
        Assert.Equal(0.25 / 4, traits.NextToken, 12);
        Assert.Equal(1.5 / 4, traits.Classifier, 12);
        Assert.Equal(1.0 / 4, traits.Separator, 12);
        Assert.Equal(0.25 / 4, traits.Punctuation, 12);
        Assert.Equal(0.25 / 4, traits.Other, 12);
        Assert.Equal(1.0, traits.Shares.Sum(), 12);
    }

    [Fact]
    public void Padded_queries_are_left_out_and_padded_keys_are_never_neighbours()
    {
        var traits = HeadTraits.Measure(Hand, 0, 0, HandTokens, validLength: 2);
        Assert.Equal(0.5, traits.Entropy, 12);
        Assert.Equal(0.75, traits.Classifier, 12);              // 1 ([CLS] on itself) and 0.5 over a mass of 2
        Assert.Equal(0.25, traits.SameToken, 12);
        Assert.Equal(0.0, traits.PreviousToken, 12);            // query 1's previous token is [CLS]: counted there
        var leaky = Matrix<double>.Build.DenseOfArray(new[,] { { 0.5, 0.5 }, { 0.0, 0.0 } });
        var padded = HeadTraits.Measure(leaky, 0, 0, ["a", "[PAD]"], validLength: 1);
        Assert.Equal((0.5, 0.0, 0.5), (padded.SameToken, padded.NextToken, padded.Other));
    }

    [Fact]
    public void A_pure_previous_token_head_and_a_uniform_head()
    {
        for (var n = 2; n <= 20; n++)
        {
            var words = Enumerable.Range(0, n).Select(i => $"w{i}").ToArray();
            var shift = Matrix<double>.Build.Dense(n, n, (i, j) => j == Math.Max(0, i - 1) ? 1 : 0);
            var previous = HeadTraits.Measure(shift, 0, 0, words);
            Assert.Equal((n - 1.0) / n, previous.PreviousToken, 12);     // token 0 can only look at itself
            Assert.Equal(1.0 / n, previous.SameToken, 12);
            Assert.Equal(0.0, previous.Entropy, 12);
            var uniform = HeadTraits.Measure(Matrix<double>.Build.Dense(n, n, 1.0 / n), 0, 0, [.. words[..^1], "[SEP]"]);
            Assert.Equal(Math.Log2(n), uniform.Entropy, 10);
            Assert.Equal((n - 1.0) / n / n, uniform.SameToken, 12);   // [SEP] on itself counts as [SEP]
            Assert.Equal(1.0 / n, uniform.Separator, 12);
            Assert.Equal(1.0, uniform.Shares.Sum(), 12);
        }
    }

    [Fact]
    public void A_single_token_has_no_neighbours_and_no_nan()
    {
        var traits = HeadTraits.Measure(Matrix<double>.Build.Dense(1, 1, 1.0), 0, 0, ["[CLS]"]);
        Assert.Equal([0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], traits.Values);   // [CLS] on itself: the [CLS] column
        Assert.Equal(1.0, traits.Classifier);
    }

    [Theory]
    [InlineData(".", true)]
    [InlineData("'", true)]
    [InlineData("«»", true)]
    [InlineData("—", true)]
    [InlineData("a.", false)]
    [InlineData("1.", false)]
    [InlineData("", false)]
    [InlineData("+", false)]
    public void Punctuation_is_a_token_made_only_of_punctuation(string token, bool expected) =>
        Assert.Equal(expected, HeadTraits.IsPunctuation(token));

    [Fact]
    public void The_shares_of_any_head_are_disjoint_and_sum_to_one()
    {
        // Any non-negative weights (softmax rows, or rows that do not sum to 1), any tokens, any valid length.
        string[] kinds = ["[CLS]", "[SEP]", ".", ",", "a", "##b", "[PAD]"];
        var gen = Gen.Int[1, 12].SelectMany(n => Generators.Matrix(n, n, 6).Select(Gen.Int[1, n], Gen.Int[0, kinds.Length - 1].Array[n], Gen.Bool,
            (scores, valid, kind, softmax) => (scores, valid, tokens: kind.Select(k => kinds[k]).ToArray(), softmax)));
        Property.Holds(gen, c =>
        {
            var weights = c.softmax ? Softmax.Rows(c.scores) : c.scores.PointwiseAbs().Add(1e-3);
            var traits = HeadTraits.Measure(weights, 0, 0, c.tokens, c.valid);
            Assert.Equal(1.0, traits.Shares.Sum(), 12);
            Assert.All(traits.Shares, share => Assert.InRange(share, 0, 1 + 1e-12));
            if (c.softmax)
            {
                Assert.InRange(traits.Entropy, 0, Math.Log2(c.scores.RowCount) + 1e-9);
            }

            var mass = Enumerable.Range(0, c.valid).Sum(i => weights.Row(i).Sum());
            // Sums in another order than the library's: compare within a tolerance, not by rounding to 12 places.
            bool Special(int j) => c.tokens[j] is "[CLS]" or "[SEP]";
            double On(string token) => Enumerable.Range(0, c.valid).Sum(i => Enumerable.Range(0, c.valid).Where(j => c.tokens[j] == token).Sum(j => weights[i, j])) / mass;
            Assert.InRange(traits.SameToken - (Enumerable.Range(0, c.valid).Where(i => !Special(i)).Sum(i => weights[i, i]) / mass), -1e-12, 1e-12);
            Assert.InRange(traits.Classifier - On("[CLS]"), -1e-12, 1e-12);
            Assert.InRange(traits.Separator - On("[SEP]"), -1e-12, 1e-12);
        });
    }

    [Fact]
    public void Bad_input_says_what_to_do()
    {
        var notSquare = Assert.Throws<ArgumentException>(() => HeadTraits.Measure(Matrix<double>.Build.Dense(2, 3, 1.0 / 3), 0, 0, ["a", "b"]));
        Assert.Contains("[n x n]", notSquare.Message, StringComparison.Ordinal);
        var tokens = Assert.Throws<ArgumentException>(() => HeadTraits.Measure(Hand, 0, 0, ["a"]));
        Assert.Contains("1 tokens for weights over 3", tokens.Message, StringComparison.Ordinal);
        var valid = Assert.Throws<ArgumentException>(() => HeadTraits.Measure(Hand, 0, 0, HandTokens, validLength: 0));
        Assert.Contains("give 1 to 3", valid.Message, StringComparison.Ordinal);
        var empty = Assert.Throws<ArgumentException>(() => HeadTraits.Measure(Matrix<double>.Build.Dense(2, 2), 0, 0, ["a", "b"]));
        Assert.Contains("no attention mass", empty.Message, StringComparison.Ordinal);
        var negative = Assert.Throws<ArgumentException>(() => HeadTraits.Measure(Matrix<double>.Build.Dense(1, 1, -1.0), 0, 0, ["a"]));
        Assert.Contains("0 or more", negative.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => HeadTraits.SpecialTokenSummary([]));
    }

    [Fact]
    public void The_special_token_summary_counts_heads_from_their_shares()
    {
        HeadTraits[] traits =
        [
            new(0, 0, 1, 0.1, 0.1, 0, 0.6, 0.1, 0.1, 0),
            new(0, 1, 1, 0.2, 0, 0, 0.1, 0.7, 0, 0),
            new(0, 2, 1, 0.5, 0.5, 0, 0, 0, 0, 0),
        ];
        Assert.Equal(
            "Of 3 heads, 1 put more than half of their attention mass on [CLS] and 1 on [SEP]; over all heads the mean share is 0.233 on [CLS] and 0.267 on [SEP], so here the heads park more weight on [SEP] than on [CLS], as Clark et al. (2019) found in BERT-base.",
            HeadTraits.SpecialTokenSummary(traits));
        HeadTraits[] clsSink = [new(0, 0, 1, 0.1, 0.1, 0, 0.6, 0.1, 0.1, 0), new(0, 1, 1, 0.5, 0.5, 0, 0, 0, 0, 0)];
        Assert.EndsWith(
            "the mean share is 0.300 on [CLS] and 0.050 on [SEP], so here the heads park their weight on [CLS], not on [SEP] as Clark et al. (2019) found in BERT-base: their [SEP] finding does not carry over to these heads.",
            HeadTraits.SpecialTokenSummary(clsSink), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_head_of_every_layer_is_measured_in_order()
    {
        var x = Matrix<double>.Build.Dense(5, 8, (i, j) => Math.Sin(i + (3 * j)));
        var layers = Enumerable.Range(0, 3).Select(seed => new MultiHeadAttention(8, 4, seed).Forward(x)).ToList();
        var traits = HeadTraits.Measure(layers);
        Assert.Equal(12, traits.Count);
        Assert.Equal([.. Enumerable.Range(0, 3).SelectMany(l => Enumerable.Range(0, 4).Select(h => (l, h)))], traits.Select(t => (t.Layer, t.Head)));
        Assert.Equal(HeadTraits.Measure(layers[2].Heads[1].Weights, 2, 1, layers[2].Tokens), traits[9]);
    }

    [Fact]
    public void A_probe_row_is_the_mean_of_the_heads_and_sums_to_one()
    {
        var gen = Gen.Int[1, 9].SelectMany(n => Gen.Int[0, 1000].Select(Gen.Int[0, n - 1], (seed, query) => (n, seed, query)));
        Property.Holds(gen, c =>
        {
            var x = Matrix<double>.Build.Dense(c.n, 8, (i, j) => Math.Cos((c.seed * 0.37) + i - (2 * j)));
            var layers = Enumerable.Range(0, 2).Select(l => new MultiHeadAttention(8, 2, c.seed + l).Forward(x)).ToList();
            var rows = LayerProbe.MeanOverHeads(layers, c.query);
            Assert.Equal((2, c.n), (rows.RowCount, rows.ColumnCount));
            for (var l = 0; l < 2; l++)
            {
                Assert.Equal(1.0, rows.Row(l).Sum(), 10);
                for (var key = 0; key < c.n; key++)
                {
                    var heads = layers[l].Heads.Select(h => h.Weights[c.query, key]).ToList();
                    Assert.InRange(rows[l, key], heads.Min() - 1e-15, heads.Max() + 1e-15);
                    var strongest = LayerProbe.StrongestHead(layers, c.query, key)[l];
                    Assert.Equal(heads.Max(), strongest.Weight);
                    Assert.Equal(heads.IndexOf(heads.Max()), strongest.Head);
                }
            }
        });
    }

    [Fact]
    public void A_probe_outside_the_sequence_is_refused()
    {
        var layers = new[] { new MultiHeadAttention(4, 2).Forward(Matrix<double>.Build.Dense(3, 4, 0.5)) };
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerProbe.MeanOverHeads(layers, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerProbe.MeanWeight(layers, 0, 5));
        var none = Assert.Throws<ArgumentException>(() => LayerProbe.MeanOverHeads([], 0));
        Assert.Contains("no layers", none.Message, StringComparison.Ordinal);
    }
}
