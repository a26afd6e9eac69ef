using CsCheck;
using MathNet.Numerics.LinearAlgebra;
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

    [Fact]
    public void Hand_computed_three_token_head()
    {
        var traits = HeadTraits.Measure(Hand, layer: 4, head: 7, specialPositions: [0]);
        Assert.Equal((4, 7), (traits.Layer, traits.Head));
        Assert.Equal(2.5 / 3, traits.Entropy, 12);            // rows: 0, 1 and 1.5 bits
        Assert.Equal(0.75 / 2, traits.PreviousToken, 12);      // 0.5 (row 1) and 0.25 (row 2)
        Assert.Equal(2.0 / 3, traits.SameToken, 12);           // 1, 0.5, 0.5
        Assert.Equal(0.0, traits.NextToken, 12);
        Assert.Equal(1.75 / 3, traits.SpecialTokens, 12);      // 1 + 0.5 + 0.25 on position 0
    }

    [Fact]
    public void Padded_queries_are_left_out()
    {
        var traits = HeadTraits.Measure(Hand, 0, 0, [0, 0], validLength: 2);
        Assert.Equal(0.5, traits.Entropy, 12);
        Assert.Equal(0.5, traits.PreviousToken, 12);
        Assert.Equal(0.75, traits.SameToken, 12);
        Assert.Equal(0.0, traits.NextToken, 12);
        Assert.Equal(0.75, traits.SpecialTokens, 12);          // a repeated position counts once
    }

    [Fact]
    public void A_pure_previous_token_head_and_a_uniform_head()
    {
        for (var n = 2; n <= 20; n++)
        {
            var shift = Matrix<double>.Build.Dense(n, n, (i, j) => j == Math.Max(0, i - 1) ? 1 : 0);
            var previous = HeadTraits.Measure(shift, 0, 0, []);
            Assert.Equal(1.0, previous.PreviousToken, 12);
            Assert.Equal(0.0, previous.Entropy, 12);
            Assert.Equal(0.0, previous.NextToken, 12);
            var uniform = HeadTraits.Measure(Matrix<double>.Build.Dense(n, n, 1.0 / n), 0, 0, [n - 1]);
            Assert.Equal(Math.Log2(n), uniform.Entropy, 10);
            Assert.Equal(1.0 / n, uniform.SpecialTokens, 12);
        }
    }

    [Fact]
    public void A_single_token_has_no_neighbours_and_no_nan()
    {
        var traits = HeadTraits.Measure(Matrix<double>.Build.Dense(1, 1, 1.0), 0, 0, [0]);
        Assert.Equal([0.0, 0.0, 1.0, 0.0, 1.0], traits.Values);
    }

    [Fact]
    public void Traits_of_random_heads_stay_in_range()
    {
        var gen = Gen.Int[1, 12].SelectMany(n => Generators.Matrix(n, n, 6).Select(Gen.Int[1, n], Gen.Int[0, n - 1], (scores, valid, special) => (scores, valid, special)));
        Property.Holds(gen, c =>
        {
            var weights = Softmax.Rows(c.scores);
            var traits = HeadTraits.Measure(weights, 0, 0, [c.special], c.valid);
            Assert.InRange(traits.Entropy, 0, Math.Log2(c.scores.RowCount) + 1e-9);
            foreach (var share in traits.Values.Skip(1))
            {
                Assert.InRange(share, 0, 1 + 1e-12);
            }
        });
    }

    [Fact]
    public void Bad_input_says_what_to_do()
    {
        var notSquare = Assert.Throws<ArgumentException>(() => HeadTraits.Measure(Matrix<double>.Build.Dense(2, 3, 1.0 / 3), 0, 0, []));
        Assert.Contains("[n x n]", notSquare.Message, StringComparison.Ordinal);
        var outside = Assert.Throws<ArgumentException>(() => HeadTraits.Measure(Hand, 0, 0, [3]));
        Assert.Contains("positions 0 to 2", outside.Message, StringComparison.Ordinal);
        var valid = Assert.Throws<ArgumentException>(() => HeadTraits.Measure(Hand, 0, 0, [], validLength: 0));
        Assert.Contains("give 1 to 3", valid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_head_of_every_layer_is_measured_in_order()
    {
        var x = Matrix<double>.Build.Dense(5, 8, (i, j) => Math.Sin(i + (3 * j)));
        var layers = Enumerable.Range(0, 3).Select(seed => new MultiHeadAttention(8, 4, seed).Forward(x)).ToList();
        var traits = HeadTraits.Measure(layers, [0]);
        Assert.Equal(12, traits.Count);
        Assert.Equal([.. Enumerable.Range(0, 3).SelectMany(l => Enumerable.Range(0, 4).Select(h => (l, h)))], traits.Select(t => (t.Layer, t.Head)));
        Assert.Equal(HeadTraits.Measure(layers[2].Heads[1].Weights, 2, 1, [0]), traits[9]);
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
