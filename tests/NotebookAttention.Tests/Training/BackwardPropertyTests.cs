using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Tests.Support;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>
/// Every backward step against central finite differences (<see cref="NumericGradients"/>), each on
/// <see cref="Property.Cases"/> generated cases. The scalar differentiated is L = sum(R ∘ Y) for a random R, so the
/// upstream gradient dY is R and every entry of the output matters.
/// </summary>
public class BackwardPropertyTests
{
    private static readonly string[] ProjectionNames = ["Q", "K", "V", "O"];

    private enum MaskKind
    {
        None,
        Random,
        Causal,
        Padding,
        PaddingAndCausal,
    }

    [Fact]
    public void Linear_projection_gives_dX_dW_db_of_finite_differences()
    {
        var cases =
            from n in Gen.Int[1, 5]
            from input in Gen.Int[1, 5]
            from output in Gen.Int[1, 5]
            from bias in Gen.Bool
            from seed in Gen.Int
            from x in Generators.Matrix(n, input)
            from r in Generators.Matrix(n, output)
            select (x, r, bias, seed);

        Property.Holds(cases, c =>
        {
            var projection = LinearProjection.Create(c.x.ColumnCount, c.r.ColumnCount, c.seed, c.bias);
            double Loss() => Dot(c.r, projection.Apply(c.x));
            var gradients = projection.Backward(c.x, c.r);
            NumericGradients.Close(gradients.DInput, NumericGradients.Of(Loss, c.x), "dX");
            NumericGradients.Close(gradients.DWeight, NumericGradients.Of(Loss, projection.Weight), "dW");
            Assert.Equal(c.bias, gradients.DBias is not null);
            if (c.bias)
            {
                NumericGradients.Close(gradients.DBias!, NumericGradients.Of(Loss, projection.Bias!), "db");
            }
        });
    }

    [Fact]
    public void Scores_give_dQ_and_dK_of_finite_differences_scaled_or_not()
    {
        var cases =
            from n in Gen.Int[1, 5]
            from m in Gen.Int[1, 5]
            from dK in Gen.Int[1, 6]
            from scaled in Gen.Bool
            from q in Generators.Matrix(n, dK)
            from k in Generators.Matrix(m, dK)
            from r in Generators.Matrix(n, m)
            select (q, k, r, scaled);

        Property.Holds(cases, c =>
        {
            double Loss() => Dot(c.r, Scores.Compute(c.q, c.k, c.scaled));
            var scale = c.scaled ? Scores.ScaleFactor(c.q.ColumnCount) : 1.0;
            var (dQ, dK) = Scores.Backward(c.q, c.k, c.r, scale);
            NumericGradients.Close(dQ, NumericGradients.Of(Loss, c.q), "dQ");
            NumericGradients.Close(dK, NumericGradients.Of(Loss, c.k), "dK");
        });
    }

    [Fact]
    public void Mask_then_softmax_rows_give_dS_of_finite_differences_and_zero_on_masked_and_fully_masked_rows()
    {
        var cases =
            from n in Gen.Int[1, 5]
            from m in Gen.Int[1, 6]
            from s in Generators.Matrix(n, m, bound: 4)
            from r in Generators.Matrix(n, m)
            from mask in Generators.Mask(n, m)
            from useMask in Gen.Int[0, 3]
            select (s, r, mask: useMask == 0 ? null : mask);

        Property.Holds(cases, c =>
        {
            double Loss() => Dot(c.r, Softmax.Rows(c.mask?.Apply(c.s) ?? c.s));
            var weights = Softmax.Rows(c.mask?.Apply(c.s) ?? c.s);
            var maskedGradient = Softmax.RowsBackward(weights, c.r);
            var scoreGradient = c.mask?.Backward(maskedGradient) ?? maskedGradient;
            NumericGradients.Close(scoreGradient, NumericGradients.Of(Loss, c.s), "dS");
            for (var query = 0; query < c.s.RowCount; query++)
            {
                for (var key = 0; key < c.s.ColumnCount; key++)
                {
                    if (c.mask is not null && !c.mask[query, key])
                    {
                        Assert.Equal(0.0, scoreGradient[query, key]);
                    }
                }
            }
        });
    }

    [Fact]
    public void Weighted_sum_gives_dA_and_dV_of_finite_differences()
    {
        var cases =
            from n in Gen.Int[1, 5]
            from m in Gen.Int[1, 5]
            from dV in Gen.Int[1, 5]
            from a in Generators.Matrix(n, m, bound: 1)
            from v in Generators.Matrix(m, dV)
            from r in Generators.Matrix(n, dV)
            select (a, v, r);

        Property.Holds(cases, c =>
        {
            double Loss() => Dot(c.r, WeightedSum.Of(c.a, c.v));
            var (dA, dV) = WeightedSum.Backward(c.a, c.v, c.r);
            NumericGradients.Close(dA, NumericGradients.Of(Loss, c.a), "dA");
            NumericGradients.Close(dV, NumericGradients.Of(Loss, c.v), "dV");
        });
    }

    [Fact]
    public void Scaled_dot_product_attention_gives_dQ_dK_dV_of_finite_differences_with_any_mask()
    {
        var cases =
            from n in Gen.Int[1, 5]
            from otherM in Gen.Int[1, 5]
            from dK in Gen.Int[1, 5]
            from dV in Gen.Int[1, 4]
            from kind in Gen.Enum<MaskKind>()
            from valid in Gen.Int[0, 5]
            let m = kind is MaskKind.None or MaskKind.Random ? otherM : n
            from q in Generators.Matrix(n, dK, bound: 2)
            from k in Generators.Matrix(m, dK, bound: 2)
            from v in Generators.Matrix(m, dV)
            from r in Generators.Matrix(n, dV)
            from random in Generators.Mask(n, m)
            from scaled in Gen.Bool
            select (q, k, v, r, mask: MakeMask(kind, random, n, Math.Min(valid, n)), scaled);

        Property.Holds(cases, c =>
        {
            double Loss() => Dot(c.r, ScaledDotProductAttention.Compute(c.q, c.k, c.v, c.mask, c.scaled).Output);
            var gradients = ScaledDotProductAttention.Backward(c.q, c.k, c.v, c.r, c.mask, c.scaled);
            NumericGradients.Close(gradients.DQueries, NumericGradients.Of(Loss, c.q), "dQ");
            NumericGradients.Close(gradients.DKeys, NumericGradients.Of(Loss, c.k), "dK");
            NumericGradients.Close(gradients.DValues, NumericGradients.Of(Loss, c.v), "dV");
        });
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Multi_head_attention_gives_dX_and_every_weight_and_bias_gradient_of_finite_differences(bool bias)
    {
        // Every case checks dX and all of W_Q, W_K, W_V, W_O (and b_Q, b_K, b_V, b_O with biases) in full, so each
        // tensor is checked on Property.Cases generated cases; the two rows of the theory cover layers with and without biases.
        var cases =
            from n in Gen.Int[1, 5]
            from heads in Gen.Int[1, 3]
            from headWidth in Gen.Int[1, 3]
            from kind in Gen.Enum<MaskKind>()
            from valid in Gen.Int[0, 5]
            from seed in Gen.Int
            from x in Generators.Matrix(n, heads * headWidth, bound: 2)
            from r in Generators.Matrix(n, heads * headWidth)
            from random in Generators.Mask(n, n)
            select (x, r, heads, seed, mask: MakeMask(kind, random, n, Math.Min(valid, n)));

        Property.Holds(cases, c =>
        {
            var layer = new MultiHeadAttention(c.x.ColumnCount, c.heads, c.seed, bias);
            double Loss() => Dot(c.r, layer.Forward(c.x, c.mask).Output);
            var gradients = layer.Backward(c.x, c.r, c.mask);
            NumericGradients.Close(gradients.DX, NumericGradients.Of(Loss, c.x), "dX");
            CloseToFiniteDifferences(layer, Loss, [gradients.DWQ, gradients.DWK, gradients.DWV, gradients.DWO], [gradients.DbQ, gradients.DbK, gradients.DbV, gradients.DbO], bias, string.Empty);
        });
    }

    [Fact]
    public void Padded_batch_backward_sums_the_unpadded_sentences_and_gives_padding_exactly_zero_dX()
    {
        var cases =
            from lengths in Gen.Int[1, 5].Array[1, 3]
            from heads in Gen.Int[1, 2]
            from headWidth in Gen.Int[1, 3]
            from bias in Gen.Bool
            from causal in Gen.Bool
            from seed in Gen.Int
            from pool in Generators.Matrix(15, heads * headWidth, bound: 2)
            from r in Generators.Matrix(15, heads * headWidth)
            select (lengths, heads, bias, causal, seed, pool, r);

        Property.Holds(cases, c =>
        {
            var d = c.pool.ColumnCount;
            var layer = new MultiHeadAttention(d, c.heads, c.seed, c.bias);
            var sentences = c.lengths.Select((length, s) => c.pool.SubMatrix(s * 5, length, 0, d)).ToList();
            var batch = PaddedBatch.FromMatrices(sentences);
            var padded = batch.PaddedLength;
            var upstream = c.lengths.Select((length, s) => c.r.SubMatrix(s * 5, padded, 0, d)).ToList();
            var gradients = layer.Backward(batch, upstream, c.causal);
            var weights = new[] { gradients.DWQ, gradients.DWK, gradients.DWV, gradients.DWO };
            var biases = new[] { gradients.DbQ, gradients.DbK, gradients.DbV, gradients.DbO };

            double Loss() => layer.Forward(batch, c.causal).Select((result, s) => Dot(upstream[s], result.Output)).Sum();
            for (var s = 0; s < batch.Count; s++)
            {
                NumericGradients.Close(gradients.DX[s], NumericGradients.Of(Loss, batch.Inputs[s]), $"dX of sentence {s}");
                for (var t = c.lengths[s]; t < padded; t++)
                {
                    Assert.All(gradients.DX[s].Row(t), g => Assert.Equal(0.0, g));
                }
            }

            CloseToFiniteDifferences(layer, Loss, weights, biases, c.bias, " summed over sentences");

            // Padding changes nothing: every weight and bias gradient of the batch is the sum of the sentences' unpadded
            // gradients, field by field, and each sentence's dX is its unpadded dX.
            var unpadded = sentences.Select((x, s) => layer.Backward(
                x, upstream[s].SubMatrix(0, x.RowCount, 0, d), c.causal ? Mask.Causal(x.RowCount) : null)).ToList();
            var names = ProjectionNames;
            var unpaddedWeights = unpadded.Select(g => new[] { g.DWQ, g.DWK, g.DWV, g.DWO }).ToList();
            var unpaddedBiases = unpadded.Select(g => new[] { g.DbQ, g.DbK, g.DbV, g.DbO }).ToList();
            for (var which = 0; which < 4; which++)
            {
                var summed = unpaddedWeights.Skip(1).Aggregate(unpaddedWeights[0][which].Clone(), (sum, g) => sum + g[which]);
                Assert.True(Near(summed, weights[which]), $"dW_{names[which]} of the batch is not the sum of the unpadded sentences'");
                Assert.Equal(c.bias, biases[which] is not null);
                if (c.bias)
                {
                    var summedBias = unpaddedBiases.Skip(1).Aggregate(unpaddedBiases[0][which]!.Clone(), (sum, g) => sum + g[which]!);
                    Assert.True(Near(summedBias.ToRowMatrix(), biases[which]!.ToRowMatrix()), $"db_{names[which]} of the batch is not the sum of the unpadded sentences'");
                }
            }

            for (var s = 0; s < batch.Count; s++)
            {
                Assert.True(Near(unpadded[s].DX, gradients.DX[s].SubMatrix(0, c.lengths[s], 0, d)), $"dX of sentence {s} differs from its unpadded dX");
            }
        });

        static bool Near(Matrix<double> expected, Matrix<double> actual) =>
            (expected - actual).FrobeniusNorm() <= 1e-12 * Math.Max(1, expected.FrobeniusNorm());
    }

    /// <summary>Checks dW_Q, dW_K, dW_V, dW_O and, with biases, db_Q .. db_O of <paramref name="layer"/> against finite differences of <paramref name="loss"/>.</summary>
    private static void CloseToFiniteDifferences(MultiHeadAttention layer, Func<double> loss, Matrix<double>[] weights, Vector<double>?[] biases, bool bias, string suffix)
    {
        var projections = new[] { layer.Projections.Query, layer.Projections.Key, layer.Projections.Value, layer.OutputProjection };
        var names = ProjectionNames;
        for (var which = 0; which < 4; which++)
        {
            NumericGradients.Close(weights[which], NumericGradients.Of(loss, projections[which].Weight), $"dW_{names[which]}{suffix}");
            Assert.Equal(bias, biases[which] is not null);
            if (bias)
            {
                var numeric = NumericGradients.Of(loss, projections[which].Bias!);
                if (projections[which] == layer.Projections.Key)
                {
                    // b_K adds q_i · b_K / sqrt(d_k) to every score of row i, and softmax ignores a constant added to a
                    // row (masked entries stay masked): the loss does not depend on b_K, so its gradient is zero.
                    NumericGradients.Zero(biases[which]!, numeric, $"db_{names[which]}{suffix}");
                }
                else
                {
                    NumericGradients.Close(biases[which]!, numeric, $"db_{names[which]}{suffix}");
                }
            }
        }
    }

    [Fact]
    public void Layer_norm_gives_dX_dGain_dBias_of_finite_differences()
    {
        var cases =
            from n in Gen.Int[1, 4]
            from d in Gen.Int[1, 6]
            from x in Generators.Matrix(n, d).Where(SpreadRows)
            from gain in Generators.Matrix(1, d, bound: 2)
            from bias in Generators.Matrix(1, d)
            from r in Generators.Matrix(n, d)
            select (x, gain, bias, r);

        Property.Holds(cases, c =>
        {
            var norm = new LayerNorm(c.gain, c.bias);
            double Loss() => Dot(c.r, norm.Forward(c.x).Output);
            var gradients = norm.Backward(norm.Forward(c.x), c.r);
            NumericGradients.Close(gradients.DInput, NumericGradients.Of(Loss, c.x), "dX");
            NumericGradients.Close(gradients.DGain, NumericGradients.Of(Loss, c.gain).Row(0), "dg");
            NumericGradients.Close(gradients.DBias, NumericGradients.Of(Loss, c.bias).Row(0), "db");
        });
    }

    [Fact]
    public void Feed_forward_with_gelu_gives_dX_and_both_projections_gradients_of_finite_differences()
    {
        var cases =
            from n in Gen.Int[1, 4]
            from d in Gen.Int[1, 4]
            from hidden in Gen.Int[1, 6]
            from seed in Gen.Int
            from tensor in Gen.Int[0, 3]
            from x in Generators.Matrix(n, d)
            from r in Generators.Matrix(n, d)
            select (x, r, hidden, seed, tensor);

        Property.Holds(cases, c =>
        {
            var d = c.x.ColumnCount;
            var layer = new FeedForward(LinearProjection.Create(d, c.hidden, c.seed, bias: true), LinearProjection.Create(c.hidden, d, c.seed + 1, bias: true));
            double Loss() => Dot(c.r, layer.Forward(c.x).Output);
            var gradients = layer.Backward(layer.Forward(c.x), c.r);
            NumericGradients.Close(gradients.DInput, NumericGradients.Of(Loss, c.x), "dX");
            switch (c.tensor)
            {
                case 0: NumericGradients.Close(gradients.First.DWeight, NumericGradients.Of(Loss, layer.First.Weight), "dW_1"); break;
                case 1: NumericGradients.Close(gradients.First.DBias!, NumericGradients.Of(Loss, layer.First.Bias!), "db_1"); break;
                case 2: NumericGradients.Close(gradients.Second.DWeight, NumericGradients.Of(Loss, layer.Second.Weight), "dW_2"); break;
                default: NumericGradients.Close(gradients.Second.DBias!, NumericGradients.Of(Loss, layer.Second.Bias!), "db_2"); break;
            }
        });
    }

    [Fact]
    public void Cross_entropy_gives_dZ_of_finite_differences_and_zero_rows_for_ignored_targets()
    {
        var cases =
            from n in Gen.Int[1, 6]
            from vocabulary in Gen.Int[1, 6]
            from logits in Generators.Matrix(n, vocabulary, bound: 4)
            from targets in Gen.Int[-1, vocabulary - 1].Array[n]
            from extra in Gen.Int[0, 3]
            where targets.Any(t => t != SequenceBatch.Ignored)
            select (logits, targets, extra);

        Property.Holds(cases, c =>
        {
            // The mean's denominator N is the batch's scored count: this sequence's plus other sequences' (extra).
            var scoredInBatch = c.targets.Count(t => t != SequenceBatch.Ignored) + c.extra;
            double Loss() => SoftmaxCrossEntropy.Forward(c.logits, c.targets).LossSum / scoredInBatch;
            var gradient = SoftmaxCrossEntropy.Backward(SoftmaxCrossEntropy.Forward(c.logits, c.targets), c.targets, scoredInBatch);
            NumericGradients.Close(gradient, NumericGradients.Of(Loss, c.logits), "dZ");
            for (var position = 0; position < c.targets.Length; position++)
            {
                if (c.targets[position] == SequenceBatch.Ignored)
                {
                    Assert.All(gradient.Row(position), g => Assert.Equal(0.0, g));
                }
            }
        });
    }

    [Fact]
    public void Embedding_lookup_scatter_adds_the_gradient_of_repeated_ids()
    {
        var cases =
            from rows in Gen.Int[1, 5]
            from d in Gen.Int[1, 4]
            from n in Gen.Int[1, 7]
            from ids in Gen.Int[0, rows - 1].Array[n]
            from table in Generators.Matrix(rows, d)
            from r in Generators.Matrix(n, d)
            select (ids, table, r);

        Property.Holds(cases, c =>
        {
            double Loss() => Dot(c.r, EmbeddingLookup.Rows(c.table, c.ids));
            var gradient = Matrix<double>.Build.Dense(c.table.RowCount, c.table.ColumnCount);
            EmbeddingLookup.RowsBackward(gradient, c.ids, c.r);
            NumericGradients.Close(gradient, NumericGradients.Of(Loss, c.table), "dE");
        });
    }

    /// <summary>sum(a ∘ b).</summary>
    internal static double Dot(Matrix<double> a, Matrix<double> b)
    {
        var sum = 0.0;
        for (var row = 0; row < a.RowCount; row++)
        {
            for (var column = 0; column < a.ColumnCount; column++)
            {
                sum += a[row, column] * b[row, column];
            }
        }

        return sum;
    }

    /// <summary>
    /// Rows whose entries spread at least 0.3 (or one column): LayerNorm's curvature grows as 1/σ³, so the
    /// finite-difference step 1e-3 must stay small against each row's spread for the difference to be a derivative.
    /// </summary>
    private static bool SpreadRows(Matrix<double> x) =>
        x.ColumnCount == 1 || Enumerable.Range(0, x.RowCount).All(row => x.Row(row).Maximum() - x.Row(row).Minimum() >= 0.3);

    private static Mask? MakeMask(MaskKind kind, Mask random, int n, int valid) => kind switch
    {
        MaskKind.None => null,
        MaskKind.Random => random,
        MaskKind.Causal => Mask.Causal(n),
        MaskKind.Padding => Mask.Padding(valid, n),
        _ => Mask.Padding(valid, n) & Mask.Causal(n),
    };
}
