using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Notebooks;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Notebooks;

/// <summary>Notebook 09's checks: the right answers pass, plausible wrong ones fail, an empty one is "not answered".</summary>
public class ExercisesAttentionLearnsTests
{
    private static readonly Lazy<(TrainingView Training, PaddingDemonstration Padding)> Run = new(() =>
    {
        var task = new ReverseTask(5, 5);
        var model = new TransformerModel(new TransformerSettings(task.VocabularySize, task.MaxLength, DModel: 8, Heads: 1, FeedForward: 16, Seed: 1));
        var padding = PaddingDemonstration.Run(model, task, seed: 4);
        var training = new TrainingView(model, task, new TrainingSettings(40, 16, 0.01, "adam", 1.0, Seed: 7));
        training.Train();
        return (training, padding);
    });

    [Fact]
    public void Exercise_1_accepts_softmaxs_backward_and_refuses_near_misses()
    {
        var training = Run.Value.Training;
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.AttentionLearns.SoftmaxBackward(null, training).Status);
        Assert.True(Exercises.AttentionLearns.SoftmaxBackward((a, dA) => a.PointwiseMultiply(dA - a.DotProduct(dA)), training).IsCorrect);
        Func<Vector<double>, Vector<double>, Vector<double>>[] wrong =
        [
            (a, dA) => dA,                                        // forgets softmax entirely
            (a, dA) => a.PointwiseMultiply(dA),                   // forgets that the weights add up to 1
            (a, dA) => a.PointwiseMultiply(dA - dA.Average()),    // plain mean instead of the weighted one
            (a, dA) => dA - a.DotProduct(dA),                     // forgets the factor a (a masked key would get gradient)
        ];
        Assert.All(wrong, answer => Assert.Equal(ExerciseStatus.Wrong, Exercises.AttentionLearns.SoftmaxBackward(answer, training).Status));
    }

    [Fact]
    public void Exercise_2_accepts_one_over_n_and_refuses_the_trained_share_and_a_coin_flip()
    {
        var training = Run.Value.Training;
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.AttentionLearns.ShareBeforeTraining(null, training).Status);
        Assert.True(Exercises.AttentionLearns.ShareBeforeTraining(1.0 / training.Probe.Count, training).IsCorrect, training.Share().Sentence);
        Assert.True(Exercises.AttentionLearns.ShareBeforeTraining(training.Share().First, training).IsCorrect);
        Assert.False(Exercises.AttentionLearns.ShareBeforeTraining(1.0, training).IsCorrect);
        Assert.False(Exercises.AttentionLearns.ShareBeforeTraining(0.5, training).IsCorrect);
        Assert.False(Exercises.AttentionLearns.ShareBeforeTraining(0.0, training).IsCorrect);
    }

    [Fact]
    public void Exercise_3_accepts_exactly_zero_and_refuses_the_unmasked_gradient()
    {
        var padding = Run.Value.Padding;
        Assert.True(padding.MaskedPaddingChangesNothing(), string.Join("; ", padding.Rows));
        Assert.True(padding.Rows[2].PaddingGradient > 1e-6, "without the mask the padding should receive gradient: the demonstration would show nothing");
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.AttentionLearns.PaddingGradient(null, padding).Status);
        Assert.True(Exercises.AttentionLearns.PaddingGradient(0, padding).IsCorrect);
        Assert.False(Exercises.AttentionLearns.PaddingGradient(padding.Rows[2].PaddingGradient, padding).IsCorrect);
        Assert.False(Exercises.AttentionLearns.PaddingGradient(1e-3, padding).IsCorrect);
    }

    [Fact]
    public void The_padding_demonstration_shows_the_mask_keeps_loss_and_gradients_while_no_mask_changes_them()
    {
        var padding = Run.Value.Padding;
        Assert.Equal(3, padding.Rows.Count);
        Assert.Equal(0, padding.Rows[1].LossChange, 12);
        Assert.True(padding.Rows[1].GradientChange <= 1e-12);
        Assert.True(padding.Rows[2].LossChange > 1e-9, "padding read as tokens should change the loss");
        Assert.Contains("exactly zero gradient", padding.Table().Html, StringComparison.Ordinal);
    }
}
