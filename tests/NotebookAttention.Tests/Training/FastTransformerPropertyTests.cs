using CsCheck;
using NotebookAttention.Tests.Support;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>The transformer's fast path against its reference path on generated models and padded batches.</summary>
public class FastTransformerPropertyTests
{
    /// <summary>
    /// Relative tolerance. At realistic widths the paths agree to 1e-12 (TransformerModelTests); these cases include
    /// d_model = 1 and 2, where LayerNorm divides by the spread of one or two numbers (up to 1/sqrt(ε) ≈ 316) and
    /// amplifies the two paths' different rounding orders to a few 1e-12 of the whole gradient. A wrong step is
    /// off by far more than 1e-10.
    /// </summary>
    private const double Tolerance = 1e-10;

    /// <summary>
    /// Models of 1-3 layers, 1-3 heads of width 1-4 (d_model at least 2: LayerNorm of a single number is the constant
    /// bias, so with d_model = 1 no gradient but the readout's is more than rounding residue), d_ff 1-6, vocabulary 2-7, causal or not; 1-6 sequences of 1-7
    /// tokens (ragged, so padded); targets dense (one in four unscored) or sparse (only the last position scored, as in
    /// the long-range task, which exercises the fast path's skipping of zero-gradient rows).
    /// </summary>
    internal static readonly Gen<(TransformerSettings Settings, SequenceBatch Batch)> Cases =
        from layers in Gen.Int[1, 3]
        from heads in Gen.Int[1, 3]
        from width in Gen.Int[1, 4]
        where heads * width >= 2
        from feedForward in Gen.Int[1, 6]
        from vocabulary in Gen.Int[2, 7]
        from causal in Gen.Bool
        from seed in Gen.Int[0, 1_000_000]
        from lengths in Gen.Int[1, 7].Array[1, 6]
        from sparse in Gen.Bool
        from draws in Gen.Int[0, 1_000_000].Array[2 * 6 * 7]
        select (new TransformerSettings(vocabulary, 7, heads * width, heads, feedForward, seed, causal, layers), Batch(lengths, draws, vocabulary, sparse));

    [Fact]
    public void Fast_and_reference_paths_give_the_same_loss_gradients_predictions_and_input_gradients()
    {
        Property.Holds(Cases, c =>
        {
            var reference = new TransformerModel(c.Settings with { Path = TransformerPath.Reference });
            var fast = new TransformerModel(c.Settings with { Path = TransformerPath.Fast });
            var expected = reference.LossAndGradients(c.Batch);
            var actual = fast.LossAndGradients(c.Batch, threads: 2);
            Assert.True(Math.Abs(expected.Loss - actual.Loss) <= Tolerance * Math.Max(1, expected.Loss), $"loss {expected.Loss} vs {actual.Loss}");
            Assert.Equal(expected.Correct, actual.Correct);
            Assert.Equal(expected.Predictions, actual.Predictions);
            // Rounding errors are relative to the terms a gradient is summed from, and those can be far larger than the
            // sum: the key bias b_K's gradient is zero in exact arithmetic (softmax ignores a shift shared by a row's
            // scores), and LayerNorm's backward pass subtracts two means from dx̂. So each tensor is compared relative
            // to its own norm with a floor of 1e-1 times the whole gradient's norm: at d_model = 2 LayerNorm amplifies rounding to
            // about 1.1e-12 of the whole gradient (seen: embedding.token, CsCheck seed 9Jt_TFzI9eH2), so a 1e-2 floor failed now and then.
            var floor = 1e-1 * Math.Sqrt(reference.Parameters.Sum(p => Math.Pow(p.Gradient.FrobeniusNorm(), 2)));
            for (var p = 0; p < reference.Parameters.Count; p++)
            {
                var a = reference.Parameters[p].Gradient;
                var b = fast.Parameters[p].Gradient;
                var difference = (a - b).FrobeniusNorm();
                Assert.True(difference <= Tolerance * Math.Max(floor, a.FrobeniusNorm()), $"{reference.Parameters[p].Name}: |reference - fast| = {difference:E2}, |reference| = {a.FrobeniusNorm():E2}, floor {floor:E2}");
            }

            // The input gradients are sums of the same kind (through LayerNorm, near zero when d_model is 1 or 2), held to the same floor.
            for (var t = 0; t < expected.InputGradientNorms.Count; t++)
            {
                var (e, a) = (expected.InputGradientNorms[t], actual.InputGradientNorms[t]);
                Assert.True(Math.Abs(e - a) <= Tolerance * Math.Max(floor, e), $"input gradient norm at {t}: {e:E6} vs {a:E6}");
                Assert.Equal(e == 0, a == 0);
            }
        });
    }

    private static SequenceBatch Batch(int[] lengths, int[] draws, int vocabulary, bool sparse)
    {
        var next = 0;
        var inputs = lengths.Select(n => Enumerable.Range(0, n).Select(_ => draws[next++] % vocabulary).ToArray()).ToArray();
        var targets = inputs.Select(s => s.Select((_, t) =>
            sparse ? (t == s.Length - 1 ? draws[next++] % vocabulary : SequenceBatch.Ignored)
                   : draws[next] % 4 == 0 ? SequenceBatch.Ignored : draws[next++] % vocabulary).ToArray()).ToArray();
        return new SequenceBatch(inputs, targets, vocabulary, padId: 0);
    }
}
