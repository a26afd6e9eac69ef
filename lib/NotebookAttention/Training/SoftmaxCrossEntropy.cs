using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// Softmax cross-entropy over the vocabulary at every scored position: with logits z (one row per position) and
/// target y, p = softmax(z) and the loss is -log p_y = logsumexp(z) - z_y. The batch loss is the mean over the
/// scored positions; positions whose target is <see cref="SequenceBatch.Ignored"/> (padding, unasked positions) add
/// nothing to the loss and get zero gradient.
/// </summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>Loss, probabilities and predictions of one sequence's logits.</summary>
    /// <param name="logits">Z, shape [positions x vocabulary].</param>
    /// <param name="targets">The target id of each position, or <see cref="SequenceBatch.Ignored"/>.</param>
    /// <returns>The summed loss over scored positions (divide by the batch's scored count for the mean), the counts and P.</returns>
    /// <exception cref="ArgumentException">There is not one target per row, or a target is outside the vocabulary.</exception>
    public static CrossEntropyResult Forward(Matrix<double> logits, IReadOnlyList<int> targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        CheckTargets(logits, targets);
        var probabilities = Matrix<double>.Build.Dense(logits.RowCount, logits.ColumnCount);
        var predictions = new int[logits.RowCount];
        double lossSum = 0;
        int scored = 0, correct = 0;
        for (var position = 0; position < logits.RowCount; position++)
        {
            var row = logits.Row(position);
            var max = row.Maximum();
            var shifted = row - max;                                    // z - max z: exp never overflows
            var logSumExp = Math.Log(shifted.PointwiseExp().Sum());     // logsumexp(z) - max z
            probabilities.SetRow(position, (shifted - logSumExp).PointwiseExp()); // p = softmax(z)
            predictions[position] = row.MaximumIndex();
            if (targets[position] == SequenceBatch.Ignored)
            {
                continue;
            }

            lossSum += logSumExp - shifted[targets[position]];          // -log p_y
            scored++;
            correct += predictions[position] == targets[position] ? 1 : 0;
        }

        return new CrossEntropyResult(lossSum, scored, correct, predictions, probabilities);
    }

    /// <summary>
    /// Backward pass of the mean loss L = (1/N) sum over scored positions of -log p_y: dZ = (P - onehot(y)) / N on
    /// scored rows, 0 on ignored rows. (d(-log p_y)/dz_k = p_k - [k = y].)
    /// </summary>
    /// <param name="forward">The forward result (its probabilities).</param>
    /// <param name="targets">The targets given to <see cref="Forward"/>.</param>
    /// <param name="scoredInBatch">N, the number of scored positions in the whole batch (the mean's denominator).</param>
    /// <returns>dZ, shape [positions x vocabulary].</returns>
    /// <exception cref="ArgumentOutOfRangeException">N is below 1.</exception>
    public static Matrix<double> Backward(CrossEntropyResult forward, IReadOnlyList<int> targets, int scoredInBatch)
    {
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(targets);
        Check.AtLeast(scoredInBatch, 1, "scored positions in the batch", nameof(scoredInBatch));
        CheckTargets(forward.Probabilities, targets);
        var logitGradient = forward.Probabilities / scoredInBatch;      // P / N
        for (var position = 0; position < targets.Count; position++)
        {
            if (targets[position] == SequenceBatch.Ignored)
            {
                logitGradient.ClearRow(position);                        // not scored: no gradient
            }
            else
            {
                logitGradient[position, targets[position]] -= 1.0 / scoredInBatch;   // - onehot(y) / N
            }
        }

        return logitGradient;
    }

    /// <summary>
    /// <see cref="Forward"/> and <see cref="Backward"/> for one row on flat memory, for the fast paths: returns the row's
    /// loss -log p_y (0 when <paramref name="target"/> is <see cref="SequenceBatch.Ignored"/>) and its most likely id, and
    /// for a scored row writes dz = (p - onehot(y)) / N into <paramref name="gradient"/> unless it is empty.
    /// </summary>
    /// <param name="logits">z, one entry per id.</param>
    /// <param name="target">y, or <see cref="SequenceBatch.Ignored"/>.</param>
    /// <param name="scoredInBatch">N, the scored positions of the whole batch.</param>
    /// <param name="gradient">Receives dz (untouched for an unscored row), or empty.</param>
    /// <param name="prediction">argmax z (the first on ties).</param>
    /// <returns>The row's loss in nats.</returns>
    internal static double Row(ReadOnlySpan<double> logits, int target, int scoredInBatch, Span<double> gradient, out int prediction)
    {
        prediction = 0;
        for (var j = 1; j < logits.Length; j++)
        {
            if (logits[j] > logits[prediction])
            {
                prediction = j;
            }
        }

        if (target == SequenceBatch.Ignored)
        {
            return 0;
        }

        var max = logits[prediction];
        var sum = 0.0;
        for (var j = 0; j < logits.Length; j++)
        {
            sum += Math.Exp(logits[j] - max);
        }

        var logSumExp = Math.Log(sum);                                  // logsumexp(z) - max z
        if (!gradient.IsEmpty)
        {
            for (var j = 0; j < logits.Length; j++)
            {
                gradient[j] = Math.Exp(logits[j] - max - logSumExp) / scoredInBatch;   // p / N
            }

            gradient[target] -= 1.0 / scoredInBatch;                   // - onehot(y) / N
        }

        return logSumExp - (logits[target] - max);                      // -log p_y
    }

    private static void CheckTargets(Matrix<double> logits, IReadOnlyList<int> targets)
    {
        if (targets.Count != logits.RowCount)
        {
            throw new ArgumentException($"the logits have {logits.RowCount} rows but there are {targets.Count} targets: give one target per position.", nameof(targets));
        }

        for (var position = 0; position < targets.Count; position++)
        {
            if (targets[position] != SequenceBatch.Ignored && (uint)targets[position] >= (uint)logits.ColumnCount)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), targets[position], $"target {targets[position]} at position {position} is outside the vocabulary of {logits.ColumnCount}: use 0 to {logits.ColumnCount - 1} or {SequenceBatch.Ignored}.");
            }
        }
    }
}

/// <summary>What <see cref="SoftmaxCrossEntropy.Forward"/> computed for one sequence.</summary>
/// <param name="LossSum">Sum of -log p_y over the scored positions (nats).</param>
/// <param name="Scored">Number of scored positions.</param>
/// <param name="Correct">Scored positions whose most likely id is the target.</param>
/// <param name="Predictions">Most likely id at every position (ignored ones included).</param>
/// <param name="Probabilities">P = softmax of each row of logits, [positions x vocabulary].</param>
public sealed record CrossEntropyResult(double LossSum, int Scored, int Correct, IReadOnlyList<int> Predictions, Matrix<double> Probabilities);
