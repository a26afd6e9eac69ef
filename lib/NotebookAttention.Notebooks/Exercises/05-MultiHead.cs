using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 05.</content>
public static partial class Exercises
{
    /// <summary>05 · Multi-head attention.</summary>
    public static class MultiHead
    {
        /// <summary>Largest d_model exercise 1 builds (four [d_model x d_model] matrices of doubles: 32 MB at 1024).</summary>
        public const int LargestDModel = 1024;

        /// <summary>
        /// Exercise 1: the parameter count of <c>new MultiHeadAttention(dModel, heads)</c>, predicted before running;
        /// the right count is read from the matrices of a layer built here.
        /// </summary>
        /// <param name="answer">The learner's prediction, or null while unanswered.</param>
        /// <param name="dModel">The d_model the learner picked.</param>
        /// <param name="heads">The h the learner picked.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult ParameterCount(int? answer, int dModel, int heads)
        {
            if (dModel < 1 || dModel > LargestDModel)
            {
                return Exercise.Check("1", answer, -1, $"pick d_model from 1 to {LargestDModel}, so the layer fits in memory.");
            }

            if (heads < 1 || dModel % heads != 0)
            {
                return Exercise.Check("1", answer, -1, $"this constructor gives each head d_model / h columns: pick h dividing {dModel}.");
            }

            var layer = new MultiHeadAttention(dModel, heads, seed: 0);
            return Exercise.Check("1", answer, checked((int)layer.ParameterCount), "Count the numbers in W_Q, W_K, W_V and W_O: how many rows and columns does each have?");
        }

        /// <summary>
        /// Exercise 2: a layer whose heads do not divide d_model (5 heads of width 4 over d_model = 16), built by the
        /// learner, and its parameter count predicted before running.
        /// </summary>
        /// <param name="layer">The learner's layer, or null while unanswered.</param>
        /// <param name="parameters">The learner's predicted count, or null while unanswered.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult FiveHeadsOfFour(MultiHeadAttention? layer, int? parameters) =>
            Exercise.Check(
                "2",
                parameters is null ? null : layer,
                l => l.DModel == 16 && l.Heads == 5 && l.HeadDK == 4 && l.HeadDV == 4 && l.OutputProjection.OutputSize == 16 && l.ParameterCount == parameters,
                layer is null || layer.DModel != 16 || layer.Heads != 5 || layer.HeadDK != 4 || layer.HeadDV != 4 || layer.OutputProjection.OutputSize != 16
                    ? "The layer needs d_model = 16 in and out, 5 heads, and 4 columns per head for Q, K and V: W_Q is [16 x 20], W_O [20 x 16]."
                    : $"The layer is right but it has {layer.ParameterCount} parameters, not {parameters}: add up rows x columns of the four matrices.");

        /// <summary>
        /// Exercise 3: the learner runs the layer on the token vectors (no positions) in another order; attention
        /// without positions is permutation equivariant, so the output must be the original output in that order.
        /// </summary>
        /// <param name="permutedOutput">The layer's output on the permuted rows, or null while unanswered.</param>
        /// <param name="order">The order: row i of the permuted input is row order[i] of the original.</param>
        /// <param name="layer">The layer.</param>
        /// <param name="tokenVectors">The original token vectors, without positions.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult PermutationEquivariance(Matrix<double>? permutedOutput, int[] order, MultiHeadAttention layer, Matrix<double> tokenVectors)
        {
            ArgumentNullException.ThrowIfNull(order);
            ArgumentNullException.ThrowIfNull(layer);
            ArgumentNullException.ThrowIfNull(tokenVectors);
            if (order.Length != tokenVectors.RowCount || order.Order().Where((row, i) => row != i).Any())
            {
                return Exercise.Check("3", permutedOutput, _ => false, $"order must list every row 0 to {tokenVectors.RowCount - 1} once.");
            }

            var original = layer.Forward(tokenVectors).Output;   // [tokens x d_model]
            var expected = Matrix<double>.Build.DenseOfRowVectors(order.Select(original.Row));
            return Exercise.Check(
                "3",
                permutedOutput,
                output => output.RowCount == expected.RowCount && output.ColumnCount == expected.ColumnCount && (output - expected).InfinityNorm() <= Tight,
                "Build the permuted input with Matrix<double>.Build.DenseOfRowVectors(order.Select(xWithoutPositions.Row)), run layer.Forward on it and keep .Output. Did you add positions?");
        }
    }
}
