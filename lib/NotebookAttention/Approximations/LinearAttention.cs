using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Approximations;

/// <summary>
/// Linear attention (Katharopoulos et al., 2020, "Transformers are RNNs"): the similarity exp(q . k) is replaced
/// by phi(q) . phi(k) with the positive feature map phi(x) = elu(x) + 1. Then
/// output_i = phi(q_i)^T (sum_j phi(k_j) v_j^T) / (phi(q_i)^T sum_j phi(k_j)),
/// and the two sums are computed once for all queries: O(n d d_v) instead of O(n^2 d). It is not softmax
/// attention, so its outputs differ from exact attention; the series measures by how much.
/// </summary>
public static class LinearAttention
{
    /// <summary>The feature map phi(x) = elu(x) + 1: x + 1 for x &gt; 0, exp(x) otherwise. Always positive.</summary>
    /// <param name="x">A matrix.</param>
    /// <returns>phi applied to every entry.</returns>
    public static Matrix<double> FeatureMap(Matrix<double> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return x.Map(v => v > 0 ? v + 1 : Math.Exp(v));
    }

    /// <summary>Linear attention in O(n d d_v).</summary>
    /// <param name="queries">Q [n x d].</param>
    /// <param name="keys">K [m x d].</param>
    /// <param name="values">V [m x d_v].</param>
    /// <param name="causal">Token i uses keys 0..i only (running sums, as an RNN would).</param>
    /// <returns>The output [n x d_v].</returns>
    public static Matrix<double> Compute(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, bool causal = false)
    {
        CheckShapes(queries, keys, values, causal);
        var phiQ = FeatureMap(queries);                    // [n x d]
        var phiK = FeatureMap(keys);                       // [m x d]
        if (!causal)
        {
            var kv = phiK.TransposeThisAndMultiply(values);  // [d x d_v] = sum_j phi(k_j) v_j^T
            var z = phiK.ColumnSums();                       // [d]        = sum_j phi(k_j)
            var numerator = phiQ * kv;                       // [n x d_v]
            var denominator = phiQ * z;                      // [n]
            return numerator.MapIndexed((i, _, value) => value / denominator[i]);
        }

        var output = Matrix<double>.Build.Dense(queries.RowCount, values.ColumnCount);
        var runningKv = Matrix<double>.Build.Dense(queries.ColumnCount, values.ColumnCount);
        var runningZ = Vector<double>.Build.Dense(queries.ColumnCount);
        for (var i = 0; i < queries.RowCount; i++)
        {
            runningKv += phiK.Row(i).OuterProduct(values.Row(i));
            runningZ += phiK.Row(i);
            var phi = phiQ.Row(i);
            output.SetRow(i, (phi * runningKv) / phi.DotProduct(runningZ));
        }

        return output;
    }

    /// <summary>
    /// The same model computed the slow way, pair by pair: output_i = sum_j s_ij v_j / sum_j s_ij with
    /// s_ij = phi(q_i) . phi(k_j). O(n^2 d); only here to prove that <see cref="Compute"/> regroups it exactly.
    /// </summary>
    /// <param name="queries">Q [n x d].</param>
    /// <param name="keys">K [m x d].</param>
    /// <param name="values">V [m x d_v].</param>
    /// <param name="causal">Token i uses keys 0..i only.</param>
    /// <returns>The output [n x d_v].</returns>
    public static Matrix<double> ComputeQuadratic(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, bool causal = false)
    {
        CheckShapes(queries, keys, values, causal);
        var similarities = FeatureMap(queries) * FeatureMap(keys).Transpose();   // [n x m], all positive
        if (causal)
        {
            similarities.MapIndexedInplace((i, j, s) => j <= i ? s : 0);
        }

        var rowSums = similarities.RowSums();
        return (similarities * values).MapIndexed((i, _, value) => value / rowSums[i]);
    }

    private static void CheckShapes(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, bool causal)
    {
        Check.Finite(queries, "queries Q", nameof(queries));
        Check.Finite(keys, "keys K", nameof(keys));
        Check.Finite(values, "values V", nameof(values));
        if (queries.ColumnCount != keys.ColumnCount || keys.RowCount != values.RowCount || (causal && queries.RowCount != keys.RowCount))
        {
            throw new ArgumentException(
                $"Q is {Check.Shape(queries)}, K is {Check.Shape(keys)} and V is {Check.Shape(values)}: Q and K need the same d, K and V the same number of rows{(causal ? ", and a causal mask needs as many queries as keys" : string.Empty)}.",
                nameof(keys));
        }
    }
}
