using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>Invariants of attention, each checked on <see cref="Property.Cases"/> generated cases.</summary>
public class PropertyTests
{
    [Fact]
    public void Weight_rows_sum_to_one_lie_in_0_1_and_masked_keys_get_exactly_zero()
    {
        var cases =
            from n in Gen.Int[1, 12]
            from m in Gen.Int[1, 12]
            from dK in Gen.Int[1, 8]
            from dV in Gen.Int[1, 4]
            from q in Generators.Matrix(n, dK)
            from k in Generators.Matrix(m, dK)
            from v in Generators.Matrix(m, dV)
            from mask in Generators.Mask(n, m)
            from useMask in Gen.Bool
            from scaled in Gen.Bool
            select (q, k, v, mask: useMask ? mask : null, scaled);

        Property.Holds(cases, c =>
        {
            var result = ScaledDotProductAttention.Compute(c.q, c.k, c.v, c.mask, c.scaled);
            for (var query = 0; query < result.Weights.RowCount; query++)
            {
                var row = result.Weights.Row(query);
                Assert.All(row, w => Assert.InRange(w, 0.0, 1.0));
                var attendsToNothing = c.mask?.IsFullyMasked(query) ?? false;
                Assert.Equal(attendsToNothing ? 0.0 : 1.0, row.Sum(), 6);
                for (var key = 0; key < row.Count; key++)
                {
                    if (c.mask is not null && !c.mask[query, key])
                    {
                        Assert.Equal(0.0, row[key]);
                    }
                }
            }
        });
    }

    [Fact]
    public void Self_attention_without_positions_is_permutation_equivariant()
    {
        var cases =
            from n in Gen.Int[1, 10]
            from dModel in Gen.Int[1, 8]
            from heads in Gen.Int[1, 4]
            from x in Generators.Matrix(n, dModel * heads)
            from permutation in Generators.Permutation(n)
            from seed in Gen.Int
            select (x, permutation, heads, seed);

        Property.Holds(cases, c =>
        {
            var layer = new MultiHeadAttention(c.x.ColumnCount, c.heads, c.seed, bias: true);
            var permutedThenAttended = layer.Forward(Generators.PermuteRows(c.x, c.permutation)).Output;
            var attendedThenPermuted = Generators.PermuteRows(layer.Forward(c.x).Output, c.permutation);
            Assert.True(Differences.Largest(permutedThenAttended, attendedThenPermuted) < 1e-10);
        });
    }

    [Fact]
    public void Changing_padded_tokens_leaves_real_token_outputs_bit_identical()
    {
        var cases =
            from lengths in Gen.Int[1, 8].Array[1, 4]
            from dModel in Gen.Int[1, 4].Select(h => h * 2)
            from pool in Generators.Matrix(lengths.Length * 8, dModel)
            from noise in Generators.Matrix(lengths.Max(), dModel, bound: 1e3)
            from causal in Gen.Bool
            from seed in Gen.Int
            let sequences = lengths.Select((length, s) => pool.SubMatrix(s * 8, length, 0, dModel)).ToArray()
            select (sequences, noise, causal, seed);

        Property.Holds(cases, c =>
        {
            var layer = new MultiHeadAttention(c.noise.ColumnCount, 2, c.seed, bias: true);
            var batch = PaddedBatch.FromMatrices(c.sequences);
            var before = layer.Forward(batch, c.causal);
            for (var s = 0; s < batch.Count; s++)
            {
                var valid = batch.ValidLengths[s];
                for (var row = valid; row < batch.PaddedLength; row++)
                {
                    batch.Inputs[s].SetRow(row, c.noise.Row(row));
                }
            }

            var after = layer.Forward(batch, c.causal);
            for (var s = 0; s < batch.Count; s++)
            {
                var valid = batch.ValidLengths[s];
                Assert.Equal(before[s].Output.SubMatrix(0, valid, 0, c.noise.ColumnCount), after[s].Output.SubMatrix(0, valid, 0, c.noise.ColumnCount));
                foreach (var weights in after[s].Weights)
                {
                    Assert.All(weights.SubMatrix(0, batch.PaddedLength, valid, batch.PaddedLength - valid).Enumerate(), w => Assert.Equal(0.0, w));
                }
            }
        });
    }

    [Fact]
    public void With_a_causal_mask_output_i_ignores_tokens_after_i()
    {
        var cases =
            from n in Gen.Int[1, 10]
            from dModel in Gen.Int[1, 4].Select(h => h * 2)
            from x in Generators.Matrix(n, dModel)
            from changed in Generators.Matrix(n, dModel, bound: 100)
            from i in Gen.Int[0, n - 1]
            from seed in Gen.Int
            select (x, changed, i, seed);

        Property.Holds(cases, c =>
        {
            var n = c.x.RowCount;
            var layer = new MultiHeadAttention(c.x.ColumnCount, 2, c.seed, bias: true);
            var before = layer.Forward(c.x, Mask.Causal(n)).Output;
            var future = c.x.Clone();
            for (var row = c.i + 1; row < n; row++)
            {
                future.SetRow(row, c.changed.Row(row));
            }

            var after = layer.Forward(future, Mask.Causal(n)).Output;
            Assert.Equal(before.SubMatrix(0, c.i + 1, 0, c.x.ColumnCount), after.SubMatrix(0, c.i + 1, 0, c.x.ColumnCount));
        });
    }

    [Fact]
    public void One_head_with_identity_output_projection_equals_single_head_attention()
    {
        var cases =
            from n in Gen.Int[1, 10]
            from d in Gen.Int[1, 8]
            from x in Generators.Matrix(n, d)
            from mask in Generators.Mask(n, n)
            from useMask in Gen.Bool
            from bias in Gen.Bool
            from seed in Gen.Int
            select (x, mask: useMask ? mask : null, bias, seed);

        Property.Holds(cases, c =>
        {
            var d = c.x.ColumnCount;
            var projections = QkvProjections.Create(d, d, d, c.seed, c.bias);
            var single = new SelfAttention(projections).Forward(c.x, c.mask);
            var multi = new MultiHeadAttention(projections, LinearProjection.Identity(d), heads: 1).Forward(c.x, c.mask);
            Assert.Equal(single.Weights, multi.Weights[0]);
            Assert.Equal(single.Output, multi.Output);
        });
    }

    [Fact]
    public void Logits_up_to_plus_minus_1e4_give_no_nan_or_infinity()
    {
        var cases =
            from n in Gen.Int[1, 12]
            from m in Gen.Int[1, 12]
            from scores in Generators.Matrix(n, m, bound: 1e4)
            from mask in Generators.Mask(n, m)
            from q in Generators.Matrix(n, 1, bound: 100)
            from k in Generators.Matrix(m, 1, bound: 100)
            from v in Generators.Matrix(m, 3)
            select (scores, mask, q, k, v);

        Property.Holds(cases, c =>
        {
            var weights = Softmax.Rows(c.mask.Apply(c.scores));
            Assert.All(weights.Enumerate(), w => Assert.True(double.IsFinite(w)));

            // d_k = 1 and entries up to 100 give scores up to 1e4 inside attention itself.
            var result = ScaledDotProductAttention.Compute(c.q, c.k, c.v, c.mask);
            Assert.All(result.Weights.Enumerate(), w => Assert.True(double.IsFinite(w)));
            Assert.All(result.Output.Enumerate(), o => Assert.True(double.IsFinite(o)));
            for (var query = 0; query < c.scores.RowCount; query++)
            {
                Assert.Equal(c.mask.IsFullyMasked(query) ? 0.0 : 1.0, result.Weights.Row(query).Sum(), 6);
            }
        });
    }
}
