using System.Diagnostics;
using System.Globalization;

namespace NotebookAttention.Training;

/// <summary>
/// Trains a <see cref="ISequenceModel"/> on a <see cref="ISequenceTask"/>: draw a seeded batch, compute the loss and
/// the gradients, clip them, let the optimizer step; repeat.
/// </summary>
/// <remarks>
/// Every setting is checked before the first step. After each step the trainer checks that the loss, the gradient norm
/// and the new weights are finite; if not, it puts back the weights of the last step whose loss and gradient were
/// finite and stops with <see cref="TrainingOutcome.Diverged"/> and a message naming the step and the learning rate.
/// Cancelling the token stops the run after the step in progress and keeps the weights learned so far.
/// <para>Each run starts afresh apart from the weights: a new optimizer (Adam's moments at zero, its step count at 1)
/// and the batches of <see cref="TrainingSettings.Seed"/> from the first one again. Running a stopped cell again
/// therefore does not resume: Adam's bias-corrected first step moves every weight by about η, and the run sees the
/// same batches it saw before. To continue, give a new Seed, and expect a bump in the loss curve as Adam restarts.</para>
/// </remarks>
public static class Trainer
{
    /// <summary>Runs <paramref name="settings"/>.Steps optimizer steps (fewer if the run diverges or is cancelled).</summary>
    /// <param name="model">The model, trained in place.</param>
    /// <param name="task">The task that generates the batches.</param>
    /// <param name="settings">Steps, batch size, learning rate, optimizer, clipping, seed, threads, evaluation.</param>
    /// <param name="onStep">Called on the caller's thread after every step, for live progress.</param>
    /// <param name="cancel">Stops the run after the current step; the weights learned so far are kept.</param>
    /// <returns>The per-step records and how the run ended.</returns>
    public static TrainingRun Run(ISequenceModel model, ISequenceTask task, TrainingSettings settings, Action<TrainingStep>? onStep = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (model.VocabularySize < task.VocabularySize)
        {
            throw new ArgumentException($"the {model.Name} has a vocabulary of {model.VocabularySize} ids but the task \"{task.Name}\" uses {task.VocabularySize}: make the model with VocabularySize = {task.VocabularySize}.", nameof(model));
        }

        if (model.MaxLength is { } longest && longest < task.MaxLength)
        {
            throw new ArgumentException($"the task \"{task.Name}\" makes sequences of up to {task.MaxLength} tokens but the {model.Name} reads at most {longest}: make the model with MaxLength = {task.MaxLength}.", nameof(model));
        }

        var optimizer = settings.OptimizerOrDefault.Create(settings.LearningRate);
        var batches = new Random(settings.Seed);
        var heldOut = settings.EvaluateEvery > 0 ? task.Sample(settings.EvaluationBatchSize, new Random(HeldOutSeed(settings.Seed))) : null;
        var lastGood = ParameterSnapshot.Of(model);
        var steps = new List<TrainingStep>(settings.Steps);
        var whole = Stopwatch.StartNew();
        for (var step = 1; step <= settings.Steps; step++)
        {
            if (cancel.IsCancellationRequested)
            {
                return Finish(TrainingOutcome.Cancelled, $"stopped after step {step - 1} of {settings.Steps}; the weights learned so far are kept.");
            }

            var clock = Stopwatch.StartNew();
            foreach (var p in model.Parameters)
            {
                p.ZeroGradient();
            }

            var outcome = model.LossAndGradients(task.Sample(settings.BatchSize, batches), settings.Threads);
            var norm = GradientClipping.GlobalNorm(model.Parameters);
            if (!double.IsFinite(outcome.Loss) || !double.IsFinite(norm))
            {
                lastGood.RestoreTo(model);
                var what = double.IsFinite(outcome.Loss) ? $"the gradient norm was {Number(norm)}" : $"the loss was {Number(outcome.Loss)}";
                return Finish(TrainingOutcome.Diverged, Diverged(step, what, step - 1, optimizer));          // lastGood: what step - 1 started from
            }

            lastGood.RetakeFrom(model);                                          // these weights gave a finite loss and gradient
            if (settings.ClipNorm is { } clip)
            {
                GradientClipping.ClipGlobalNorm(model.Parameters, clip);
            }

            optimizer.Update(model.Parameters);
            if (model.Parameters.Any(p => !p.Value.Enumerate().All(double.IsFinite)))
            {
                lastGood.RestoreTo(model);
                return Finish(TrainingOutcome.Diverged, Diverged(step, $"the loss was {Number(outcome.Loss)} but the update made a weight NaN or infinite", step, optimizer));
            }

            var trainingSeconds = clock.Elapsed.TotalSeconds;                   // the step itself: forward, backward, clipping, update
            double? evaluationLoss = null, evaluationAccuracy = null, evaluationSeconds = null;
            if (heldOut is not null && (step % settings.EvaluateEvery == 0 || step == settings.Steps))
            {
                var evaluationClock = Stopwatch.StartNew();
                var evaluation = model.Evaluate(heldOut, settings.Threads);
                (evaluationLoss, evaluationAccuracy, evaluationSeconds) = (evaluation.Loss, evaluation.Accuracy, evaluationClock.Elapsed.TotalSeconds);
            }

            var record = new TrainingStep(step, outcome.Loss, outcome.Accuracy, norm, outcome.InputGradientNorms.Count > 0 ? outcome.InputGradientNorms[0] : 0, trainingSeconds, evaluationLoss, evaluationAccuracy, evaluationSeconds);
            steps.Add(record);
            onStep?.Invoke(record);
        }

        return Finish(TrainingOutcome.Completed, $"trained {settings.Steps} steps of {settings.BatchSize} sequences with {optimizer.Name}, learning rate {Number(settings.LearningRate)}.");

        TrainingRun Finish(TrainingOutcome how, string message) => new(model, task.Name, settings, steps, how, message, whole.Elapsed.TotalSeconds);
    }

    /// <summary>Loss and accuracy of <paramref name="model"/> on a fresh seeded batch of <paramref name="task"/> (no training).</summary>
    /// <param name="model">The model.</param>
    /// <param name="task">The task.</param>
    /// <param name="sequences">Sequences in the batch, at least 1.</param>
    /// <param name="seed">Seed of the batch.</param>
    /// <param name="threads">Threads, at least 1.</param>
    /// <returns>The outcome of a forward pass.</returns>
    public static BatchOutcome Evaluate(ISequenceModel model, ISequenceTask task, int sequences, int seed, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(task);
        Check.AtLeast(sequences, 1, "the number of sequences", nameof(sequences));
        return model.Evaluate(task.Sample(sequences, new Random(seed)), threads);
    }

    /// <summary>
    /// The seed of the evaluation batch: derived from the run's seed, different from it, the same every time. The batch is
    /// a fresh sample from the same generator, not a held-out set: it may repeat sequences the run trained on (a short
    /// task has few distinct sequences; RememberFirstTask(2) has 80), so its accuracy measures the task, not memorisation.
    /// </summary>
    /// <param name="seed">The run's seed.</param>
    /// <returns>Another seed.</returns>
    public static int HeldOutSeed(int seed) => unchecked((seed * -1640531535) + 0x5EED);

    /// <summary>The message of a diverged run; <paramref name="restored"/> is the step whose starting weights were put back (0: none had a finite loss).</summary>
    private static string Diverged(int step, string what, int restored, IOptimizer optimizer)
    {
        var weights = restored == 0
            ? "The initial weights are kept (no step had a finite loss)"
            : $"The weights step {restored} started from were put back (the last with a finite loss and gradient)";
        return $"training diverged at step {step}: {what} with learning rate {Number(optimizer.LearningRate)} ({optimizer.Name}). {weights}. " +
            $"Lower the learning rate (try {Number(optimizer.LearningRate / 10)}) or clip the gradients (ClipNorm).";
    }

    private static string Number(double value) => double.IsNaN(value) ? "NaN" : double.IsInfinity(value) ? (value > 0 ? "+infinity" : "-infinity") : value.ToString("G4", CultureInfo.InvariantCulture);
}
