using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// Softmax cross-entropy of logit rows against target ids: loss = logsumexp(z) - z[target], and its gradient
/// dLoss/dz = softmax(z) - onehot(target), both computed with the row maximum subtracted first so nothing overflows.
/// </summary>
internal static class CrossEntropy
{
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
}
