using NotebookAttention.Tests.Support;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>The article's masking remark for the transformer, as a property on both paths (bit for bit on the reference path).</summary>
public class TransformerPaddingPropertyTests
{
    /// <summary>
    /// The fast path's tolerance, the one of <see cref="FastTransformerPropertyTests"/>: the differences are rounding
    /// (about 1e-16 relative at d_model >= 4), amplified up to about 1e-10 by LayerNorm when d_model is 2.
    /// </summary>
    private const double FastTolerance = 1e-10;

    [Fact]
    public void Padding_a_sequence_changes_neither_its_loss_nor_any_gradient_bit_for_bit_on_the_reference_path_and_padding_gets_zero_input_gradient()
    {
        // Generated models (1-3 layers, 1-3 heads, causal or not) and a sequence of 1-7 tokens with dense or sparse
        // targets, alone and padded to 7 by a companion with no scored position, on the reference and the fast path.
        Property.Holds(FastTransformerPropertyTests.Cases, c =>
        {
            var length = c.Batch.Lengths[0];
            var inputs = c.Batch.Inputs[0].Take(length).ToArray();
            var targets = c.Batch.Targets[0].Take(length).ToArray();
            var companion = new int[c.Settings.MaxLength];
            var alone = new SequenceBatch([inputs], [targets], c.Settings.VocabularySize, padId: 0);
            var padded = new SequenceBatch([inputs, companion], [targets, companion.Select(_ => SequenceBatch.Ignored).ToArray()], c.Settings.VocabularySize, padId: 0);
            foreach (var path in new[] { TransformerPath.Reference, TransformerPath.Fast })
            {
                var model = new TransformerModel(c.Settings with { Path = path });
                var (outcomeAlone, gradientsAlone) = Run(model, alone);
                var (outcomePadded, gradientsPadded) = Run(model, padded);
                var what = $"{path} path, {c.Settings}, length {length}";

                if (path == TransformerPath.Reference)
                {
                    // Bit for bit: the padded positions only add exact zeros to every sum the sequence's numbers go through.
                    Assert.True(outcomeAlone.Loss.Equals(outcomePadded.Loss), $"{what}: loss {outcomeAlone.Loss:R} alone, {outcomePadded.Loss:R} padded");
                    for (var p = 0; p < gradientsAlone.Length; p++)
                    {
                        Assert.True(gradientsAlone[p].Equals(gradientsPadded[p]), $"{what}: {model.Parameters[p].Name} changed when the sequence was padded");
                    }
                }
                else
                {
                    // The fast path's SIMD products group a row's sums by the number of rows (blocks of rows, then the
                    // rest), so padding may move the last bits: equal up to rounding, held to FastTolerance relative to
                    // each tensor, with the floor of FastTransformerPropertyTests (1e-1 of the whole gradient's norm).
                    Assert.True(Math.Abs(outcomeAlone.Loss - outcomePadded.Loss) <= FastTolerance * Math.Max(1, outcomeAlone.Loss), $"{what}: loss {outcomeAlone.Loss:R} alone, {outcomePadded.Loss:R} padded");
                    var floor = WholeGradientFloor(gradientsAlone);
                    for (var p = 0; p < gradientsAlone.Length; p++)
                    {
                        var difference = (gradientsAlone[p] - gradientsPadded[p]).FrobeniusNorm();
                        Assert.True(difference <= FastTolerance * Math.Max(floor, gradientsAlone[p].FrobeniusNorm()), $"{what}: {model.Parameters[p].Name} moved by {difference:E2} when the sequence was padded");
                    }
                }

                Assert.Equal(outcomeAlone.Predictions[0], outcomePadded.Predictions[0].Take(length));
                var halved = outcomePadded.InputGradientNorms.Take(length).Select(norm => norm * 2).ToList();   // the mean over 2 sequences
                var inputFloor = WholeGradientFloor(gradientsAlone);
                for (var t = 0; t < length; t++)
                {
                    var (expected, actual) = (outcomeAlone.InputGradientNorms[t], halved[t]);
                    Assert.True(path == TransformerPath.Reference ? expected.Equals(actual) : Math.Abs(expected - actual) <= FastTolerance * Math.Max(inputFloor, expected), $"{what}: input gradient norm at {t}: {expected:R} alone, {actual:R} padded");
                }

                Assert.All(outcomePadded.InputGradientNorms.Skip(length), norm => Assert.Equal(0.0, norm));
            }
        });
    }

    /// <summary>1e-1 of the whole gradient's norm: below it, rounding amplified by LayerNorm at d_model = 2 is compared absolutely.</summary>
    private static double WholeGradientFloor(MathNet.Numerics.LinearAlgebra.Matrix<double>[] gradients) =>
        1e-1 * Math.Sqrt(gradients.Sum(g => Math.Pow(g.FrobeniusNorm(), 2)));

    private static (BatchOutcome Outcome, MathNet.Numerics.LinearAlgebra.Matrix<double>[] Gradients) Run(TransformerModel model, SequenceBatch batch)
    {
        foreach (var parameter in model.Parameters)
        {
            parameter.ZeroGradient();
        }

        var outcome = model.LossAndGradients(batch);
        return (outcome, [.. model.Parameters.Select(p => p.Gradient.Clone())]);
    }
}
