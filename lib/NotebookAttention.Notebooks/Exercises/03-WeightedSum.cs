using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 03.</content>
public static partial class Exercises
{
    /// <summary>03 · The weighted sum.</summary>
    public static class WeightedSum
    {
        /// <summary>
        /// Exercise 1: attention whose values are all the same vector (V's row 0 on every row). Right when every output
        /// row is that vector: the weights of a row sum to 1.
        /// </summary>
        /// <param name="output">The learner's output, [tokens x d_v].</param>
        /// <param name="result">The notebook's attention result.</param>
        public static ExerciseResult IdenticalValues(Matrix<double>? output, AttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            var value = result.Values.Row(0);
            return Exercise.Check(
                "1",
                output,
                o => o.RowCount == result.Output.RowCount && o.ColumnCount == value.Count
                    && Enumerable.Range(0, o.RowCount).All(i => (o.Row(i) - value).AbsoluteMaximum() < 1e-12),
                "every output row should be V's row 0: build V with V.Row(0) on every row (Matrix<double>.Build.DenseOfRowVectors), then attend with Q and K unchanged.");
        }

        /// <summary>
        /// Exercise 2: without positions, the learner's sentence reversed: which output row of the reversed sentence
        /// equals output row 0 of the sentence as typed? Checked by running both.
        /// </summary>
        /// <param name="answer">A row of the reversed sentence's output.</param>
        /// <param name="tokens">The learner's tokens.</param>
        /// <param name="embeddings">The notebook's embedding table.</param>
        /// <param name="projections">The notebook's projections.</param>
        public static ExerciseResult RowAfterReversing(int? answer, IReadOnlyList<string> tokens, Embeddings embeddings, QkvProjections projections)
        {
            ArgumentNullException.ThrowIfNull(tokens);
            ArgumentNullException.ThrowIfNull(embeddings);
            ArgumentNullException.ThrowIfNull(projections);
            Matrix<double> OutputOf(IReadOnlyList<string> words)
            {
                var (q, k, v) = projections.Project(embeddings.Embed(words));   // no positions
                return ScaledDotProductAttention.Compute(q, k, v).Output;
            }

            var typed = OutputOf(tokens);
            var reversed = OutputOf([.. tokens.Reverse()]);
            var matching = Enumerable.Range(0, tokens.Count).Where(j => (reversed.Row(j) - typed.Row(0)).AbsoluteMaximum() < 1e-12).ToList();
            var expected = answer is { } row && matching.Contains(row) ? row : tokens.Count - 1;
            return Exercise.Check("2", answer, expected, $"Your sentence has {tokens.Count} tokens; after reversing, where does token 0 stand? Without positions, attention does not know where a token stands.");
        }

        /// <summary>Exercise 3: row 0's output if all of row 0's scores were equal: the mean of the value vectors.</summary>
        /// <param name="answer">The learner's vector.</param>
        /// <param name="result">The notebook's attention result.</param>
        public static ExerciseResult EqualScoresOutput(Vector<double>? answer, AttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            var uniform = Vector<double>.Build.Dense(result.Values.RowCount, 1.0 / result.Values.RowCount);
            var expected = uniform * result.Values;   // Σ_j (1/n) v_j
            return Exercise.Check("3", answer, o => o.Count == expected.Count && (o - expected).AbsoluteMaximum() < 1e-12, "equal scores give equal weights, 1/n each, so the output is the average of the value rows (result.Values.ColumnSums() / n).");
        }
    }
}
