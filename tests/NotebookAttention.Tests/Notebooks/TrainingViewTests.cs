using NotebookAttention.Notebooks;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Notebooks;

/// <summary>The notebook's view of a training run: snapshots, the final line, and stopping.</summary>
public class TrainingViewTests
{
    private static TrainingView View(int steps, out TransformerModel model)
    {
        var task = new ReverseTask(4, 4);
        model = new TransformerModel(new TransformerSettings(task.VocabularySize, task.MaxLength, DModel: 8, Heads: 2, FeedForward: 16, Seed: 1));
        return new TrainingView(model, task, new TrainingSettings(steps, 8, 0.01, "adam", 1.0, Seed: 7));
    }

    [Fact]
    public void Snapshots_start_at_step_0_are_dense_early_and_end_on_the_last_step()
    {
        Assert.Equal([0, 2, 8, 18, 32, 50, 72, 98, 128, 162, 200], TrainingView.SnapshotSteps(200, 11));
        Assert.Equal([0, 1, 2, 3], TrainingView.SnapshotSteps(3, 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingView.SnapshotSteps(10, 1));
    }

    [Fact]
    public void A_run_records_every_step_pictures_every_head_and_ends_on_one_summary_line()
    {
        var view = View(12, out _);
        Assert.Throws<InvalidOperationException>(() => view.Curves());
        view.Train(CancellationToken.None);
        Assert.Equal(12, view.Steps.Count);
        Assert.Equal(2, view.Heads);
        Assert.Equal(TrainingView.SnapshotSteps(12, view.Snapshots), view.Frames(0).Select(f => f.Step));
        Assert.Contains("step 12/12", view.Summary, StringComparison.Ordinal);
        Assert.Contains("completed", view.Summary, StringComparison.Ordinal);
        Assert.Contains(LiveOutput.SummaryAttribute, view.Summary, StringComparison.Ordinal);
        Assert.Equal(2, view.Curves().Figures.Count);
        Assert.Contains("slider", view.Attention().Json, StringComparison.Ordinal);
    }

    [Fact]
    public void Stopping_keeps_the_weights_learned_so_far_and_what_the_view_recorded()
    {
        var view = View(500, out var model);
        var before = model.Parameters.Select(p => p.Value.Clone()).ToList();
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        view.Train(stop.Token);
        Assert.Equal(TrainingOutcome.Cancelled, view.Run!.Outcome);
        Assert.True(view.Steps.Count < 500);
        Assert.Equal(view.Run.Steps.Count, view.Steps.Count);
        Assert.Contains("stopped by you", view.Summary, StringComparison.Ordinal);
        var changed = model.Parameters.Zip(before).Any(p => !p.First.Value.Equals(p.Second));
        Assert.Equal(view.Steps.Count > 0, changed);
        Assert.Equal(view.Steps.Count > 0 ? view.Steps[^1].Step : 0, view.Frames(0)[^1].Step);
    }

    [Fact]
    public void A_model_without_attention_says_so_instead_of_drawing_nothing()
    {
        var task = new ReverseTask(4, 4);
        var rnn = new ElmanRnnModel(new RecurrentSettings(task.VocabularySize, Hidden: 8, Embedding: 4, Seed: 1));
        var view = new TrainingView(rnn, task, new TrainingSettings(3, 4, 0.01, Seed: 1));
        view.Train(CancellationToken.None);
        var error = Assert.Throws<InvalidOperationException>(() => view.Attention());
        Assert.Contains("only the transformer", error.Message, StringComparison.Ordinal);
    }
}
