using System.Globalization;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using MathNet.Numerics.Statistics;
using NotebookAttention.Attention;

namespace NotebookAttention.Analysis;

/// <summary>
/// The 1/sqrt(d_k) scale shown on a sentence: queries and keys at a small and a large d_k whose entries have
/// variance 1 at both, so d_k is the only thing that changes; their weights without and with the scale, measured.
/// </summary>
/// <remarks>
/// <para>
/// Why not the Xavier projections of notebook 01: their weights have variance 2/(d_model + d_k), so with d_model
/// fixed the queries and keys shrink as d_k grows and the unscaled scores do not grow like d_k (at d_model = 16 the
/// unscaled d_k = 8 map came out more peaked than the d_k = 256 one, and the scaled d_k = 256 map almost uniform).
/// </para>
/// <para>
/// Here each token vector is standardized (mean 0 and variance 1 over its features, a LayerNorm without gain) and
/// multiplied by seeded random weights of variance 1/d_model. Given the token, every entry of q and k is then a
/// sum of d_model terms with variance exactly 1 and independent of the other entries: the assumption of Vaswani
/// et al. (2017, footnote 4) under which q . k has variance d_k. The words still shape the map (a repeated word
/// gets the same query and key), which independent random rows per token would not. The small-d_k queries and
/// keys are the first columns of the large-d_k ones. The weights are untrained.
/// </para>
/// </remarks>
public sealed class ScalingDemonstration
{
    private ScalingDemonstration(
        IReadOnlyList<string> tokens,
        Matrix<double> queries,
        Matrix<double> keys,
        double smallEntryVariance,
        double largeEntryVariance,
        (Matrix<double> Unscaled, Matrix<double> Scaled) small,
        (Matrix<double> Unscaled, Matrix<double> Scaled) large,
        ScalingMeasurement measurement)
    {
        Tokens = tokens;
        Queries = queries;
        Keys = keys;
        SmallEntryVariance = smallEntryVariance;
        LargeEntryVariance = largeEntryVariance;
        SmallUnscaled = small.Unscaled;
        SmallScaled = small.Scaled;
        LargeUnscaled = large.Unscaled;
        LargeScaled = large.Scaled;
        Measurement = measurement;
    }

    /// <summary>The tokens: rows and columns of every map.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Queries at the large d_k, [tokens x large d_k]; the small d_k uses their first columns.</summary>
    public Matrix<double> Queries { get; }

    /// <summary>Keys at the large d_k, [tokens x large d_k]; the small d_k uses their first columns.</summary>
    public Matrix<double> Keys { get; }

    /// <summary>The small d_k.</summary>
    public int SmallDk => Measurement.SmallDk;

    /// <summary>The large d_k.</summary>
    public int LargeDk => Measurement.LargeDk;

    /// <summary>Measured variance of the entries of Q and K at the small d_k (1 by construction, up to sampling).</summary>
    public double SmallEntryVariance { get; }

    /// <summary>Measured variance of the entries of Q and K at the large d_k (1 by construction, up to sampling).</summary>
    public double LargeEntryVariance { get; }

    /// <summary>Weights softmax(Q K^T) at the small d_k, [tokens x tokens].</summary>
    public Matrix<double> SmallUnscaled { get; }

    /// <summary>Weights softmax(Q K^T / sqrt(d_k)) at the small d_k, [tokens x tokens].</summary>
    public Matrix<double> SmallScaled { get; }

    /// <summary>Weights softmax(Q K^T) at the large d_k, [tokens x tokens].</summary>
    public Matrix<double> LargeUnscaled { get; }

    /// <summary>Weights softmax(Q K^T / sqrt(d_k)) at the large d_k, [tokens x tokens].</summary>
    public Matrix<double> LargeScaled { get; }

    /// <summary>How spread each map is, and the conclusion drawn from those numbers.</summary>
    public ScalingMeasurement Measurement { get; }

    /// <summary>Projects a sentence's token vectors to unit-variance queries and keys at two d_k and measures their weights.</summary>
    /// <param name="x">Token vectors X, [tokens x d_model], d_model at least 2, no row constant.</param>
    /// <param name="tokens">One label per row of <paramref name="x"/>.</param>
    /// <param name="smallDk">The small d_k, at least 1.</param>
    /// <param name="largeDk">The large d_k, above <paramref name="smallDk"/>.</param>
    /// <param name="seed">Seed of the random projections.</param>
    /// <returns>The four weight maps and their measurement.</returns>
    /// <exception cref="ArgumentException">X is empty, not finite, has a constant row, or the labels do not match its rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The d_k values are not 1 &lt;= small &lt; large, d_model is 1, or the maps would not fit in memory.</exception>
    public static ScalingDemonstration Run(Matrix<double> x, IReadOnlyList<string> tokens, int smallDk, int largeDk, int seed)
    {
        Check.Finite(x, "X", nameof(x));
        ArgumentNullException.ThrowIfNull(tokens);
        Check.Labels(tokens, x.RowCount, "X", nameof(tokens));
        Check.AtLeast(x.ColumnCount, 2, "d_model (the columns of X; one feature cannot be standardized)", nameof(x));
        Check.AtLeast(smallDk, 1, "the small d_k", nameof(smallDk));
        Check.AtLeast(largeDk, smallDk + 1, $"the large d_k (the small one is {smallDk})", nameof(largeDk));
        Check.Fits(x.ColumnCount, largeDk, 2, "the projections W_Q and W_K", "choose a smaller d_k", nameof(largeDk));
        Check.Fits(x.RowCount, largeDk, 2, "the queries and keys", "choose a smaller d_k or a shorter text", nameof(largeDk));

        // Four weight maps kept, plus the scores and the scaled scores of one d_k at a time.
        Check.ReferenceFits(x.RowCount, x.RowCount, 6, "the d_k demonstration");

        var standardized = Standardize(x);                                                   // [tokens x d_model]
        var normal = new Normal(0, 1 / Math.Sqrt(x.ColumnCount), new Xoshiro256StarStar(seed, threadSafe: false));
        var queries = standardized * Matrix<double>.Build.Random(x.ColumnCount, largeDk, normal); // [tokens x largeDk]
        var keys = standardized * Matrix<double>.Build.Random(x.ColumnCount, largeDk, normal);    // [tokens x largeDk]
        var smallQueries = queries.SubMatrix(0, queries.RowCount, 0, smallDk);                  // [tokens x smallDk]
        var smallKeys = keys.SubMatrix(0, keys.RowCount, 0, smallDk);

        var small = WeightsOf(smallQueries, smallKeys);
        var large = WeightsOf(queries, keys);
        var measurement = new ScalingMeasurement(
            smallDk,
            largeDk,
            WeightSpread.Of(small.Unscaled),
            WeightSpread.Of(small.Scaled),
            WeightSpread.Of(large.Unscaled),
            WeightSpread.Of(large.Scaled));
        return new ScalingDemonstration(tokens, queries, keys, EntryVariance(smallQueries, smallKeys), EntryVariance(queries, keys), small, large, measurement);
    }

    /// <summary>The measured variance of the Q and K entries, then <see cref="ScalingMeasurement.Report"/>.</summary>
    /// <returns>Several lines of text.</returns>
    public string Report() =>
        ScalingMeasurement.Wrap(string.Create(CultureInfo.InvariantCulture, $"Entries of Q and K: measured variance {SmallEntryVariance:0.00} at d_k = {SmallDk}, {LargeEntryVariance:0.00} at d_k = {LargeDk} (each entry has variance 1 by construction)."))
        + Environment.NewLine + Measurement.Report();

    /// <inheritdoc />
    public override string ToString() => Measurement.Conclusion;

    private static (Matrix<double> Unscaled, Matrix<double> Scaled) WeightsOf(Matrix<double> queries, Matrix<double> keys)
    {
        var scores = Scores.Compute(queries, keys, scaled: false);                           // [tokens x tokens]
        var unscaled = Softmax.Rows(scores);
        var scaled = Softmax.Rows(scores.Multiply(Scores.ScaleFactor(queries.ColumnCount)));
        return (unscaled, scaled);
    }

    private static Matrix<double> Standardize(Matrix<double> x)
    {
        var standardized = x.Clone();
        for (var token = 0; token < x.RowCount; token++)
        {
            var row = x.Row(token);
            var mean = row.Average();
            var variance = row.PopulationVariance();
            if (!(variance > 0))
            {
                throw new ArgumentException(
                    $"row {token} of X is constant ({row[0]} in every column): a constant token vector has no direction to standardize; give the tokens distinct vectors (for example add positional encodings).",
                    nameof(x));
            }

            standardized.SetRow(token, row.Subtract(mean).Divide(Math.Sqrt(variance)));
        }

        return standardized;
    }

    private static double EntryVariance(Matrix<double> queries, Matrix<double> keys) =>
        queries.Enumerate().Concat(keys.Enumerate()).Variance();
}
