using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 04.</content>
public static partial class Exercises
{
    /// <summary>04 · Masking.</summary>
    public static class Masking
    {
        /// <summary>Exercise 1: how many keys token 3 sees under a causal mask.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult CausalKeysOfToken3(int? answer) =>
            Exercise.Check("1", answer, Enumerable.Range(0, 10).Count(key => Mask.Causal(10)[3, key]), "Token 3 sees itself and every token before it; positions start at 0.");

        /// <summary>Exercise 2: the padding rows of the shortest sentence of a batch.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="batch">The batch.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult PaddingRowsOfShortest(int? answer, PaddedBatch batch)
        {
            ArgumentNullException.ThrowIfNull(batch);
            return Exercise.Check("2", answer, batch.PaddedLength - batch.ValidLengths.Min(), "Every sentence is padded to the longest one: padded length minus the shortest valid length.");
        }

        /// <summary>Exercise 3: the sum of the weights of a fully masked row.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult FullyMaskedRowSum(double? answer) =>
            Exercise.Check("3", answer, Softmax.Stable(Vector<double>.Build.Dense(3, double.NegativeInfinity)).Sum(), 1e-12, "A row that may see nothing attends to nothing: look at the table of the fully masked row.");
    }
}
