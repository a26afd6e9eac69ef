using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Recurrence;

/// <summary>
/// How strongly each input reaches the output of the last token through one self-attention layer:
/// the Jacobian d y_T / d x_t, written out from the chain rule.
/// </summary>
/// <remarks>
/// With q = W_Q x_T, k_j = W_K x_j, v_j = W_V x_j (column vectors), a = softmax(K q / sqrt(d)) and y_T = sum_j a_j v_j:
/// for t != T, d y_T / d x_t = a_t [W_V + (v_t - y_T) (W_K^T q)^T / sqrt(d)]; for t = T the query also moves, adding
/// sum_j a_j v_j (k_j - k̄)^T W_Q / sqrt(d) with k̄ = sum_j a_j k_j. Every input is one step from the output, so the
/// size of this Jacobian does not shrink with the distance T - t: it follows the attention weight a_t.
/// </remarks>
public static class AttentionGradients
{
    /// <summary>d y_T / d x_t for the last token T of a single-head self-attention layer (no mask).</summary>
    /// <param name="projections">W_Q, W_K, W_V (biases are allowed; they do not change the Jacobian).</param>
    /// <param name="inputs">X, [tokens x d_model].</param>
    /// <param name="step">t.</param>
    /// <returns>[d_v x d_model].</returns>
    public static Matrix<double> Jacobian(QkvProjections projections, Matrix<double> inputs, int step)
    {
        ArgumentNullException.ThrowIfNull(projections);
        ArgumentNullException.ThrowIfNull(inputs);
        if ((uint)step >= (uint)inputs.RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"step {step} is not among the {inputs.RowCount} tokens: use 0 to {inputs.RowCount - 1}.");
        }

        return new LastToken(projections, inputs).Jacobian(step);
    }

    /// <summary>||d y_T / d x_t|| (Frobenius norm) for every t.</summary>
    /// <param name="projections">The layer's projections.</param>
    /// <param name="inputs">X, [tokens x d_model].</param>
    /// <returns>One norm per input position.</returns>
    public static double[] GradientNorms(QkvProjections projections, Matrix<double> inputs)
    {
        ArgumentNullException.ThrowIfNull(projections);
        ArgumentNullException.ThrowIfNull(inputs);
        var last = new LastToken(projections, inputs);
        return [.. Enumerable.Range(0, inputs.RowCount).Select(t => last.Jacobian(t).FrobeniusNorm())];
    }

    /// <summary>The last token's output y_T, for finite-difference checks.</summary>
    /// <param name="projections">The layer's projections.</param>
    /// <param name="inputs">X.</param>
    /// <returns>y_T.</returns>
    public static Vector<double> LastOutput(QkvProjections projections, Matrix<double> inputs)
    {
        ArgumentNullException.ThrowIfNull(projections);
        var (queries, keys, values) = projections.Project(inputs);
        return ScaledDotProductAttention.Compute(queries, keys, values).Output.Row(inputs.RowCount - 1);
    }

    /// <summary>The forward pass of the last token, computed once and shared by the Jacobians of every input.</summary>
    private sealed class LastToken
    {
        private readonly Matrix<double> keys;
        private readonly Matrix<double> values;
        private readonly Vector<double> weights;       // a, one per key
        private readonly Vector<double> output;        // y_T = sum_j a_j v_j
        private readonly Matrix<double> wq;            // [d_k x d_model]: q = wq x
        private readonly Matrix<double> wv;
        private readonly Vector<double> keyDirection;  // W_K^T q / sqrt(d)
        private readonly double scale;

        public LastToken(QkvProjections projections, Matrix<double> inputs)
        {
            var (queries, projectedKeys, projectedValues) = projections.Project(inputs);
            keys = projectedKeys;
            values = projectedValues;
            scale = Scores.ScaleFactor(projections.DK);
            var q = queries.Row(inputs.RowCount - 1);
            weights = Softmax.Stable(keys * q * scale);
            output = values.TransposeThisAndMultiply(weights);
            wq = projections.Query.Weight.Transpose();
            wv = projections.Value.Weight.Transpose();
            keyDirection = projections.Key.Weight.Transpose().TransposeThisAndMultiply(q) * scale;
        }

        public Matrix<double> Jacobian(int step)
        {
            var last = keys.RowCount - 1;
            var jacobian = weights[step] * (wv + (values.Row(step) - output).OuterProduct(keyDirection));
            if (step == last)
            {
                var meanKey = keys.TransposeThisAndMultiply(weights);                // k̄
                for (var j = 0; j <= last; j++)
                {
                    jacobian += weights[j] * values.Row(j).OuterProduct(wq.TransposeThisAndMultiply(keys.Row(j) - meanKey) * scale);
                }
            }

            return jacobian;
        }
    }
}
