using System.Text.Json.Nodes;
using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Analysis;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;
using NotebookAttention.Tests.Support;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

/// <summary>Notebook 02's d_k demonstration: what its conclusion says follows from the numbers it measures.</summary>
public class ScalingDemonstrationTests
{
    /// <summary>Notebook 02's default sentence and seeds (its sentence cell, its cell 7 and its d_k cell).</summary>
    private const string DefaultSentence = "Attention lets every word look at every other word.";

    private static ScalingDemonstration NotebookRun(string sentence)
    {
        var tokens = Tokenizer.Words(sentence);
        var x = PositionalEncoding.AddTo(new Embeddings(dimension: 16, seed: 1).Embed(tokens));
        return ScalingDemonstration.Run(x, tokens, smallDk: 8, largeDk: 256, seed: 2);
    }

    [Fact]
    public void On_the_default_sentence_unscaled_weights_get_more_peaked_with_d_k_and_scaled_ones_stay_spread()
    {
        var run = NotebookRun(DefaultSentence);
        var m = run.Measurement;

        Assert.True(m.LargeUnscaled.MeanMaxWeight > m.SmallUnscaled.MeanMaxWeight + WeightSpread.MaxWeightMargin, $"unscaled: d_k = 256 {m.LargeUnscaled}, d_k = 8 {m.SmallUnscaled}");
        Assert.True(m.LargeUnscaled.MeanEntropy < m.SmallUnscaled.MeanEntropy - WeightSpread.EntropyMargin, $"unscaled: d_k = 256 {m.LargeUnscaled}, d_k = 8 {m.SmallUnscaled}");
        Assert.True(m.LargeScaled.MeanMaxWeight < WeightSpread.NearOneHotWeight, $"scaled d_k = 256: {m.LargeScaled}");
        Assert.True(m.LargeScaled.MeanMaxWeight < m.SmallScaled.MeanMaxWeight + WeightSpread.MaxWeightMargin, $"scaled: d_k = 256 {m.LargeScaled}, d_k = 8 {m.SmallScaled}");

        // Spread, yet not the near-uniform map the Xavier projections gave: the scaled rows are far from 1/n.
        Assert.True(m.LargeScaled.MeanEntropy < Math.Log(m.Tokens) - 0.1, $"scaled d_k = 256 is almost uniform: {m.LargeScaled}");
        Assert.Contains("Without the scale, the d_k = 256 map is more peaked than the d_k = 8 map", m.Conclusion, StringComparison.Ordinal);
        Assert.Contains("So the scale removes the growth", m.Conclusion, StringComparison.Ordinal);
    }

    [Fact]
    public void The_xavier_projections_notebook_02_used_before_do_not_show_the_effect()
    {
        // The old demonstration: notebook 01's Xavier projections (variance 2/(d_model + d_k)) at d_model = 16.
        var tokens = Tokenizer.Words(DefaultSentence);
        var x = PositionalEncoding.AddTo(new Embeddings(dimension: 16, seed: 1).Embed(tokens));
        WeightSpread Map(int dK, bool scaled)
        {
            var (q, k, v) = QkvProjections.Create(dModel: 16, dK: dK, dV: 8, seed: 2).Project(x);
            return WeightSpread.Of(ScaledDotProductAttention.Compute(q, k, v, scaled: scaled).Weights);
        }

        var old = new ScalingMeasurement(8, 256, Map(8, false), Map(8, true), Map(256, false), Map(256, true));
        Assert.False(old.UnscaledGetsMorePeaked, old.Conclusion);
        Assert.True(old.SmallUnscaled.MeanMaxWeight > old.LargeUnscaled.MeanMaxWeight, old.Conclusion);
    }

    [Fact]
    public void The_margins_separate_the_effect_of_d_k_from_the_variation_between_seeded_draws()
    {
        var tokens = Tokenizer.Words(DefaultSentence);
        var x = PositionalEncoding.AddTo(new Embeddings(dimension: 16, seed: 1).Embed(tokens));
        var runs = Enumerable.Range(1, 200).Select(seed => ScalingDemonstration.Run(x, tokens, smallDk: 8, largeDk: 256, seed).Measurement).ToList();
        var unscaledShown = runs.Count(m => m.UnscaledGetsMorePeaked);
        var scaledPeaked = runs.Count(m => m.LargeScaled.IsMorePeakedThan(m.SmallScaled));
        Assert.True(unscaledShown >= 180, $"the unscaled d_k = 256 map was more peaked in {unscaledShown} of 200 draws");
        Assert.True(scaledPeaked <= 10, $"the scaled d_k = 256 map was called more peaked in {scaledPeaked} of 200 draws");
    }

    [Fact]
    public void Queries_and_keys_have_unit_variance_entries_at_both_d_k()
    {
        var run = NotebookRun(DefaultSentence);
        Assert.InRange(run.LargeEntryVariance, 0.85, 1.15);
        Assert.InRange(run.SmallEntryVariance, 0.6, 1.4);
    }

    [Fact]
    public void The_maps_are_softmax_of_the_shown_queries_and_keys_the_small_d_k_taking_their_first_columns()
    {
        var run = NotebookRun(DefaultSentence);
        var n = run.Tokens.Count;
        var smallQ = run.Queries.SubMatrix(0, n, 0, run.SmallDk);
        var smallK = run.Keys.SubMatrix(0, n, 0, run.SmallDk);
        AssertClose(Softmax.Rows(smallQ * smallK.Transpose()), run.SmallUnscaled);
        AssertClose(Softmax.Rows(smallQ * smallK.Transpose() / Math.Sqrt(run.SmallDk)), run.SmallScaled);
        AssertClose(Softmax.Rows(run.Queries * run.Keys.Transpose()), run.LargeUnscaled);
        AssertClose(Softmax.Rows(run.Queries * run.Keys.Transpose() / Math.Sqrt(run.LargeDk)), run.LargeScaled);
        Assert.Equal(run.LargeDk, run.Queries.ColumnCount);
    }

    private static void AssertClose(Matrix<double> expected, Matrix<double> actual) =>
        Assert.True((expected - actual).InfinityNorm() < 1e-12, $"largest row difference {(expected - actual).InfinityNorm()}");

    [Fact]
    public void The_grid_shows_small_d_k_above_large_unscaled_left_labelled_with_the_tokens()
    {
        var run = NotebookRun(DefaultSentence);
        var grid = Plots.Scaling(run);
        Assert.Equal(2, grid.Columns);
        Assert.Equal(["d_k = 8, no scale", "d_k = 8, scaled by 1/√d_k", "d_k = 256, no scale", "d_k = 256, scaled by 1/√d_k"], grid.Figures.Select(f => f.Title));
        var maps = new[] { run.SmallUnscaled, run.SmallScaled, run.LargeUnscaled, run.LargeScaled };
        for (var i = 0; i < maps.Length; i++)
        {
            var figure = JsonNode.Parse(grid.Figures[i].Json)!;
            Assert.Equal(maps[i][3, 1], (double)figure["data"]![0]!["z"]![3]![1]!, 9);
            Assert.Equal(run.Tokens, figure["layout"]!["yaxis"]!["ticktext"]!.AsArray().Select(t => (string)t!));
        }
    }

    [Fact]
    public void Scaling_that_spreads_the_weights_is_concluded_as_such()
    {
        var m = new ScalingMeasurement(
            8,
            256,
            smallUnscaled: new WeightSpread(0.60, 1.20, 10),
            smallScaled: new WeightSpread(0.35, 1.80, 10),
            largeUnscaled: new WeightSpread(0.97, 0.10, 10),
            largeScaled: new WeightSpread(0.34, 1.85, 10));

        Assert.True(m.UnscaledGetsMorePeaked);
        Assert.True(m.ScaledStaysSpread);
        Assert.Equal(
            "Without the scale, the d_k = 256 map is more peaked than the d_k = 8 map, near one-hot (mean max weight 0.970 against 0.600, mean entropy 0.100 against 1.200 nats). "
            + "With 1/√d_k, the d_k = 256 map stays about as spread as the d_k = 8 map (mean max weight 0.340 against 0.350, mean entropy 1.850 against 1.800 nats). "
            + "So the scale removes the growth of the weights' peakedness with d_k, as the variance measurement above predicts.",
            m.Conclusion);
    }

    [Fact]
    public void The_old_xavier_numbers_do_not_make_the_conclusion_claim_more_peaked()
    {
        // The numbers issue 11 reports for the Xavier projections: unscaled d_k = 8 more peaked (0.78) than d_k = 256 (0.63).
        var m = new ScalingMeasurement(
            8,
            256,
            smallUnscaled: new WeightSpread(0.78, 0.70, 10),
            smallScaled: new WeightSpread(0.30, 1.90, 10),
            largeUnscaled: new WeightSpread(0.63, 1.10, 10),
            largeScaled: new WeightSpread(0.11, 2.30, 10));

        Assert.False(m.UnscaledGetsMorePeaked);
        Assert.Contains("the d_k = 256 map is not more peaked than the d_k = 8 map; it is less peaked", m.Conclusion, StringComparison.Ordinal);
        Assert.Contains("is more spread than", m.Conclusion, StringComparison.Ordinal);
        Assert.Contains("does not show what the variance measurement above predicts", m.Conclusion, StringComparison.Ordinal);
    }

    [Fact]
    public void Scaling_that_leaves_the_large_map_peaked_is_said_plainly()
    {
        var m = new ScalingMeasurement(
            8,
            256,
            smallUnscaled: new WeightSpread(0.60, 1.20, 10),
            smallScaled: new WeightSpread(0.35, 1.80, 10),
            largeUnscaled: new WeightSpread(0.97, 0.10, 10),
            largeScaled: new WeightSpread(0.95, 0.20, 10));

        Assert.False(m.ScaledStaysSpread);
        Assert.Contains("With 1/√d_k, the d_k = 256 map is still more peaked than the d_k = 8 map, near one-hot", m.Conclusion, StringComparison.Ordinal);
        Assert.Contains("does not show", m.Conclusion, StringComparison.Ordinal);
    }

    [Fact]
    public void One_token_has_nothing_to_spread_and_the_conclusion_says_so()
    {
        var run = NotebookRun("увага");
        Assert.Equal(1, run.Measurement.Tokens);
        Assert.StartsWith("With one token every weight is 1", run.Measurement.Conclusion, StringComparison.Ordinal);
        Assert.DoesNotContain("more peaked", run.Measurement.Conclusion, StringComparison.Ordinal);
    }

    [Fact]
    public void The_report_prints_the_numbers_the_conclusion_is_drawn_from()
    {
        var run = NotebookRun(DefaultSentence);
        var report = run.Report();
        var m = run.Measurement;
        foreach (var map in new[] { m.SmallUnscaled, m.SmallScaled, m.LargeUnscaled, m.LargeScaled })
        {
            Assert.Contains(map.MeanMaxWeight.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), report, StringComparison.Ordinal);
            Assert.Contains(map.MeanEntropy.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), report, StringComparison.Ordinal);
        }

        Assert.EndsWith(m.Conclusion, string.Join(' ', report.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("The animal didn't cross the street because it was too tired.")]
    [InlineData("a b")]
    [InlineData("word")]
    public void The_report_fits_the_page_and_wraps_only_between_words(string sentence)
    {
        var run = NotebookRun(sentence);
        var report = run.Report();
        var lines = report.Split(Environment.NewLine);
        Assert.All(lines, line => Assert.True(line.Length <= ScalingMeasurement.ReportWidth, $"{line.Length} characters: {line}"));
        Assert.Contains(lines, line => line.Length > ScalingMeasurement.ReportWidth - 30);   // long sentences are filled, not cut early
        Assert.EndsWith(run.Measurement.Conclusion, report.Replace(Environment.NewLine, " ", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void The_conclusion_claims_more_peaked_exactly_when_the_numbers_show_it()
    {
        var cases =
            from keys in Gen.Int[2, 40]
            from maps in Spread(keys).Array[4]
            select new ScalingMeasurement(8, 256, maps[0], maps[1], maps[2], maps[3]);

        Property.Holds(cases, m =>
        {
            var unscaledShows = m.LargeUnscaled.MeanMaxWeight - m.SmallUnscaled.MeanMaxWeight >= WeightSpread.MaxWeightMargin
                && m.SmallUnscaled.MeanEntropy - m.LargeUnscaled.MeanEntropy >= WeightSpread.EntropyMargin;
            var scaledShows = m.LargeScaled.MeanMaxWeight - m.SmallScaled.MeanMaxWeight >= WeightSpread.MaxWeightMargin
                && m.SmallScaled.MeanEntropy - m.LargeScaled.MeanEntropy >= WeightSpread.EntropyMargin;
            var claim = m.Conclusion;

            Assert.Equal(unscaledShows, claim.Contains("Without the scale, the d_k = 256 map is more peaked than", StringComparison.Ordinal));
            Assert.Equal(scaledShows, claim.Contains("With 1/√d_k, the d_k = 256 map is still more peaked than", StringComparison.Ordinal));
            if (claim.Contains("near one-hot", StringComparison.Ordinal))
            {
                Assert.True(m.LargeUnscaled.MeanMaxWeight >= WeightSpread.NearOneHotWeight || m.LargeScaled.MeanMaxWeight >= WeightSpread.NearOneHotWeight, claim);
            }

            var removesGrowth = claim.Contains("So the scale removes the growth", StringComparison.Ordinal);
            Assert.Equal(unscaledShows && !scaledShows && m.LargeScaled.MeanMaxWeight < WeightSpread.NearOneHotWeight, removesGrowth);
        });
    }

    [Fact]
    public void Bad_inputs_are_refused_with_what_to_do()
    {
        var tokens = Tokenizer.Words(DefaultSentence);
        var x = PositionalEncoding.AddTo(new Embeddings(dimension: 16, seed: 1).Embed(tokens));
        Assert.Throws<ArgumentOutOfRangeException>(() => ScalingDemonstration.Run(x, tokens, smallDk: 8, largeDk: 8, seed: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ScalingDemonstration.Run(x, tokens, smallDk: 0, largeDk: 8, seed: 2));
        Assert.Throws<ArgumentException>(() => ScalingDemonstration.Run(x, tokens.Take(3).ToList(), smallDk: 8, largeDk: 256, seed: 2));

        var constant = Matrix<double>.Build.Dense(2, 4, 0.5);
        var error = Assert.Throws<ArgumentException>(() => ScalingDemonstration.Run(constant, ["a", "b"], smallDk: 1, largeDk: 2, seed: 2));
        Assert.Contains("row 0 of X is constant", error.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightSpread(0.05, 1.0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightSpread(0.5, Math.Log(10) + 0.01, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightSpread(double.NaN, 1.0, 10));
        Assert.Throws<ArgumentException>(() => new ScalingMeasurement(8, 256, new WeightSpread(0.5, 1, 10), new WeightSpread(0.5, 1, 10), new WeightSpread(0.5, 1, 10), new WeightSpread(0.5, 1, 9)));
    }

    /// <summary>Spreads a softmax row over <paramref name="keys"/> keys can have, often close to the comparison margins.</summary>
    private static Gen<WeightSpread> Spread(int keys) =>
        from maxWeight in Gen.Frequency((3, Gen.Double[1.0 / keys, 1]), (1, Gen.OneOf(Gen.Const(0.5), Gen.Const(0.65), Gen.Const(0.9), Gen.Const(0.95))))
        from entropy in Gen.Frequency((3, Gen.Double[0, Math.Log(keys)]), (1, Gen.Const(Math.Min(0.5, Math.Log(keys)))), (1, Gen.Const(Math.Min(0.8, Math.Log(keys)))))
        select new WeightSpread(Math.Max(maxWeight, 1.0 / keys), entropy, keys);
}
