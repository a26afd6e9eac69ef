using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 03.</content>
public static partial class Exercises
{
    /// <summary>03 · The weighted sum.</summary>
    public static class WeightedSum
    {
        /// <summary>Exercise 1: output row 0, computed by hand as sum_j A[0, j] v_j.</summary>
        /// <param name="answer">The learner's vector.</param>
        /// <param name="result">The attention result.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult FirstOutputRow(Vector<double>? answer, AttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            var expected = result.Output.Row(0);
            return Exercise.Check("1", answer, o => o.Count == expected.Count && (o - expected).AbsoluteMaximum() < Tight, "Add up result.Weights[0, j] * result.Values.Row(j) over every key j.");
        }

        /// <summary>Exercise 2: the weight of each key when all scores in a row are equal.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="keys">Number of keys.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult EqualScoresWeight(double? answer, int keys) =>
            Exercise.Check("2", answer, 1.0 / keys, 1e-6, "Equal scores give equal exponentials; they must sum to 1.");

        /// <summary>Exercise 3: the key that token 0 attends to most.</summary>
        /// <param name="answer">The learner's answer (a position).</param>
        /// <param name="result">The attention result.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult MostAttendedKey(int? answer, AttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            return Exercise.Check("3", answer, result.Weights.Row(0).MaximumIndex(), "Look at row 0 of the heatmap (or of the table under it) and give the column position of the largest weight.");
        }
    }
}
