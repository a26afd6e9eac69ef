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
    /// One row: returns its loss (0 when <paramref name="target"/> is <see cref="SequenceBatch.Ignored"/>) and its most
    /// likely id; when <paramref name="gradient"/> is not empty and the row is scored, writes
    /// <paramref name="scale"/> · (softmax(z) - onehot(target)) into it.
    /// </summary>
    /// <param name="logits">z, one entry per id.</param>
    /// <param name="target">The target id, or <see cref="SequenceBatch.Ignored"/>.</param>
    /// <param name="scale">Factor of the gradient (1 / scored positions of the whole batch, for a mean).</param>
    /// <param name="gradient">Receives dz (left untouched for an unscored row), or empty for none.</param>
    /// <param name="prediction">argmax_j z[j] (the first one on ties).</param>
    /// <returns>The row's loss in nats.</returns>
    public static double Row(ReadOnlySpan<double> logits, int target, double scale, Span<double> gradient, out int prediction)
    {
        prediction = 0;
        var max = logits[0];
        for (var j = 1; j < logits.Length; j++)
        {
            if (logits[j] > max)
            {
                max = logits[j];
                prediction = j;
            }
        }

        if (target == SequenceBatch.Ignored)
        {
            return 0;
        }

        var sum = 0.0;
        for (var j = 0; j < logits.Length; j++)
        {
            sum += Math.Exp(logits[j] - max);
        }

        if (!gradient.IsEmpty)
        {
            for (var j = 0; j < logits.Length; j++)
            {
                gradient[j] = scale * ((Math.Exp(logits[j] - max) / sum) - (j == target ? 1 : 0));
            }
        }

        return Math.Log(sum) + max - logits[target];
    }

    /// <summary>
    /// Every row of Z [rows x vocabulary]: adds the scored rows' losses, writes each row's most likely id and (when
    /// <paramref name="gradient"/> is given) its gradient row, 0 for unscored rows.
    /// </summary>
    /// <param name="logits">Z.</param>
    /// <param name="target">The target id of row r, or <see cref="SequenceBatch.Ignored"/>.</param>
    /// <param name="scale">Factor of the gradient.</param>
    /// <param name="gradient">dZ, [rows x vocabulary], or null.</param>
    /// <param name="predictions">Receives the most likely id of each row.</param>
    /// <returns>Summed loss, correct predictions among scored rows, and whether any row was scored.</returns>
    public static (double LossSum, int Correct, bool AnyScored) Rows(Matrix<double> logits, Func<int, int> target, double scale, Matrix<double>? gradient, Span<int> predictions)
    {
        var (lossSum, correct, anyScored) = (0.0, 0, false);
        var row = new double[logits.ColumnCount];
        var rowGradient = new double[gradient is null ? 0 : logits.ColumnCount];
        for (var r = 0; r < logits.RowCount; r++)
        {
            for (var j = 0; j < row.Length; j++)
            {
                row[j] = logits.At(r, j);
            }

            var y = target(r);
            lossSum += Row(row, y, scale, rowGradient, out predictions[r]);
            if (y == SequenceBatch.Ignored)
            {
                continue;
            }

            anyScored = true;
            correct += predictions[r] == y ? 1 : 0;
            if (gradient is not null)
            {
                gradient.SetRow(r, rowGradient);
            }
        }

        return (lossSum, correct, anyScored);
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
