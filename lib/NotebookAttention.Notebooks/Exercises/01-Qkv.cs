using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 01.</content>
public static partial class Exercises
{
    /// <summary>01 · Queries, keys and values.</summary>
    public static class Qkv
    {
        /// <summary>Exercise 1: the number of rows of Q.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="queries">Q.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult RowsOfQ(int? answer, Matrix<double> queries)
        {
            ArgumentNullException.ThrowIfNull(queries);
            return Exercise.Check("1", answer, queries.RowCount, "Q has one row per token of your sentence.");
        }

        /// <summary>Exercise 2: the number of columns of W_K.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="projections">The projections.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult ColumnsOfWk(int? answer, QkvProjections projections)
        {
            ArgumentNullException.ThrowIfNull(projections);
            return Exercise.Check("2", answer, projections.Key.OutputSize, "W_K turns a d_model vector into a key of length d_k.");
        }

        /// <summary>Exercise 3: the query of token 0, computed by hand as x_0 W_Q.</summary>
        /// <param name="answer">The learner's vector.</param>
        /// <param name="tokenVectors">X.</param>
        /// <param name="projections">The projections.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult FirstQuery(Vector<double>? answer, Matrix<double> tokenVectors, QkvProjections projections)
        {
            ArgumentNullException.ThrowIfNull(tokenVectors);
            ArgumentNullException.ThrowIfNull(projections);
            var expected = projections.Query.Apply(tokenVectors).Row(0);
            return Exercise.Check("3", answer, q => q.Count == expected.Count && (q - expected).AbsoluteMaximum() < Tight, "Multiply the row vector x.Row(0) by the matrix projections.Query.Weight.");
        }
    }
}
