using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 06.</content>
public static partial class Exercises
{
    /// <summary>06 · The price of attention.</summary>
    public static class Cost
    {
        /// <summary>Exercise 1: how many times longer exact attention takes when n doubles.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult DoublingFactor(double? answer) =>
            Exercise.Check("1", answer, NotebookAttention.Cost.AttentionCost.Flops(2048, 64) / NotebookAttention.Cost.AttentionCost.Flops(1024, 64), 0.01, "The work grows with n squared: (2n)^2 / n^2.");

        /// <summary>Exercise 2: the longest sequence whose fp32 score matrix fits in 1 MiB.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult LongestInOneMebibyte(int? answer) =>
            Exercise.Check("2", answer, (int)NotebookAttention.Cost.AttentionCost.LongestFitting(1 << 20), "n^2 numbers of 4 bytes each must fit in 1,048,576 bytes: n = sqrt(1,048,576 / 4).");

        /// <summary>Exercise 3: the share of the FLOPs a causal mask needs.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult CausalShare(double? answer) =>
            Exercise.Check("3", answer, NotebookAttention.Cost.AttentionCost.Flops(1024, 64, causal: true) / NotebookAttention.Cost.AttentionCost.Flops(1024, 64), 0.01, "A causal mask keeps the lower triangle of the n x n pairs.");
    }
}
