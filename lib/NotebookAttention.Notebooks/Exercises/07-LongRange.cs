using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 07.</content>
public static partial class Exercises
{
    /// <summary>07 · Long-range dependencies.</summary>
    public static class LongRange
    {
        /// <summary>Exercise 1: the maximum path length of a recurrent layer over 100 positions.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult RecurrentPathAt100(int? answer) =>
            Exercise.Check("1", answer, DependencyGraph.Build(Architecture.Recurrent, 100).MaximumPathLength(), "From the first input, up one step into the layer, then one step per position to the last.");

        /// <summary>Exercise 2: the steps between the first and last token through self-attention.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="tokens">Number of tokens.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult AttentionFirstToLast(int? answer, int tokens) =>
            Exercise.Check("2", answer, DependencyGraph.Build(Architecture.SelfAttention, tokens).PathLengthsFrom(0)[tokens - 1], "Every output reads every input directly.");

        /// <summary>Exercise 3: the gradient factor per step of an RNN whose recurrent matrix has spectral radius 0.5.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="measuredRate">The rate the notebook measured.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult VanishingRate(double? answer, double measuredRate) =>
            Exercise.Check("3", answer, measuredRate, 0.1, "With tanh near its linear range each step multiplies the gradient by about the spectral radius.");
    }
}
