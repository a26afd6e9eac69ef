using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

public class TrainerTests
{
    private static readonly RememberFirstTask Task = new(4);

    public static TheoryData<TrainingSettings, string> InvalidSettings => new()
    {
        { new TrainingSettings(0, 8, 1e-2), "Steps" },
        { new TrainingSettings(5, 0, 1e-2), "BatchSize" },
        { new TrainingSettings(5, 8, 0), "LearningRate" },
        { new TrainingSettings(5, 8, -1e-3), "LearningRate" },
        { new TrainingSettings(5, 8, double.NaN), "LearningRate" },
        { new TrainingSettings(5, 8, double.PositiveInfinity), "LearningRate" },
        { new TrainingSettings(5, 8, 1e-2, ClipNorm: 0), "ClipNorm" },
        { new TrainingSettings(5, 8, 1e-2, ClipNorm: double.NaN), "ClipNorm" },
        { new TrainingSettings(5, 8, 1e-2, Threads: 0), "Threads" },
        { new TrainingSettings(5, 8, 1e-2, EvaluateEvery: -1), "EvaluateEvery" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Invalid_settings_are_refused_before_any_training(TrainingSettings settings, string parameter)
    {
        var model = Model();
        var before = ParameterSnapshot.Of(model);
        var steps = 0;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Run(model, Task, settings, _ => steps++));
        Assert.Equal(parameter, error.ParamName);
        Assert.Contains("must be", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, steps);
        Assert.True(before.Matches(model));
    }

    [Fact]
    public void A_transformer_with_fewer_positions_than_the_task_needs_is_refused_before_training()
    {
        var model = new TransformerModel(new TransformerSettings(Task.VocabularySize, Task.MaxLength - 1, 4, 1, 8, 1));
        var before = ParameterSnapshot.Of(model);
        var error = Assert.Throws<ArgumentException>(() => Trainer.Run(model, Task, new TrainingSettings(5, 8, 1e-2)));
        Assert.Contains($"MaxLength = {Task.MaxLength}", error.Message, StringComparison.Ordinal);
        Assert.True(before.Matches(model));
    }

    [Fact]
    public void A_model_whose_vocabulary_is_smaller_than_the_task_is_refused_before_training()
    {
        var model = new ElmanRnnModel(new RecurrentSettings(Task.VocabularySize - 1, 4, 3));
        var before = ParameterSnapshot.Of(model);
        var error = Assert.Throws<ArgumentException>(() => Trainer.Run(model, Task, new TrainingSettings(5, 8, 1e-2)));
        Assert.Contains($"VocabularySize = {Task.VocabularySize}", error.Message, StringComparison.Ordinal);
        Assert.True(before.Matches(model));
    }

    [Theory]
    [InlineData("attention, fast path")]
    [InlineData("attention, reference path")]
    [InlineData("Elman RNN")]
    [InlineData("LSTM")]
    public void A_model_whose_vocabulary_is_larger_than_the_task_trains_like_the_trainer_promises(string which)
    {
        // The trainer refuses only a smaller vocabulary; every model must then accept the larger one at every step
        // (the readout has ids no target uses), or the run would pass the check and fail at step 1.
        var task = new ReverseTask(2, 5);
        var vocabulary = task.VocabularySize + 2;
        ISequenceModel model = which switch
        {
            "attention, fast path" => new TransformerModel(new TransformerSettings(vocabulary, task.MaxLength, 4, 2, 8, 1)),
            "attention, reference path" => new TransformerModel(new TransformerSettings(vocabulary, task.MaxLength, 4, 2, 8, 1, Path: TransformerPath.Reference)),
            "Elman RNN" => new ElmanRnnModel(new RecurrentSettings(vocabulary, 4, 3, 1)),
            _ => new LstmModel(new RecurrentSettings(vocabulary, 4, 3, 1)),
        };
        var run = Trainer.Run(model, task, new TrainingSettings(3, 8, 1e-2, EvaluateEvery: 3, EvaluationBatchSize: 8));
        Assert.Equal(TrainingOutcome.Completed, run.Outcome);
        Assert.Equal(3, run.Steps.Count);
        Assert.All(run.Steps, s => Assert.True(double.IsFinite(s.Loss) && s.GradientNorm > 0, s.ToString()));
    }

    [Theory]
    [InlineData(RecurrentPath.Reference, 1e200, "1E+200")]
    [InlineData(RecurrentPath.Fast, 1e308, "1E+308")]
    public void A_run_whose_loss_turns_nan_stops_naming_the_step_and_learning_rate_and_restores_the_last_good_weights(RecurrentPath path, double learningRate, string printed)
    {
        // SGD with a huge η and no clipping: the updates throw the weights towards fp64's limit until a forward pass
        // overflows (inf - inf = NaN). The reference path gets there at η = 1e200; the fast path's fused multiply-adds
        // saturate to ±infinity instead (tanh(±inf) = ±1, the loss stays finite), so it needs η near fp64's largest number.
        var model = new ElmanRnnModel(Model().Settings with { Path = path });
        var snapshots = new List<ParameterSnapshot> { ParameterSnapshot.Of(model) };   // [j]: the weights step j + 1 starts from
        var run = Trainer.Run(model, Task, new TrainingSettings(20, 8, learningRate, "sgd", ClipNorm: null), _ => snapshots.Add(ParameterSnapshot.Of(model)));
        Assert.Equal(TrainingOutcome.Diverged, run.Outcome);
        var failed = run.Steps.Count + 1;
        Assert.True(failed >= 2, run.Message);
        Assert.True(run.Message.Contains($"diverged at step {failed}: the loss was NaN with learning rate {printed} (SGD)", StringComparison.Ordinal), run.Message);
        Assert.True(run.Message.Contains($"The weights step {failed - 1} started from were put back", StringComparison.Ordinal), run.Message);
        Assert.True(snapshots[failed - 2].Matches(model), run.Message);
        Assert.True(double.IsFinite(model.Evaluate(Task.Sample(8, new Random(1))).Loss));
    }

    [Fact]
    public void A_run_whose_update_makes_a_weight_infinite_stops_and_keeps_the_weights_that_step_started_from()
    {
        var model = Model();
        var snapshots = new List<ParameterSnapshot> { ParameterSnapshot.Of(model) };
        var breaking = OptimizerChoice.Custom("breaks at step 3", rate => new BreaksAtStep(rate, 3));
        var run = Trainer.Run(model, Task, new TrainingSettings(20, 8, 0.5, breaking), _ => snapshots.Add(ParameterSnapshot.Of(model)));
        Assert.Equal(TrainingOutcome.Diverged, run.Outcome);
        Assert.Equal(2, run.Steps.Count);
        Assert.True(run.Message.Contains("diverged at step 3: the loss was", StringComparison.Ordinal), run.Message);
        Assert.True(run.Message.Contains("but the update made a weight NaN or infinite with learning rate 0.5 (SGD that breaks)", StringComparison.Ordinal), run.Message);
        Assert.True(run.Message.Contains("The weights step 3 started from were put back", StringComparison.Ordinal), run.Message);
        Assert.True(snapshots[2].Matches(model));
        Assert.False(snapshots[0].Matches(model));
    }

    [Fact]
    public void Cancelling_stops_after_the_current_step_and_keeps_the_weights_learned_so_far()
    {
        var model = Model();
        var initial = ParameterSnapshot.Of(model);
        using var cancel = new CancellationTokenSource();
        ParameterSnapshot? atThree = null;
        var run = Trainer.Run(model, Task, new TrainingSettings(50, 8, 1e-2), step =>
        {
            if (step.Step == 3)
            {
                atThree = ParameterSnapshot.Of(model);
                cancel.Cancel();
            }
        }, cancel.Token);
        Assert.Equal(TrainingOutcome.Cancelled, run.Outcome);
        Assert.Equal([1, 2, 3], run.Steps.Select(s => s.Step));
        Assert.Contains("after step 3", run.Message, StringComparison.Ordinal);
        Assert.True(atThree!.Matches(model));
        Assert.False(initial.Matches(model));
    }

    [Fact]
    public void Steps_record_loss_accuracy_gradient_norm_first_position_gradient_time_and_evaluations()
    {
        var run = Trainer.Run(Model(), Task, new TrainingSettings(12, 8, 1e-2, EvaluateEvery: 5, EvaluationBatchSize: 32));
        Assert.Equal(TrainingOutcome.Completed, run.Outcome);
        Assert.Equal(Enumerable.Range(1, 12), run.Steps.Select(s => s.Step));
        Assert.All(run.Steps, s =>
        {
            Assert.InRange(s.Loss, 1e-6, 20);
            Assert.InRange(s.Accuracy, 0, 1);
            Assert.True(s.GradientNorm > 0 && s.FirstPositionGradient > 0 && s.Seconds > 0, s.ToString());
        });
        Assert.Equal([5, 10, 12], run.Steps.Where(s => s.EvaluationAccuracy is not null).Select(s => s.Step));
        Assert.Equal(run.Steps[^1].EvaluationAccuracy, run.FinalEvaluationAccuracy);
    }

    [Fact]
    public void Step_time_leaves_out_the_evaluation_which_is_timed_apart()
    {
        // A model whose evaluation takes 0.2 s: with the evaluation inside the step's time, Seconds would be >= 0.2.
        var model = new SlowEvaluation(Model(), TimeSpan.FromSeconds(0.2));
        var run = Trainer.Run(model, Task, new TrainingSettings(4, 8, 1e-2, EvaluateEvery: 2, EvaluationBatchSize: 8));
        Assert.Equal([2, 4], run.Steps.Where(s => s.EvaluationSeconds is not null).Select(s => s.Step));
        Assert.All(run.Steps.Where(s => s.EvaluationSeconds is not null), s => Assert.True(s.EvaluationSeconds >= 0.2 && s.Seconds < s.EvaluationSeconds, s.ToString()));
        Assert.All(run.Steps.Where(s => s.EvaluationSeconds is null), s => Assert.Null(s.EvaluationAccuracy));
        Assert.True(run.SecondsPerStep < 0.2, $"{run.SecondsPerStep} s per step");
    }

    [Fact]
    public void A_snapshot_restores_the_weights_and_refuses_a_model_of_another_shape()
    {
        var model = Model();
        var snapshot = ParameterSnapshot.Of(model);
        Trainer.Run(model, Task, new TrainingSettings(3, 8, 1e-2));
        Assert.False(snapshot.Matches(model));
        snapshot.RestoreTo(model);
        Assert.True(snapshot.Matches(model));
        var other = new LstmModel(new RecurrentSettings(Task.VocabularySize, 4, 3));
        Assert.Contains("same kind and sizes", Assert.Throws<ArgumentException>(() => snapshot.RestoreTo(other)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RecurrentKind.Elman)]
    [InlineData(RecurrentKind.Lstm)]
    public void Both_models_learn_to_remember_a_signal_two_steps_back(RecurrentKind kind)
    {
        var task = new RememberFirstTask(2);
        var model = ModelCase.Build(kind, new RecurrentSettings(task.VocabularySize, 16, 8, 1));
        var before = Trainer.Evaluate(model, task, 256, seed: 99).Accuracy;
        var run = Trainer.Run(model, task, new TrainingSettings(150, 16, 1e-2, Seed: 2));
        var after = Trainer.Evaluate(model, task, 256, seed: 99).Accuracy;
        Assert.Equal(TrainingOutcome.Completed, run.Outcome);
        Assert.True(after >= 0.95 && before < 0.5, $"{model.Name}: evaluation accuracy {before:0.000} before, {after:0.000} after 150 steps");
    }

    /// <summary>A model whose evaluation sleeps for <c>delay</c>.</summary>
    private sealed class SlowEvaluation(ISequenceModel inner, TimeSpan delay) : ISequenceModel
    {
        public string Name => inner.Name;

        public IReadOnlyList<Parameter> Parameters => inner.Parameters;

        public int VocabularySize => inner.VocabularySize;

        public int? MaxLength => inner.MaxLength;

        public BatchOutcome LossAndGradients(SequenceBatch batch, int threads = 1) => inner.LossAndGradients(batch, threads);

        public BatchOutcome Evaluate(SequenceBatch batch, int threads = 1)
        {
            Thread.Sleep(delay);
            return inner.Evaluate(batch, threads);
        }
    }

    /// <summary>SGD whose update number <c>breakAt</c> writes +infinity into the first weight, as an overflowing update would.</summary>
    private sealed class BreaksAtStep(double learningRate, int breakAt) : IOptimizer
    {
        private readonly Sgd sgd = new(learningRate);
        private int steps;

        public string Name => "SGD that breaks";

        public double LearningRate => learningRate;

        public void Update(IReadOnlyList<Parameter> parameters)
        {
            sgd.Update(parameters);
            if (++steps == breakAt)
            {
                parameters[0].Value[0, 0] = double.PositiveInfinity;
            }
        }
    }

    private static ElmanRnnModel Model() => new(new RecurrentSettings(Task.VocabularySize, 4, 3, 7));
}
