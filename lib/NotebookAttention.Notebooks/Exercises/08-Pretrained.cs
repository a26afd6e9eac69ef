using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 08.</content>
public static partial class Exercises
{
    /// <summary>08 · Attention in a pretrained model.</summary>
    public static class Pretrained
    {
        /// <summary>Exercise 1: how many word pieces the model reads, [CLS] and [SEP] included.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="validLength">The number of real word pieces the model read.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult PieceCount(int? answer, int validLength) =>
            Exercise.Check("1", answer, validLength, "Count the pieces printed above the grid: [CLS] and [SEP] count too, and a word split into pieces counts once per piece.");

        /// <summary>Exercise 2: the (layer, head) that puts the most weight on the previous token.</summary>
        /// <param name="answer">The learner's answer as (layer, head).</param>
        /// <param name="traits">The measured head traits.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult PreviousTokenHead((int Layer, int Head)? answer, IReadOnlyList<HeadTraits> traits)
        {
            ArgumentNullException.ThrowIfNull(traits);
            var strongest = traits.MaxBy(t => t.PreviousToken) ?? throw new ArgumentException("there are no head traits: measure them first.", nameof(traits));
            return Exercise.Check("2", answer, (strongest.Layer, strongest.Head), "Sort the table by \"previous token\" and read the top row; answer as (layer, head).");
        }

        /// <summary>Exercise 3: the largest entropy, in bits, a head can have over the learner's pieces.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="validLength">The number of real word pieces.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult MaximumEntropy(double? answer, int validLength) =>
            Exercise.Check("3", answer, Math.Log2(validLength), 0.01, "Entropy is largest when a query spreads its weight evenly over all n pieces: log2(n) bits.");
    }
}
