using NotebookAttention.Notebooks;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Notebooks;

/// <summary>The view refuses what would make its labels false, and catches bad settings before any cell trains.</summary>
public partial class TrainingViewMendTests
{
    private static (TrainingView View, TransformerModel Model, ISequenceTask Task) Fresh(int steps = 6, int heads = 2)
    {
        var task = new ReverseTask(4, 4);
        var model = new TransformerModel(new TransformerSettings(task.VocabularySize, task.MaxLength, DModel: 8, Heads: heads, FeedForward: 16, Seed: 1));
        return (new TrainingView(model, task, new TrainingSettings(steps, 8, 0.01, "adam", 1.0, Seed: 7)), model, task);
    }

    [Fact]
    public void Training_a_trained_model_again_is_refused_so_step_0_always_means_untrained()
    {
        var (view, model, task) = Fresh();
        view.Train(CancellationToken.None);
        var firstShare = view.Share();
        Assert.Equal(0, firstShare.FirstStep);

        // The same view again, and a new view on the same model (re-running only the settings cell): both refused,
        // and nothing the view shows changes.
        var again = Assert.Throws<InvalidOperationException>(() => view.Train(CancellationToken.None));
        Assert.Contains("already been trained for 6 steps", again.Message, StringComparison.Ordinal);
        Assert.Contains("new, untrained model", again.Message, StringComparison.Ordinal);
        var second = new TrainingView(model, task, new TrainingSettings(6, 8, 0.01, "adam", 1.0, Seed: 7));
        Assert.Throws<InvalidOperationException>(() => second.Train(CancellationToken.None));
        Assert.Equal(6, view.Steps.Count);
        Assert.Equal(firstShare, view.Share());
        Assert.Equal(0, view.Frames(0)[0].Step);

        // A stopped run counts too: its model learned something.
        var (stopped, stoppedModel, _) = Fresh(steps: 500);
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        stopped.Train(stop.Token);
        Assert.Equal(TrainingOutcome.Cancelled, stopped.Run!.Outcome);
        Assert.Throws<InvalidOperationException>(() => stopped.Train(stop.Token));

        // A fresh model trains.
        var (fresh, _, _) = Fresh();
        fresh.Train(CancellationToken.None);
        Assert.Equal(TrainingOutcome.Completed, fresh.Run!.Outcome);
        Assert.NotSame(stoppedModel, model);
    }

    [Theory]
    [InlineData(0, 0.003, "Steps")]
    [InlineData(200, 0.0, "LearningRate")]
    [InlineData(200, -1.0, "LearningRate")]
    [InlineData(200, double.NaN, "LearningRate")]
    public void Settings_that_cannot_train_are_refused_when_the_view_is_made(int steps, double rate, string parameter)
    {
        var task = new ReverseTask(4, 4);
        var model = new TransformerModel(new TransformerSettings(task.VocabularySize, task.MaxLength, DModel: 8, Heads: 2, FeedForward: 16, Seed: 1));
        var error = Assert.ThrowsAny<ArgumentException>(() => new TrainingView(model, task, new TrainingSettings(steps, 32, rate, "adam", 1.0, Seed: 7)));
        Assert.Equal(parameter, error.ParamName);
        Assert.DoesNotContain("must be greater than or equal to", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_task_too_long_to_picture_is_refused_when_the_view_is_made_not_after_training()
    {
        var task = new RememberFirstTask(40);
        var model = new TransformerModel(new TransformerSettings(task.VocabularySize, task.MaxLength, DModel: 8, Heads: 2, FeedForward: 16, Seed: 1));
        var error = Assert.Throws<ArgumentException>(() => new TrainingView(model, task, new TrainingSettings(5, 8, 0.01, Seed: 7)));
        Assert.Contains("up to 41 tokens", error.Message, StringComparison.Ordinal);
        Assert.Contains("notebook 10", error.Message, StringComparison.Ordinal);
        var longest = new RememberFirstTask(LongInput.TokensShown - 1);
        var fits = new TransformerModel(new TransformerSettings(longest.VocabularySize, longest.MaxLength, DModel: 8, Heads: 2, FeedForward: 16, Seed: 1));
        Assert.NotNull(new TrainingView(fits, longest, new TrainingSettings(5, 8, 0.01, Seed: 7)));
    }

    [Fact]
    public void The_first_loss_report_is_the_first_steps_loss_against_ln_of_the_outputs()
    {
        var (view, _, task) = Fresh();
        Assert.Throws<InvalidOperationException>(() => view.FirstLoss());
        view.Train(CancellationToken.None);
        var first = view.FirstLoss();
        Assert.Equal(view.Steps[0].Loss, first.Loss);
        Assert.Equal(task.VocabularySize, first.Outputs);
        Assert.Equal(Math.Round(Math.Log(11), 3), first.EvenPrinted);
    }

    [Fact]
    public void The_share_of_several_heads_is_at_least_the_best_heads_and_names_the_heads()
    {
        var (view, _, _) = Fresh(steps: 30, heads: 4);
        view.Train(CancellationToken.None);
        var share = view.Share();
        Assert.Equal(4, share.Heads);
        var best = view.Frames(view.BestHead)[^1].ShareOnAnswer;
        Assert.True(share.Last >= best - 1e-15, $"{share.Last} < {best}");
        Assert.Contains("the 4 heads put", share.Sentence, StringComparison.Ordinal);
    }
}
