using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Tokens;

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
        /// Exercise 1: the parameter count of <c>new MultiHeadAttention(dModel, heads, bias: true)</c>, a layer with a
        /// bias on each of its four projections as PyTorch's <c>nn.MultiheadAttention</c> has by default, predicted
        /// before running; the right count is read from the matrices and biases of a layer built here.
        /// </summary>
        /// <param name="answer">The learner's prediction, or null while unanswered.</param>
        /// <param name="dModel">The d_model the learner picked.</param>
        /// <param name="heads">The h the learner picked.</param>
        public static ExerciseResult ParameterCountWithBiases(int? answer, int dModel, int heads)
        {
            if (dModel < 1 || dModel > LargestDModel)
            {
                return Exercise.Check("1", answer, -1, $"pick d_model from 1 to {LargestDModel}, so the layer fits in memory.");
            }

            if (heads < 1 || dModel % heads != 0)
            {
                return Exercise.Check("1", answer, -1, $"this constructor gives each head d_model / h columns: pick h dividing {dModel}.");
            }

            var layer = new MultiHeadAttention(dModel, heads, seed: 0, bias: true);
            return Exercise.Check("1", answer, checked((int)layer.ParameterCount), "Count the numbers in W_Q, W_K, W_V and W_O (rows x columns), then the biases: a bias holds one number per output column of its projection.");
        }

        /// <summary>Per-head query and key width in exercise 2.</summary>
        public const int FiveHeadsDK = 4;

        /// <summary>Per-head value width in exercise 2.</summary>
        public const int FiveHeadsDV = 6;

        /// <summary>
        /// Exercise 2: a layer whose heads do not divide d_model (5 heads, queries and keys of width 4, values of width 6,
        /// over d_model = 16), built by the learner, and its parameter count predicted before running.
        /// </summary>
        /// <param name="layer">The learner's layer, or null while unanswered.</param>
        /// <param name="parameters">The learner's predicted count, or null while unanswered.</param>
        public static ExerciseResult FiveHeadsOfFourAndSix(MultiHeadAttention? layer, int? parameters)
        {
            var shapeRight = layer is not null && layer.DModel == 16 && layer.Heads == 5 && layer.HeadDK == FiveHeadsDK && layer.HeadDV == FiveHeadsDV
                && layer.OutputProjection.OutputSize == 16;
            return Exercise.Check(
                "2",
                parameters is null ? null : layer,
                l => shapeRight && l.ParameterCount == parameters,
                !shapeRight
                    ? $"The layer needs d_model = 16 in and out, 5 heads, {FiveHeadsDK} columns per head for Q and K and {FiveHeadsDV} for V: W_Q and W_K are [16 x {5 * FiveHeadsDK}], W_V [16 x {5 * FiveHeadsDV}], W_O [{5 * FiveHeadsDV} x 16]."
                    : $"The layer is right but it has {layer!.ParameterCount} parameters, not {parameters}: add up rows x columns of the four matrices, which are not all the same shape here.");
        }

        /// <summary>
        /// Exercise 3: the learner runs the layer on the token vectors in another order, with or without positions added
        /// after reordering. Right when the learner's output is that run's output; the verdict then says whether it is
        /// the original output (same positions choice) in the new order, which holds without positions for every order
        /// (permutation equivariance) and with positions only when the order leaves every token in place.
        /// </summary>
        /// <param name="permutedOutput">The layer's output on the reordered rows, or null while unanswered.</param>
        /// <param name="order">The order: row i of the reordered input is row order[i] of the original.</param>
        /// <param name="addPositions">Whether positions are added to the reordered rows (position i to new row i).</param>
        /// <param name="layer">The layer.</param>
        /// <param name="tokenVectors">The original token vectors, without positions.</param>
        public static ExerciseResult PermutationEquivariance(Matrix<double>? permutedOutput, int[] order, bool addPositions, MultiHeadAttention layer, Matrix<double> tokenVectors)
        {
            ArgumentNullException.ThrowIfNull(order);
            ArgumentNullException.ThrowIfNull(layer);
            ArgumentNullException.ThrowIfNull(tokenVectors);
            if (order.Length != tokenVectors.RowCount || order.Order().Where((row, i) => row != i).Any())
            {
                return Exercise.Check("3", permutedOutput, _ => false, $"order must list every row 0 to {tokenVectors.RowCount - 1} once.");
            }

            Matrix<double> WithPositions(Matrix<double> rows) => addPositions ? PositionalEncoding.AddTo(rows) : rows;
            var reordered = Matrix<double>.Build.DenseOfRowVectors(order.Select(tokenVectors.Row));             // P X
            var run = layer.Forward(WithPositions(reordered)).Output;                                           // Forward(P X [+ PE])
            var original = layer.Forward(WithPositions(tokenVectors)).Output;                                   // Forward(X [+ PE])
            var originalReordered = Matrix<double>.Build.DenseOfRowVectors(order.Select(original.Row));         // P Forward(X [+ PE])
            if (permutedOutput is null)
            {
                return Exercise.Check("3", permutedOutput, _ => false, string.Empty);
            }

            if (permutedOutput.RowCount != run.RowCount || permutedOutput.ColumnCount != run.ColumnCount || (permutedOutput - run).InfinityNorm() > Tight)
            {
                return new ExerciseResult(
                    "3",
                    ExerciseStatus.Wrong,
                    addPositions
                        ? "that is not the layer's output on the reordered rows with positions: reorder the rows of xWithoutPositions first (Matrix<double>.Build.DenseOfRowVectors(order.Select(xWithoutPositions.Row))), then PositionalEncoding.AddTo, then layer.Forward(...).Output."
                        : "that is not the layer's output on the reordered rows: build them with Matrix<double>.Build.DenseOfRowVectors(order.Select(xWithoutPositions.Row)), run layer.Forward on them and keep .Output, with no positions.");
            }

            var difference = Differences.Largest(run, originalReordered);   // NaN (and so not equal) if anything is not finite
            var moved = order.Where((row, i) => row != i).Count();
            var verdict = difference <= Tight
                ? string.Create(CultureInfo.InvariantCulture, $"its rows are the original output's rows in the new order (largest difference {difference:0.0e0}), with {moved} of {order.Length} tokens moved{(addPositions ? "" : " and no positions")}.")
                : string.Create(CultureInfo.InvariantCulture, $"its rows are NOT the original output's rows in the new order (largest difference {difference:0.00}){(addPositions ? $": with positions added after reordering, {moved} of {order.Length} tokens got another position, so the layer saw other vectors" : "")}.");
            return new ExerciseResult("3", ExerciseStatus.Correct, $"right, that is the layer's output; {verdict}");
        }
    }
}
