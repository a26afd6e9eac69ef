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

    public static TheoryData<int, int, int> Kinds => new()
    {
        { 5, 5, 1 },    // the shared run's kind: reverse, 5 digits, one head
        { 8, 8, 1 },    // the notebook's task
        { 4, 8, 2 },    // ragged lengths, two heads
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Exercise_2_accepts_one_over_n_on_every_length_and_task_and_refuses_plausible_wrong_formulas(int minLength, int maxLength, int heads)
    {
        var task = new ReverseTask(minLength, maxLength);
        var model = new TransformerModel(new TransformerSettings(task.VocabularySize, task.MaxLength, DModel: 32, Heads: heads, FeedForward: 64, Seed: 1));
        var training = new TrainingView(model, task, new TrainingSettings(2, 8, 0.003, "adam", 1.0, Seed: 7));
        training.Train();
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.AttentionLearns.ShareBeforeTraining(null, training).Status);

        // The check measures untrained models of this kind on this task and on n = 4, 8, 12 and remember-the-first:
        // 1/n must pass on all of them.
        var right = Exercises.AttentionLearns.ShareBeforeTraining(n => 1.0 / n, training);
        Assert.True(right.IsCorrect, right.Message);
        Assert.Contains("reverse, 12 digits: 0.0", right.Message, StringComparison.Ordinal);
        Console.WriteLine($"[{minLength}-{maxLength}, {heads} heads] {right.Message}");

        var probe = training.Share().First;
        Func<int, double>[] wrong =
        [
            n => probe,                 // copies the one probe's step-0 share
            n => 1.0 / 8,               // the notebook's n, not a formula
            n => 1.0 / (n - 1),         // leaves the query's own key out
            n => 2.0 / n,
            n => 0.5,
            n => 0.0,
            n => 1.0,
        ];
        Assert.All(wrong, answer => Assert.Equal(ExerciseStatus.Wrong, Exercises.AttentionLearns.ShareBeforeTraining(answer, training).Status));
    }

    [Fact]
    public void Exercise_3_accepts_dS_worked_out_by_hand_and_refuses_the_plausible_slips()
    {
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.AttentionLearns.MaskedKeyGradient(null).Status);

        // Weighted mean 0.7 * 0.2 + 0.3 * (-0.1) = 0.11; dS = [0.7 * 0.09, 0.3 * (-0.21), 0, 0].
        Assert.True(Exercises.AttentionLearns.MaskedKeyGradient([0.063, -0.063, 0, 0]).IsCorrect);
        double[][] wrong =
        [
            [0.2, -0.1, 5, -3],                                    // hands dA through unchanged
            [0.063, -0.063, 5, -3],                                 // lets the padding keep its dA
            [0.14, -0.03, 0, 0],                                    // a ∘ dA: forgets the weighted mean
            [0.7 * (0.2 - 0.525), 0.3 * (-0.1 - 0.525), 0, 0],      // plain mean of dA over all four keys
            [0.063, -0.063],                                        // only the real keys
        ];
        Assert.All(wrong, answer => Assert.Equal(ExerciseStatus.Wrong, Exercises.AttentionLearns.MaskedKeyGradient(answer).Status));
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
