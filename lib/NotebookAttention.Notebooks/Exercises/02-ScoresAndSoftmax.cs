using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 02.</content>
public static partial class Exercises
{
    /// <summary>02 · Scores, scaling and softmax.</summary>
    public static class ScoresAndSoftmax
    {
        /// <summary>Exercise 1: the variance of q . k for d_k = 100, unscaled.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult VarianceAt100(double? answer) =>
            Exercise.Check("1", answer, 100, 15, "Each of the d_k products has variance 1, and variances of independent terms add up.");

        /// <summary>Exercise 2: the first weight of the stable softmax of [1000, 0].</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult StableSoftmaxOf1000(double? answer) =>
            Exercise.Check("2", answer, Softmax.Stable(Vector<double>.Build.Dense([1000.0, 0.0]))[0], 1e-6, "Subtract the maximum: exp(0) / (exp(0) + exp(-1000)).");

        /// <summary>Exercise 3: the entropy of a uniform row over n keys.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="keys">n.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult UniformEntropy(double? answer, int keys) =>
            Exercise.Check("3", answer, Math.Log(keys), 1e-3, "Every weight is 1/n, so -sum (1/n) ln(1/n) = ln n.");
    }
}
