using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Analysis;
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
        /// Largest shift exercise 1 accepts. fp64 keeps about 16 significant digits, so score + shift loses the
        /// score's digits below |shift|·2⁻⁵³; beyond 10⁹ too few are left to compare the weights closely.
        /// </summary>
        public const double LargestShift = 1e9;

        /// <summary>The predictions exercise 1 accepts: what the row's weights do when one number is added to its scores.</summary>
        public static IReadOnlyList<string> ShiftPredictions { get; } = ["same", "grow", "shrink"];

        /// <summary>
        /// How far the weights of score + shift may be from the weights of score: rounding score + shift to the nearest
        /// double moves each score by up to half a unit in the last place of |shift| + |score|, and each weight moves by
        /// about that much times the weight. Four units in the last place, plus 1e-12 for the softmax itself.
        /// </summary>
        /// <param name="shift">The number added to every score.</param>
        /// <param name="largestScore">The largest |score| of the matrix.</param>
        /// <returns>The allowed largest difference between the two weight matrices.</returns>
        public static double ShiftTolerance(double shift, double largestScore) =>
            1e-12 + (4 * Math.Pow(2, -52) * (Math.Abs(shift) + largestScore));

        /// <summary>
        /// Exercise 1: the learner's prediction (same / grow / shrink) and the weights of the learner's sentence after
        /// adding <paramref name="shift"/> to every score. Right when the prediction is "same" and the weights equal the
        /// unshifted ones up to the rounding of score + shift (<see cref="ShiftTolerance"/>).
        /// </summary>
        /// <param name="prediction">"same", "grow" or "shrink", written before running; null while unanswered.</param>
        /// <param name="shiftedWeights">The learner's softmax of the shifted scores, [tokens x tokens]; null while unanswered.</param>
        /// <param name="shift">The number the learner added to every score.</param>
        /// <param name="result">The notebook's scaled attention result.</param>
        public static ExerciseResult ShiftedWeights(string? prediction, Matrix<double>? shiftedWeights, double shift, AttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            if (string.IsNullOrWhiteSpace(prediction) || shiftedWeights is null)
            {
                return Exercise.Check("1", (string?)null, "same", string.Empty);
            }

            var said = prediction.Trim().ToLowerInvariant();
            if (!ShiftPredictions.Contains(said))
            {
                return new ExerciseResult("1", ExerciseStatus.Wrong, $"predict with one word: {string.Join(", ", ShiftPredictions.Select(p => $"\"{p}\""))}.");
            }

            if (shift == 0 || double.IsNaN(shift) || Math.Abs(shift) > LargestShift)
            {
                return new ExerciseResult("1", ExerciseStatus.Wrong, string.Create(CultureInfo.InvariantCulture, $"pick a shift other than 0 with |shift| ≤ {LargestShift:0e0}: beyond that, score + shift keeps too few of the score's digits in fp64 (about 16 significant digits) to compare the weights."));
            }

            if (ReferenceEquals(shiftedWeights, result.Weights))
            {
                return new ExerciseResult("1", ExerciseStatus.Wrong, "these are the unshifted weights themselves: compute the softmax of the shifted scores, row by row (Softmax.Rows).");
            }

            if (shiftedWeights.RowCount != result.Weights.RowCount || shiftedWeights.ColumnCount != result.Weights.ColumnCount)
            {
                return new ExerciseResult("1", ExerciseStatus.Wrong, $"the weights must be {result.Weights.RowCount} x {result.Weights.ColumnCount}, one row per query, like result.Weights.");
            }

            var difference = Differences.Largest(shiftedWeights, result.Weights);   // NaN if anything is not finite, which the check below refuses
            var tolerance = ShiftTolerance(shift, result.Scores.Enumerate().Max(Math.Abs));
            var measured = string.Create(CultureInfo.InvariantCulture, $"largest change {difference:0.0e0}, allowed {tolerance:0.0e0} for rounding score + {shift:G6} to the nearest double");
            if (!(difference <= tolerance))
            {
                return new ExerciseResult("1", ExerciseStatus.Wrong, $"these are not the weights of the scores plus one number per row ({measured}): add the same number to every score of a row, then take the softmax of each row.");
            }

            return said == "same"
                ? new ExerciseResult("1", ExerciseStatus.Correct, $"right: the weights stay the same ({measured}).")
                : new ExerciseResult("1", ExerciseStatus.Wrong, $"your weights are right, and they show the weights stay the same ({measured}); your prediction \"{said}\" was not. Why does one number added to a whole row cancel?");
        }

        /// <summary>
        /// Exercise 2: the variance of q · k / √d_k when every entry of q and k is independent with mean 0 and variance
        /// <see cref="EntryVariance"/>: each product has variance σ² σ², d_k of them add up, the scale divides by d_k.
        /// </summary>
        /// <param name="answer">The learner's answer.</param>
        public static ExerciseResult ScaledVarianceOfLargerEntries(double? answer)
        {
            var productVariance = EntryVariance * EntryVariance;              // Var(q_i k_i) = Var(q_i) Var(k_i)
            var expected = ExerciseDk * productVariance / ExerciseDk;           // d_k terms add, 1/√d_k squared divides
            return Exercise.Check("2", answer, expected, Tight, "Var(q_i k_i) = Var(q_i) Var(k_i) for independent zero-mean entries; d_k of them add up; dividing by √d_k divides the variance by d_k.");
        }

        /// <summary>
        /// Exercise 3: the predicted direction ("up", "down" or "same") and the entropy (nats) of row 0's weights when
        /// row 0's scores are doubled. The direction is read from the two entropies: "same" only when they are equal.
        /// </summary>
        /// <param name="direction">"up", "down" or "same", predicted before computing; null while unanswered.</param>
        /// <param name="answer">The learner's entropy of the doubled row; null while unanswered.</param>
        /// <param name="result">The notebook's scaled attention result.</param>
        public static ExerciseResult EntropyOfDoubledScores(string? direction, double? answer, AttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            if (string.IsNullOrWhiteSpace(direction) || answer is null)
            {
                return Exercise.Check("3", (double?)null, 0, 0, string.Empty);
            }

            var before = ScoreStatistics.Entropy(result.Weights.Row(0));
            var doubled = ScoreStatistics.Entropy(Softmax.Stable(2 * result.Scores.Row(0)));
            var actual = doubled < before - 1e-12 ? "down" : doubled > before + 1e-12 ? "up" : "same";
            var said = direction.Trim().ToLowerInvariant();
            if (said is not ("up" or "down" or "same"))
            {
                return new ExerciseResult("3", ExerciseStatus.Wrong, "predict the direction with one word: \"up\", \"down\" or \"same\".");
            }

            var number = Exercise.Check(
                "3",
                answer,
                doubled,
                1e-6,
                FormattableString.Invariant($"double every score of row 0 first, then take the softmax of the doubled row, then its entropy (doubling the entropy, or the weights, is something else). Row 0's entropy before doubling is {before:0.0000} nats."));
            if (!number.IsCorrect)
            {
                return number;
            }

            return said == actual
                ? new ExerciseResult("3", ExerciseStatus.Correct, FormattableString.Invariant($"right: {answer.Value:0.0000} nats, {actual} from {before:0.0000}."))
                : new ExerciseResult("3", ExerciseStatus.Wrong, FormattableString.Invariant($"your entropy is right ({answer.Value:0.0000} nats, from {before:0.0000}), so it went {actual}, not {said}. What does doubling do to the differences between the scores?"));
        }
    }
}
