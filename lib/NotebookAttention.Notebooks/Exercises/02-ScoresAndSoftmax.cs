using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 02.</content>
public static partial class Exercises
{
    /// <summary>02 · Scores, scaling and softmax.</summary>
    public static class ScoresAndSoftmax
    {
        /// <summary>The variance of every entry of q and k in exercise 2 (standard deviation 2).</summary>
        public const double EntryVariance = 4;

        /// <summary>d_k in exercise 2.</summary>
        public const int ExerciseDk = 64;

        /// <summary>
        /// Exercise 1: the weights of the learner's sentence after adding the same number to every score of a row.
        /// Right when they equal the weights without the shift (softmax is shift invariant).
        /// </summary>
        /// <param name="shiftedWeights">The learner's softmax of the shifted scores, [tokens x tokens].</param>
        /// <param name="result">The notebook's scaled attention result.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult ShiftedWeights(Matrix<double>? shiftedWeights, AttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            return Exercise.Check(
                "1",
                shiftedWeights,
                w => w.RowCount == result.Weights.RowCount && w.ColumnCount == result.Weights.ColumnCount && (w - result.Weights).Enumerate().Max(Math.Abs) < 1e-12,
                "these are not the weights of the scores plus one number per row: add the same number to every score of a row (Softmax.Rows(result.Scores + shift)), not to one column.");
        }

        /// <summary>
        /// Exercise 2: the variance of q · k / √d_k when every entry of q and k is independent with mean 0 and variance
        /// <see cref="EntryVariance"/>: each product has variance σ² σ², d_k of them add up, the scale divides by d_k.
        /// </summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult ScaledVarianceOfLargerEntries(double? answer)
        {
            var productVariance = EntryVariance * EntryVariance;              // Var(q_i k_i) = Var(q_i) Var(k_i)
            var expected = ExerciseDk * productVariance / ExerciseDk;           // d_k terms add, 1/√d_k squared divides
            return Exercise.Check("2", answer, expected, expected / 10, "Var(q_i k_i) = Var(q_i) Var(k_i) for independent zero-mean entries; d_k of them add up; dividing by √d_k divides the variance by d_k.");
        }

        /// <summary>Exercise 3: the entropy (nats) of row 0's weights when row 0's scores are doubled.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="result">The notebook's scaled attention result.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult EntropyOfDoubledScores(double? answer, AttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            var before = ScoreStatistics.Entropy(result.Weights.Row(0));
            var doubled = ScoreStatistics.Entropy(Softmax.Stable(2 * result.Scores.Row(0)));
            return Exercise.Check("3", answer, doubled, 1e-6, FormattableString.Invariant($"compute ScoreStatistics.Entropy(Softmax.Stable(2 * result.Scores.Row(0))); row 0's entropy before doubling is {before:0.0000} nats."));
        }
    }
}
