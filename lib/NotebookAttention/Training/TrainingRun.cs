namespace NotebookAttention.Training;

/// <summary>What one training step measured.</summary>
/// <param name="Step">1 for the first step.</param>
/// <param name="Loss">Mean cross-entropy of this step's batch, before the update (nats).</param>
/// <param name="Accuracy">Share of this batch's scored positions predicted right, before the update.</param>
/// <param name="GradientNorm">Global norm of the gradient before clipping.</param>
/// <param name="FirstPositionGradient">Mean over the batch of ||dLoss/dx_0||: how much gradient reached the first input position.</param>
/// <param name="Seconds">Wall-clock time of the training step alone (forward, backward, clipping, update); the evaluation is timed apart, in <paramref name="EvaluationSeconds"/>.</param>
/// <param name="EvaluationLoss">Loss on the evaluation batch after this step's update, when an evaluation ran.</param>
/// <param name="EvaluationAccuracy">Accuracy on the evaluation batch after this step's update, when an evaluation ran.</param>
/// <param name="EvaluationSeconds">Wall-clock time of that evaluation, when one ran.</param>
public sealed record TrainingStep(int Step, double Loss, double Accuracy, double GradientNorm, double FirstPositionGradient, double Seconds, double? EvaluationLoss = null, double? EvaluationAccuracy = null, double? EvaluationSeconds = null);

/// <summary>How a training run ended.</summary>
public enum TrainingOutcome
{
    /// <summary>Every step ran.</summary>
    Completed,

    /// <summary>A loss, gradient or weight became NaN or infinite; the last good weights were put back.</summary>
    Diverged,

    /// <summary>Stopped through the cancellation token; the weights learned so far are kept.</summary>
    Cancelled,
}

/// <summary>The record of a training run: one entry per step that finished, and how the run ended.</summary>
/// <param name="Model">The model (trained in place).</param>
/// <param name="TaskName">The task's name.</param>
/// <param name="Settings">The settings.</param>
/// <param name="Steps">One record per finished step, in order.</param>
/// <param name="Outcome">How the run ended.</param>
/// <param name="Message">A sentence for a learner: what happened and, for a diverged run, the step, the learning rate and what to try.</param>
/// <param name="Seconds">Wall-clock time of the whole run.</param>
public sealed record TrainingRun(ISequenceModel Model, string TaskName, TrainingSettings Settings, IReadOnlyList<TrainingStep> Steps, TrainingOutcome Outcome, string Message, double Seconds)
{
    /// <summary>The last step that finished, or null when none did.</summary>
    public TrainingStep? Last => Steps.Count == 0 ? null : Steps[^1];

    /// <summary>The last accuracy measured on the evaluation batch, or null when no evaluation ran.</summary>
    public double? FinalEvaluationAccuracy => Steps.LastOrDefault(s => s.EvaluationAccuracy is not null)?.EvaluationAccuracy;

    /// <summary>Mean seconds per finished training step (<see cref="TrainingStep.Seconds"/>: evaluations not included).</summary>
    public double SecondsPerStep => Steps.Count == 0 ? 0 : Steps.Average(s => s.Seconds);
}
