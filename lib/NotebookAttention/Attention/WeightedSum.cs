using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Attention;

/// <summary>
/// The output of attention: each query's weighted sum of the values, output_i = sum_j A[i, j] v_j,
/// which for all queries at once is the matrix product A V.
/// </summary>
public static class WeightedSum
{
    /// <summary>The matrix form: O = A V, shape [queries x d_v].</summary>
    /// <param name="weights">A, shape [queries x keys], from <see cref="Softmax.Rows"/>.</param>
    /// <param name="values">V, shape [keys x d_v].</param>
    /// <returns>O.</returns>
    /// <exception cref="ArgumentException">A has a column count different from the row count of V, or A V overflows fp64.</exception>
    public static Matrix<double> Of(Matrix<double> weights, Matrix<double> values)
    {
        CheckShapes(weights, values);
        var output = weights * values;
        Check.NoOverflow(output, "the weighted sum A V", "A or V is too large (softmax weights are at most 1, so V is); scale V down", nameof(values));
        return output;
    }

    /// <summary>
    /// The loop form, one query at a time: output_i = sum_j A[i, j] v_j. Same result as <see cref="Of"/>
    /// (up to rounding), written the way the equation reads.
    /// </summary>
    /// <param name="weights">A, shape [queries x keys].</param>
    /// <param name="values">V, shape [keys x d_v].</param>
    /// <returns>O, shape [queries x d_v].</returns>
    public static Matrix<double> OfLoops(Matrix<double> weights, Matrix<double> values)
    {
        CheckShapes(weights, values);
        var output = Matrix<double>.Build.Dense(weights.RowCount, values.ColumnCount);
        for (var query = 0; query < weights.RowCount; query++)
        {
            var sum = Vector<double>.Build.Dense(values.ColumnCount);
            for (var key = 0; key < values.RowCount; key++)
            {
                sum += weights[query, key] * values.Row(key);
            }

            output.SetRow(query, sum);
        }

        Check.NoOverflow(output, "the weighted sum A V", "A or V is too large (softmax weights are at most 1, so V is); scale V down", nameof(values));
        return output;
    }

    /// <summary>
    /// Backward pass of O = A V: dA = dO V^T [queries x keys] and dV = A^T dO [keys x d_v].
    /// </summary>
    /// <param name="weights">A, shape [queries x keys].</param>
    /// <param name="values">V, shape [keys x d_v].</param>
    /// <param name="outputGradient">dO = dLoss/dO, shape [queries x d_v].</param>
    /// <returns>dA and dV.</returns>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public static (Matrix<double> DWeights, Matrix<double> DValues) Backward(Matrix<double> weights, Matrix<double> values, Matrix<double> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(outputGradient);
        if (weights.ColumnCount != values.RowCount || outputGradient.RowCount != weights.RowCount || outputGradient.ColumnCount != values.ColumnCount)
        {
            throw new ArgumentException(
                $"A is {Check.Shape(weights)}, V is {Check.Shape(values)} and dO is {Check.Shape(outputGradient)}: dO needs the shape of A V.",
                nameof(outputGradient));
        }

        var weightGradient = outputGradient.TransposeAndMultiply(values);   // dA = dO V^T  [queries x keys]
        var valueGradient = weights.TransposeThisAndMultiply(outputGradient); // dV = A^T dO [keys x d_v]
        return (weightGradient, valueGradient);
    }

    private static void CheckShapes(Matrix<double> weights, Matrix<double> values)
    {
        Check.Finite(weights, "attention weights A", nameof(weights));
        Check.Finite(values, "values V", nameof(values));
        if (weights.ColumnCount != values.RowCount)
        {
            throw new ArgumentException(
                $"A is {Check.Shape(weights)} but V is {Check.Shape(values)}: A needs one column per value (one per key), so {values.RowCount} columns.",
                nameof(values));
        }
    }
}
