using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>
/// Issue item 8 for every model: a run whose loss or gradient turns NaN or infinite stops with a message naming the
/// step and the learning rate, and the weights of the last step with a finite loss and gradient are put back.
/// </summary>
public class DivergenceTests
{
    private static readonly RememberFirstTask Task = new(4);

    public static TheoryData<string, double> DivergingModels => new()
    {
        // SGD with a huge η and no clipping throws the weights towards fp64's limit until a pass overflows. The
        // recurrent fast path saturates (tanh(±inf) = ±1, the loss stays finite), so it needs η near fp64's largest number.
        { "attention, reference path", 1e30 },
        { "attention, fast path", 1e30 },
        { "Elman RNN, reference path", 1e200 },
        { "Elman RNN, fast path", 1e308 },
        { "LSTM, reference path", 1e200 },
        { "LSTM, fast path", 1e308 },
    };

    [Theory]
    [MemberData(nameof(DivergingModels))]
    public void A_diverging_run_of_any_model_stops_naming_the_step_and_learning_rate_and_restores_the_last_good_weights(string which, double learningRate)
    {
        var model = Build(which);
        var snapshots = new List<ParameterSnapshot> { ParameterSnapshot.Of(model) };   // [j]: the weights step j + 1 starts from
        var run = Trainer.Run(model, Task, new TrainingSettings(40, 8, learningRate, "sgd", ClipNorm: null), _ => snapshots.Add(ParameterSnapshot.Of(model)));

        Assert.True(run.Outcome == TrainingOutcome.Diverged, $"{which}: {run.Outcome}, {run.Message}");
        var failed = run.Steps.Count + 1;
        Assert.True(failed >= 2, run.Message);
        Assert.Contains($"diverged at step {failed}: the ", run.Message, StringComparison.Ordinal);
        Assert.Contains($"with learning rate {learningRate.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)} (SGD)", run.Message, StringComparison.Ordinal);
        Assert.Contains($"The weights step {failed - 1} started from were put back", run.Message, StringComparison.Ordinal);
        Assert.True(snapshots[failed - 2].Matches(model), $"{which}: the restored weights are not those step {failed - 1} started from");
        Assert.True(double.IsFinite(model.Evaluate(Task.Sample(8, new Random(1))).Loss), which);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void A_nan_gradient_with_a_finite_loss_stops_naming_the_gradient_norm_the_step_and_the_learning_rate(int nanAt)
    {
        var model = new NanGradientModel(nanAt);
        var snapshots = new List<ParameterSnapshot> { ParameterSnapshot.Of(model) };
        var run = Trainer.Run(model, Task, new TrainingSettings(10, 4, 0.25, "sgd"), _ => snapshots.Add(ParameterSnapshot.Of(model)));

        Assert.Equal(TrainingOutcome.Diverged, run.Outcome);
        Assert.Equal(nanAt - 1, run.Steps.Count);
        Assert.Contains($"diverged at step {nanAt}: the gradient norm was NaN with learning rate 0.25 (SGD)", run.Message, StringComparison.Ordinal);
        Assert.Contains(nanAt == 1 ? "The initial weights are kept" : $"The weights step {nanAt - 1} started from were put back", run.Message, StringComparison.Ordinal);
        Assert.True(snapshots[Math.Max(0, nanAt - 2)].Matches(model), run.Message);
        Assert.Equal(nanAt > 1, !snapshots[0].Matches(model));
    }

    private static ISequenceModel Build(string which)
    {
        if (which.StartsWith("attention", StringComparison.Ordinal))
        {
            var path = which.EndsWith("reference path", StringComparison.Ordinal) ? TransformerPath.Reference : TransformerPath.Fast;
            return new TransformerModel(new TransformerSettings(Task.VocabularySize, Task.MaxLength, 4, 2, 8, 3, Path: path));
        }

        var settings = new RecurrentSettings(Task.VocabularySize, 4, 3, 7, Path: which.EndsWith("reference path", StringComparison.Ordinal) ? RecurrentPath.Reference : RecurrentPath.Fast);
        RecurrentModel model = which.StartsWith("LSTM", StringComparison.Ordinal) ? new LstmModel(settings) : new ElmanRnnModel(settings);
        return model;
    }

    /// <summary>
    /// One weight w, loss w² (finite) and gradient 2w, except that step <c>nanAt</c>'s gradient is NaN while its loss
    /// stays finite: the trainer's gradient-norm branch, which no real model reaches on purpose.
    /// </summary>
    private sealed class NanGradientModel(int nanAt) : ISequenceModel
    {
        private readonly Parameter weight = new("w", Matrix<double>.Build.Dense(1, 1, 1.0));
        private int calls;

        public string Name => "NaN-gradient stub";

        public IReadOnlyList<Parameter> Parameters => [weight];

        public int VocabularySize => Task.VocabularySize;

        public int? MaxLength => null;

        public BatchOutcome LossAndGradients(SequenceBatch batch, int threads = 1)
        {
            var w = weight.Value[0, 0];
            weight.Gradient[0, 0] += ++calls == nanAt ? double.NaN : 2 * w;
            return Outcome(batch, w * w, [1.0]);
        }

        public BatchOutcome Evaluate(SequenceBatch batch, int threads = 1) => Outcome(batch, weight.Value[0, 0] * weight.Value[0, 0], []);

        private static BatchOutcome Outcome(SequenceBatch batch, double loss, IReadOnlyList<double> norms) =>
            new(loss, 0, batch.ScoredPositions, [.. batch.Inputs.Select(s => (IReadOnlyList<int>)new int[s.Count])], norms);
    }
}
