using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 05.</content>
public static partial class Exercises
{
    /// <summary>05 · Multi-head attention.</summary>
    public static class MultiHead
    {
        /// <summary>Exercise 1: the width of one head.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="layer">The multi-head layer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult HeadWidth(int? answer, MultiHeadAttention layer)
        {
            ArgumentNullException.ThrowIfNull(layer);
            return Exercise.Check("1", answer, layer.HeadDK, "d_model is shared equally between the heads.");
        }

        /// <summary>Exercise 2: the columns of the concatenated heads.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="result">The multi-head result.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult ConcatenatedColumns(int? answer, MultiHeadAttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            return Exercise.Check("2", answer, result.Concatenated.ColumnCount, "h heads of width d_model / h side by side.");
        }

        /// <summary>Exercise 3: the head that puts the most weight on the diagonal (tokens attending to themselves).</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="result">The multi-head result.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult MostSelfAttentiveHead(int? answer, MultiHeadAttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            var diagonal = result.Weights.Select(w => w.Diagonal().Sum()).ToList();
            return Exercise.Check("3", answer, diagonal.IndexOf(diagonal.Max()), "Add up the diagonal of each head's weights (result.Weights[h].Diagonal().Sum()) and pick the largest.");
        }
    }
}
