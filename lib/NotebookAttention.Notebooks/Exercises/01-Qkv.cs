using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 01.</content>
public static partial class Exercises
{
    /// <summary>01 · Queries, keys and values.</summary>
    public static class Qkv
    {
        /// <summary>The sentence of exercise 1: one word twice.</summary>
        public const string Example = "the cat saw the dog";

        /// <summary>
        /// Exercise 1: without positions, which two tokens of <see cref="Example"/> get the same query? Checked by
        /// computing Q = embeddings W_Q without positions and comparing the two rows the learner names.
        /// </summary>
        /// <param name="answer">Two positions (first the smaller), or null while unanswered.</param>
        /// <param name="embeddings">The notebook's embedding table.</param>
        /// <param name="projections">The notebook's projections.</param>
        public static ExerciseResult SameQueryWithoutPositions((int, int)? answer, Embeddings embeddings, QkvProjections projections)
        {
            ArgumentNullException.ThrowIfNull(embeddings);
            ArgumentNullException.ThrowIfNull(projections);
            var tokens = Tokenizer.Words(Example);
            var queries = projections.Query.Apply(embeddings.Embed(tokens));   // [tokens x d_k], no positions
            var equal = (from i in Enumerable.Range(0, tokens.Count)
                         from j in Enumerable.Range(i + 1, tokens.Count - i - 1)
                         where (queries.Row(i) - queries.Row(j)).AbsoluteMaximum() < Tight
                         select (i, j)).ToList();
            var expected = answer is { } pair && equal.Contains(pair) ? pair : equal.Count > 0 ? equal[0] : (-1, -1);
            return Exercise.Check("1", answer, expected, $"Positions start at 0 in \"{Example}\". The same word gets the same embedding, and W_Q treats every row alike.");
        }

        /// <summary>Exercise 2: how many numbers W_Q, W_K and W_V hold together, whatever the sentence's length.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="projections">The notebook's projections.</param>
        public static ExerciseResult WeightCount(int? answer, QkvProjections projections)
        {
            ArgumentNullException.ThrowIfNull(projections);
            var count = new[] { projections.Query, projections.Key, projections.Value }
                .Sum(p => (p.InputSize * p.OutputSize) + (p.Bias?.Count ?? 0));
            return Exercise.Check("2", answer, count, "Each weight matrix is [d_model x d_k] (or d_v); the number of tokens appears nowhere in it.");
        }

        /// <summary>Exercise 3: the query of the vector x_0 + x_last, written with rows of Q only (projections are linear).</summary>
        /// <param name="answer">The learner's vector.</param>
        /// <param name="tokenVectors">X.</param>
        /// <param name="projections">The projections.</param>
        public static ExerciseResult QueryOfASum(Vector<double>? answer, Matrix<double> tokenVectors, QkvProjections projections)
        {
            ArgumentNullException.ThrowIfNull(tokenVectors);
            ArgumentNullException.ThrowIfNull(projections);
            var sum = Matrix<double>.Build.DenseOfRowVectors(tokenVectors.Row(0) + tokenVectors.Row(tokenVectors.RowCount - 1));
            var expected = projections.Query.Apply(sum).Row(0);
            return Exercise.Check("3", answer, q => q.Count == expected.Count && (q - expected).AbsoluteMaximum() < Tight, "(x_0 + x_last) W_Q = x_0 W_Q + x_last W_Q: add two rows of Q.");
        }
    }
}
