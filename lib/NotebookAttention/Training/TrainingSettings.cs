namespace NotebookAttention.Training;

/// <summary>How <see cref="Trainer.Run"/> trains a model.</summary>
/// <param name="Steps">Optimizer steps (one batch each), at least 1.</param>
/// <param name="BatchSize">Sequences per batch, at least 1.</param>
/// <param name="LearningRate">η, a finite number above 0.</param>
/// <param name="Optimizer">"adam" (the default when null) or "sgd", or <see cref="OptimizerChoice.Custom"/>.</param>
/// <param name="ClipNorm">Largest global gradient norm (<see cref="GradientClipping"/>), above 0; clipping is on by default (1.0), null turns it off.</param>
/// <param name="Seed">Seed of the batches (the task's generator): the same seed gives the same batches.</param>
/// <param name="Threads">Threads for each batch, at least 1; the results do not depend on it.</param>
/// <param name="EvaluateEvery">Measure loss and accuracy on a fixed evaluation batch every this many steps (and after the last); 0 for never. The batch is drawn fresh from the task with <see cref="Trainer.HeldOutSeed"/>; it is not disjoint from the training batches.</param>
/// <param name="EvaluationBatchSize">Sequences in the evaluation batch, at least 1.</param>
public sealed record TrainingSettings(
    int Steps,
    int BatchSize,
    double LearningRate,
    OptimizerChoice? Optimizer = null,
    double? ClipNorm = 1.0,
    int Seed = 0,
    int Threads = 1,
    int EvaluateEvery = 0,
    int EvaluationBatchSize = 256)
{
    /// <summary>The optimizer choice, with null meaning Adam.</summary>
    public OptimizerChoice OptimizerOrDefault => Optimizer ?? OptimizerChoice.Adam;

    /// <summary>Throws, naming the setting and what to do, when a value cannot train.</summary>
    public void Validate()
    {
        Check.AtLeast(Steps, 1, "the number of steps (Steps)", nameof(Steps));
        Check.AtLeast(BatchSize, 1, "the batch size (BatchSize)", nameof(BatchSize));
        OptimizerCheck.LearningRate(LearningRate, nameof(LearningRate));
        if (ClipNorm is { } clip && !(clip > 0 && double.IsFinite(clip)))
        {
            throw new ArgumentOutOfRangeException(nameof(ClipNorm), clip, $"the clipping norm (ClipNorm) is {clip}: it must be a finite number above 0 (1 is common), or null for no clipping.");
        }

        Check.AtLeast(Threads, 1, "the thread count (Threads)", nameof(Threads));
        Check.AtLeast(EvaluateEvery, 0, "EvaluateEvery", nameof(EvaluateEvery));
        Check.AtLeast(EvaluationBatchSize, 1, "the evaluation batch size (EvaluationBatchSize)", nameof(EvaluationBatchSize));
    }
}
