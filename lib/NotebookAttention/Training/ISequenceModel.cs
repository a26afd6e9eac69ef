namespace NotebookAttention.Training;

/// <summary>
/// A model that reads a padded batch of token ids and predicts a token at every position: the transformer block,
/// the Elman RNN and the LSTM all implement it, so one trainer and one set of tests serve the three.
/// </summary>
/// <remarks>
/// Contract (tested for every model): the loss is the mean softmax cross-entropy over the scored positions of the
/// batch (targets other than <see cref="SequenceBatch.Ignored"/>); padding changes neither the loss nor any gradient of a
/// sequence; gradients are <em>added</em> to <see cref="Parameter.Gradient"/> (the trainer zeroes them); and the results
/// are the same bit for bit for every <c>threads</c> value, because work is split into chunks of sequences that do not
/// depend on the thread count and chunk results are summed in chunk order.
/// </remarks>
public interface ISequenceModel
{
    /// <summary>A short name for tables and legends ("attention", "Elman RNN", "LSTM").</summary>
    string Name { get; }

    /// <summary>Every learned tensor, in a fixed order.</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Number of token ids the model reads and predicts.</summary>
    int VocabularySize { get; }

    /// <summary>
    /// The longest sequence the model can read (a transformer's rows of learned positions), or null when any length
    /// works (a recurrent network). <see cref="Trainer.Run"/> refuses a task whose sequences are longer, before step 1.
    /// </summary>
    int? MaxLength { get; }

    /// <summary>Forward pass, loss and backward pass: adds dLoss/dθ to every parameter's gradient.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="threads">Worker threads (1 or more); the result does not depend on it.</param>
    /// <returns>Loss, accuracy counts and the gradient that reached each input position.</returns>
    BatchOutcome LossAndGradients(SequenceBatch batch, int threads = 1);

    /// <summary>Forward pass only: the loss, accuracy counts and the predicted id at every position.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="threads">Worker threads (1 or more); the result does not depend on it.</param>
    /// <returns>The outcome, with <see cref="BatchOutcome.InputGradientNorms"/> empty.</returns>
    BatchOutcome Evaluate(SequenceBatch batch, int threads = 1);
}

/// <summary>What one pass over a batch gave.</summary>
/// <param name="Loss">Mean cross-entropy over scored positions (nats).</param>
/// <param name="Correct">Scored positions whose most likely id is the target.</param>
/// <param name="Scored">Scored positions.</param>
/// <param name="Predictions">Predicted id per position, [sequence][position] (padding included; ignore it).</param>
/// <param name="InputGradientNorms">
/// Mean over the batch's sequences of ||dLoss/dx_t||, the gradient reaching the model's input vector at position t
/// (after embedding and positions), one entry per padded position (zero on padding); empty from <see cref="ISequenceModel.Evaluate"/>.
/// </param>
public sealed record BatchOutcome(double Loss, int Correct, int Scored, IReadOnlyList<IReadOnlyList<int>> Predictions, IReadOnlyList<double> InputGradientNorms)
{
    /// <summary>Correct / Scored.</summary>
    public double Accuracy => Scored == 0 ? 0 : (double)Correct / Scored;
}
