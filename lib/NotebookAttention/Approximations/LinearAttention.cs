using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Fast;

namespace NotebookAttention.Approximations;

/// <summary>
/// Linear attention (Katharopoulos et al., 2020, "Transformers are RNNs"): the similarity exp(q . k) is replaced
/// by phi(q) . phi(k) with the positive feature map phi(x) = elu(x) + 1. Then
/// output_i = phi(q_i)^T (sum_j phi(k_j) v_j^T) / (phi(q_i)^T sum_j phi(k_j)),
/// and the two sums are computed once for all queries: O(n d d_v) instead of O(n^2 d). It is not an approximation
/// of softmax attention: it is a different similarity, and a model using it is trained end to end with it, so its
/// outputs are not compared with softmax attention's (on untrained projections that would measure nothing about
/// its quality). Performer (Choromanski et al., 2021) is the kind of method that approximates softmax attention.
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
    /// <remarks>
    /// The features are handled as logarithms, log phi(x) = x for x &lt;= 0 and ln(1 + x) above, because phi itself
    /// leaves the fp64 range at the extremes: phi(-800) = e^-800 is 0 in fp64 (so the ratio would be 0/0), and
    /// phi(1e200)^2 overflows. Each feature column of the keys is shifted by its largest logarithm, and each query row
    /// by its largest shifted logarithm; both factors cancel between numerator and denominator, and the denominator
    /// keeps a term that is exactly 1, so it is never 0. V is scaled by a power of two (exact) so the sums of up to m
    /// values cannot overflow.
    /// </remarks>
    public static Matrix<double> Compute(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, bool causal = false)
    {
        CheckShapes(queries, keys, values, causal);
        var (scaledValues, exponent) = ScaledByPowerOfTwo(values);   // V = 2^exponent Ṽ, |Ṽ| < 2
        var logQ = LogFeatures(queries);                                // [n x d] log phi(Q)
        var logK = LogFeatures(keys);                                   // [m x d] log phi(K)
        if (!causal)
        {
            var shift = Vector<double>.Build.Dense(keys.ColumnCount, t => logK.Column(t).Maximum());      // [d] largest log phi(k_jt)
            var shiftedK = logK.MapIndexed((_, t, x) => Math.Exp(x - shift[t]), Zeros.Include);                          // [m x d] in (0, 1]
            var kv = shiftedK.TransposeThisAndMultiply(scaledValues);                                      // [d x d_v] = sum_j phi~(k_j) v~_j^T
            var z = shiftedK.ColumnSums();                                                                 // [d], each >= 1
            var queryWeights = RowShiftedExp(logQ.MapIndexed((_, t, x) => x + shift[t], Zeros.Include));                  // [n x d] in (0, 1]
            var numerator = queryWeights * kv;                                                             // [n x d_v]
            var denominator = queryWeights * z;                                                            // [n], each >= 1
            return numerator.MapIndexed((i, _, value) => Math.ScaleB(value / denominator[i], exponent));
        }

        var d = queries.ColumnCount;
        var dv = values.ColumnCount;
        var output = Matrix<double>.Build.Dense(queries.RowCount, dv);
        var runningKv = new double[d, dv];
        var runningZ = new double[d];
        var runningShift = Enumerable.Repeat(double.NegativeInfinity, d).ToArray();
        var weights = new double[d];
        for (var i = 0; i < queries.RowCount; i++)
        {
            for (var t = 0; t < d; t++)
            {
                var logFeature = logK[i, t];
                if (logFeature > runningShift[t])
                {
                    // A new largest feature in column t: rescale the running sums to the new shift.
                    var rescale = Math.Exp(runningShift[t] - logFeature);
                    for (var c = 0; c < dv; c++)
                    {
                        runningKv[t, c] *= rescale;
                    }

                    runningZ[t] *= rescale;
                    runningShift[t] = logFeature;
                }

                var feature = Math.Exp(logFeature - runningShift[t]);
                for (var c = 0; c < dv; c++)
                {
                    runningKv[t, c] += feature * scaledValues[i, c];
                }

                runningZ[t] += feature;
            }

            var largest = double.NegativeInfinity;
            for (var t = 0; t < d; t++)
            {
                weights[t] = logQ[i, t] + runningShift[t];
                largest = Math.Max(largest, weights[t]);
            }

            var denominator = 0.0;
            for (var t = 0; t < d; t++)
            {
                weights[t] = Math.Exp(weights[t] - largest);
                denominator += weights[t] * runningZ[t];
            }

            for (var c = 0; c < dv; c++)
            {
                var numerator = 0.0;
                for (var t = 0; t < d; t++)
                {
                    numerator += weights[t] * runningKv[t, c];
                }

                output[i, c] = Math.ScaleB(numerator / denominator, exponent);
            }
        }

        return output;
    }

    /// <summary>
    /// The same model on the fast fp32 kernel <see cref="FastLinearAttention"/> (SIMD, all cores), for measurements;
    /// the inputs are converted to fp32 and the output back.
    /// </summary>
    /// <param name="queries">Q [n x d].</param>
    /// <param name="keys">K [n x d].</param>
    /// <param name="values">V [n x d_v].</param>
    /// <param name="causal">Token i uses keys 0..i only.</param>
    /// <returns>The output [n x d_v].</returns>
    public static Matrix<double> ComputeFast(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, bool causal = false)
    {
        var (q, k, v, n, d, dv) = FastLinearAttention.SelfAttentionInputs(queries, keys, values);
        var output = new float[n * dv];
        FastLinearAttention.Compute(q, k, v, output, n, d, dv, causal);
        return Fp32.ToMatrix(output, n, dv);
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
    /// <remarks>
    /// Each similarity is kept as its logarithm, ln s_ij = logsumexp_t(log phi(q_it) + log phi(k_jt)), and each row
    /// is shifted by its largest one before exponentiating (the shift cancels in the ratio), so similarities below or
    /// above the fp64 range keep their proportions.
    /// </remarks>
    public static Matrix<double> ComputeQuadratic(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, bool causal = false)
    {
        CheckShapes(queries, keys, values, causal);
        var (scaledValues, exponent) = ScaledByPowerOfTwo(values);
        var logQ = LogFeatures(queries);
        var logK = LogFeatures(keys);
        var terms = new double[queries.ColumnCount];
        var logSimilarities = Matrix<double>.Build.Dense(queries.RowCount, keys.RowCount, (i, j) =>   // [n x m] ln s_ij
        {
            if (causal && j > i)
            {
                return double.NegativeInfinity;
            }

            for (var t = 0; t < terms.Length; t++)
            {
                terms[t] = logQ[i, t] + logK[j, t];
            }

            var largest = terms.Max();
            return largest + Math.Log(terms.Sum(x => Math.Exp(x - largest)));
        });
        var similarities = RowShiftedExp(logSimilarities);   // [n x m] s_ij / max_j s_ij, masked pairs 0
        var rowSums = similarities.RowSums();
        return (similarities * scaledValues).MapIndexed((i, _, value) => Math.ScaleB(value / rowSums[i], exponent));
    }

    /// <summary>log phi(x) = log(elu(x) + 1): x for x &lt;= 0, ln(1 + x) above; finite wherever x is.</summary>
    private static Matrix<double> LogFeatures(Matrix<double> x) => x.Map(v => v > 0 ? Math.Log(v + 1) : v);

    /// <summary>exp(x - row maximum) for every entry: each row's largest entry becomes exactly 1.</summary>
    private static Matrix<double> RowShiftedExp(Matrix<double> logs)
    {
        var largest = Vector<double>.Build.Dense(logs.RowCount, i => logs.Row(i).Maximum());
        return logs.MapIndexed((i, _, x) => Math.Exp(x - largest[i]), Zeros.Include);
    }

    /// <summary>V = 2^exponent Ṽ with |Ṽ| &lt; 2: scaling by a power of two is exact, and the output is linear in V.</summary>
    private static (Matrix<double> Scaled, int Exponent) ScaledByPowerOfTwo(Matrix<double> values)
    {
        var largest = values.Enumerate().Max(Math.Abs);
        var exponent = largest > 0 ? Math.ILogB(largest) : 0;
        return (values.Map(v => Math.ScaleB(v, -exponent)), exponent);
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
