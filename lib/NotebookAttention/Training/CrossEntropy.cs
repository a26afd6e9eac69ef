using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// Softmax cross-entropy of a batch of logit rows against target ids: loss_r = logsumexp(z_r) - z_r[target_r], and its
/// gradient dLoss/dz_r = softmax(z_r) - onehot(target_r), both computed with the row maximum subtracted first.
/// </summary>
internal static class CrossEntropy
{
    /// <summary>
    /// Adds the loss of every scored row, writes each row's most likely id, and (when <paramref name="gradient"/> is
    /// given) writes <paramref name="scale"/> * (softmax(z_r) - onehot(target_r)) into its rows; unscored rows get 0.
    /// </summary>
    /// <param name="logits">Z, [rows x vocabulary].</param>
    /// <param name="target">The target id of row r, or <see cref="SequenceBatch.Ignored"/>.</param>
    /// <param name="scale">Factor of the gradient (1 / scored positions of the whole batch, for a mean).</param>
    /// <param name="gradient">dZ, [rows x vocabulary], or null for a forward pass only.</param>
    /// <param name="predictions">Receives argmax_j z_r[j] per row.</param>
    /// <returns>The summed loss of the scored rows and how many of them were predicted correctly.</returns>
    public static (double LossSum, int Correct, bool AnyScored) Rows(Matrix<double> logits, Func<int, int> target, double scale, Matrix<double>? gradient, Span<int> predictions)
    {
        var lossSum = 0.0;
        var correct = 0;
        var anyScored = false;
        var vocabulary = logits.ColumnCount;
        for (var r = 0; r < logits.RowCount; r++)
        {
            var best = 0;
            var max = logits.At(r, 0);
            for (var j = 1; j < vocabulary; j++)
            {
                if (logits.At(r, j) > max)
                {
                    max = logits.At(r, j);
                    best = j;
                }
            }

            predictions[r] = best;
            var y = target(r);
            if (y == SequenceBatch.Ignored)
            {
                continue;
            }

            anyScored = true;
            var sum = 0.0;
            for (var j = 0; j < vocabulary; j++)
            {
                sum += Math.Exp(logits.At(r, j) - max);
            }

            lossSum += Math.Log(sum) + max - logits.At(r, y);
            correct += best == y ? 1 : 0;
            if (gradient is not null)
            {
                for (var j = 0; j < vocabulary; j++)
                {
                    var probability = Math.Exp(logits.At(r, j) - max) / sum;
                    gradient.At(r, j, scale * (probability - (j == y ? 1 : 0)));
                }
            }
        }

        return (lossSum, correct, anyScored);
    }
}
