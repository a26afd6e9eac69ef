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
        AttentionChecks.WeightsMeetValues(weights, values);
        return OfUnchecked(weights, values);
    }

    /// <summary><see cref="Of"/> on inputs an entry point has checked: finite, one column of A per row of V.</summary>
    internal static Matrix<double> OfUnchecked(Matrix<double> weights, Matrix<double> values)
    {
        var output = weights * values;   // O = A V  [queries x d_v]
        AttentionChecks.WeightedSumInRange(output);
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
        AttentionChecks.WeightsMeetValues(weights, values);
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

        AttentionChecks.WeightedSumInRange(output);
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
        AttentionChecks.WeightedSumGradient(weights, values, outputGradient);
        return BackwardUnchecked(weights, values, outputGradient);
    }

    /// <summary><see cref="Backward"/> on shapes an entry point has checked.</summary>
    internal static (Matrix<double> DWeights, Matrix<double> DValues) BackwardUnchecked(Matrix<double> weights, Matrix<double> values, Matrix<double> outputGradient)
    {
        var weightGradient = outputGradient.TransposeAndMultiply(values);   // dA = dO V^T  [queries x keys]
        var valueGradient = weights.TransposeThisAndMultiply(outputGradient); // dV = A^T dO [keys x d_v]
        return (weightGradient, valueGradient);
    }
}
