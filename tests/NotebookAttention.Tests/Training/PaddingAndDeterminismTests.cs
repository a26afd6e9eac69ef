using NotebookAttention.Tests.Support;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>The article's masking remark made concrete, and results that do not depend on the thread count.</summary>
public class PaddingAndDeterminismTests
{
    [Fact]
    public void Padding_a_sequence_changes_neither_its_loss_nor_any_gradient_and_padding_gets_zero_input_gradient()
    {
        Property.Holds(ModelCases.Small(maxSequences: 1), c =>
        {
            // The same sequence alone, and padded by a longer companion whose targets are all unscored (so the batch
            // loss is still the mean over the first sequence's positions only).
            var model = c.Build();
            var alone = c.Batch;
            var longer = Enumerable.Repeat(0, c.Inputs[0].Length + 1 + (c.Seed % 5)).ToArray();
            var padded = new SequenceBatch([c.Inputs[0], longer], [c.Targets[0], longer.Select(_ => SequenceBatch.Ignored).ToArray()], c.Settings.VocabularySize, c.PadId);
            var (lossAlone, gradientsAlone, outcomeAlone) = Gradients(model, alone);
            var (lossPadded, gradientsPadded, outcomePadded) = Gradients(model, padded);
            // Bit for bit: the companion only adds exact zeros to every sum the sequence's numbers go through.
            Assert.Equal(lossAlone, lossPadded);
            for (var p = 0; p < gradientsAlone.Length; p++)
            {
                Assert.True(gradientsAlone[p].Equals(gradientsPadded[p]), $"{c}: {model.Parameters[p].Name} changed when the sequence was padded");
            }

            Assert.Equal(outcomeAlone.InputGradientNorms, outcomePadded.InputGradientNorms.Take(c.Inputs[0].Length).Select(norm => norm * 2));
            Assert.Equal(outcomeAlone.Predictions[0], outcomePadded.Predictions[0].Take(c.Inputs[0].Length));
        });
    }

    [Fact]
    public void Padded_positions_receive_exactly_zero_input_gradient_and_the_reported_norms_are_the_batch_mean()
    {
        Property.Holds(ModelCases.Small(), c =>
        {
            var model = c.Build();
            var batch = c.Batch;
            var perSequence = model.InputGradients(batch, out var outcome);
            for (var s = 0; s < batch.Count; s++)
            {
                Assert.Equal(batch.PaddedLength, perSequence[s].RowCount);
                for (var t = batch.Lengths[s]; t < batch.PaddedLength; t++)
                {
                    Assert.All(perSequence[s].Row(t), g => Assert.Equal(0.0, g));
                }
            }

            for (var t = 0; t < batch.PaddedLength; t++)
            {
                var mean = perSequence.Average(g => g.Row(t).L2Norm());
                Assert.Equal(mean, outcome.InputGradientNorms[t], 12);
            }
        });
    }

    [Theory]
    [InlineData(RecurrentKind.Elman)]
    [InlineData(RecurrentKind.Lstm)]
    public void One_and_two_threads_give_the_same_loss_and_gradients_bit_for_bit(RecurrentKind kind)
    {
        // 40 sequences: three chunks of 16, 16 and 8, so two threads really split the work.
        var task = new ReverseTask(1, 12);
        var batch = task.Sample(40, new Random(5));
        var model = ModelCase.Build(kind, new RecurrentSettings(task.VocabularySize, 8, 5, 11));
        var (lossOne, gradientsOne, outcomeOne) = Gradients(model, batch, threads: 1);
        var (lossTwo, gradientsTwo, outcomeTwo) = Gradients(model, batch, threads: 2);
        Assert.Equal(lossOne, lossTwo);
        Assert.Equal(outcomeOne.InputGradientNorms, outcomeTwo.InputGradientNorms);
        for (var p = 0; p < gradientsOne.Length; p++)
        {
            Assert.Equal(gradientsOne[p].ToColumnMajorArray(), gradientsTwo[p].ToColumnMajorArray());
        }
    }

    [Theory]
    [InlineData(RecurrentKind.Elman)]
    [InlineData(RecurrentKind.Lstm)]
    public void The_same_seed_gives_the_same_loss_curve_bit_for_bit_on_one_and_two_threads(RecurrentKind kind)
    {
        var task = new RememberFirstTask(6);
        TrainingRun Train(int threads) =>
            Trainer.Run(ModelCase.Build(kind, new RecurrentSettings(task.VocabularySize, 8, 4, 3)), task, new TrainingSettings(25, 40, 1e-2, Seed: 9, Threads: threads, EvaluateEvery: 10));
        var one = Train(1);
        var two = Train(2);
        var again = Train(1);
        Assert.Equal(one.Steps.Select(s => s.Loss), two.Steps.Select(s => s.Loss));
        Assert.Equal(one.Steps.Select(s => s.GradientNorm), two.Steps.Select(s => s.GradientNorm));
        Assert.Equal(one.Steps.Select(s => s.EvaluationLoss), two.Steps.Select(s => s.EvaluationLoss));
        Assert.Equal(one.Steps.Select(s => s.Loss), again.Steps.Select(s => s.Loss));
        Assert.True(ParameterSnapshot.Of(one.Model).Values.Zip(two.Model.Parameters).All(pair => pair.First.Value.Equals(pair.Second.Value)));
        Assert.NotEqual(one.Steps[0].Loss, one.Steps[^1].Loss);
    }

    [Theory]
    [InlineData(TransformerPath.Fast)]
    [InlineData(TransformerPath.Reference)]
    public void The_transformer_gives_the_same_loss_curve_bit_for_bit_on_one_and_two_threads(TransformerPath path)
    {
        // Padded batches of 10 reverse sequences: three chunks of 4, 4 and 2 sequences.
        var task = new ReverseTask(2, 6);
        TrainingRun Train(int threads) => Trainer.Run(
            new TransformerModel(new TransformerSettings(task.VocabularySize, task.MaxLength, 8, 2, 16, 4, Layers: 2, Path: path)),
            task,
            new TrainingSettings(8, 10, 1e-2, Seed: 3, Threads: threads, EvaluateEvery: 4, EvaluationBatchSize: 12));
        var one = Train(1);
        var two = Train(2);
        Assert.Equal(TrainingOutcome.Completed, one.Outcome);
        Assert.Equal(one.Steps.Select(s => s.Loss), two.Steps.Select(s => s.Loss));
        Assert.Equal(one.Steps.Select(s => s.GradientNorm), two.Steps.Select(s => s.GradientNorm));
        Assert.Equal(one.Steps.Select(s => s.FirstPositionGradient), two.Steps.Select(s => s.FirstPositionGradient));
        Assert.Equal(one.Steps.Select(s => s.EvaluationLoss), two.Steps.Select(s => s.EvaluationLoss));
        Assert.True(ParameterSnapshot.Of(one.Model).Values.Zip(two.Model.Parameters).All(pair => pair.First.Value.Equals(pair.Second.Value)));
        Assert.NotEqual(one.Steps[0].Loss, one.Steps[^1].Loss);
    }

    private static (double Loss, MathNet.Numerics.LinearAlgebra.Matrix<double>[] Gradients, BatchOutcome Outcome) Gradients(RecurrentModel model, SequenceBatch batch, int threads = 1)
    {
        foreach (var p in model.Parameters)
        {
            p.ZeroGradient();
        }

        var outcome = model.LossAndGradients(batch, threads);
        return (outcome.Loss, [.. model.Parameters.Select(p => p.Gradient.Clone())], outcome);
    }
}
