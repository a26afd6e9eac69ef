using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Notebooks;
using NotebookAttention.Recurrence;
using NotebookAttention.Tests.Support;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests;

/// <summary>Notebook 07's gradient comparison: its norms against finite differences, and its sentences against its rows.</summary>
public class GradientComparisonTests
{
    [Theory]
    [InlineData(0.01)]
    [InlineData(1.0)]
    public void The_norms_the_notebook_summarizes_match_finite_differences_for_both_models(double scale)
    {
        // The notebook's own settings (GradientComparison.Measure): width 8, 16 hidden units, positions for attention;
        // the RNN reads a burn-in first, then the shared inputs, and only the shared inputs are measured.
        var shared = GradientComparison.Inputs(40, 8, scale, seed: 7);
        var x = Matrix<double>.Build.DenseOfMatrixArray(new[,] { { GradientComparison.Inputs(GradientComparison.BurnIn, 8, scale, 7 + 1_000_000) }, { shared } });
        var comparison = GradientComparison.Measure(40, [0.5, 1.3, 2.0], [10, 40], scale, seeds: [7]);
        var last = x.RowCount - 1;
        foreach (var row in comparison.Recurrent)
        {
            var rnn = ElmanRnn.WithSpectralRadius(16, 8, row.SpectralRadius, seed: 7);
            var numeric = Enumerable.Range(0, 40).Select(d => NumericGradients.JacobianOfRow(m => rnn.Forward(m).Row(last), x, last - d).FrobeniusNorm()).ToArray();   // index = distance
            var seed = row.Seeds.Single();

            // Central differences carry about 1e-10 of rounding error: tiny (vanished) norms are compared absolutely, large ones relatively.
            var analytic = rnn.GradientNorms(x).Reverse().Take(40).ToArray();
            Assert.All(Enumerable.Range(0, 40), d => Assert.True(Math.Abs(numeric[d] - analytic[d]) < 1e-7 + (1e-6 * analytic[d]), $"radius {row.SpectralRadius}, distance {d}: {numeric[d]:E3} by differences, {analytic[d]:E3} by BPTT"));
            Assert.Equal(GradientComparison.RateOver(analytic, 0, 19), seed.NearRate, 12);
            Assert.Equal(GradientComparison.RateOver(analytic, 20, 39), seed.LateRate, 12);
            Assert.Equal(numeric[1], seed.AtDistanceOne, 6);
            Assert.Equal(rnn.Forward(x).SubMatrix(GradientComparison.BurnIn, 40, 0, 16).Enumerate().Max(Math.Abs), seed.LargestState, 12);
            Assert.Equal(GradientComparison.RateOver([.. rnn.GradientNorms(shared).Reverse()], 30, 39), seed.StartRate, 12);
            Assert.Equal(rnn.Recurrent.Svd().S[0], seed.LargestSingularValue, 9);
        }

        var projections = QkvProjections.Create(8, 8, 8, seed: 7);
        var withPositions = PositionalEncoding.AddTo(shared);
        var attentionNorms = Enumerable.Range(0, 40).Select(t => NumericGradients.JacobianOfRow(m => AttentionGradients.LastOutput(projections, m), withPositions, t).FrobeniusNorm()).ToArray();
        var attention = comparison.Attention.Single(r => r.N == 40);
        var attentionAnalytic = AttentionGradients.GradientNorms(projections, withPositions);
        Assert.All(Enumerable.Range(0, 40), t => Assert.True(Math.Abs(attentionNorms[t] - attentionAnalytic[t]) < 1e-7 + (1e-6 * attentionAnalytic[t]), $"attention, t = {t}: {attentionNorms[t]:E3} by differences, {attentionAnalytic[t]:E3} by the chain rule"));
        Assert.Equal(attentionNorms[..^1].Average(), attention.MeanOtherNorm, 7);
        Assert.Equal(attentionNorms[..^1].Max(), attention.LargestOtherNorm, 7);
        Assert.Equal(attentionNorms[^1], attention.SelfNorm, 7);
        Assert.Equal(GradientFlow.RatePerStep(attentionAnalytic[..^1]), attention.RatePerStep, 12);
        var weights = ScaledDotProductAttention.Compute(projections.Project(withPositions).Queries, projections.Project(withPositions).Keys, projections.Project(withPositions).Values).Weights.Row(39);
        Assert.Equal(weights.SubVector(0, 39).Maximum(), attention.LargestOtherWeight, 12);
    }

    [Fact]
    public void Without_positions_one_attention_layer_cannot_depend_on_distance()
    {
        // Swapping two earlier tokens swaps their gradients and changes nothing else: the layer sees a set, not an order.
        var cases =
            from n in Gen.Int[3, 12]
            from dModel in Gen.Int[1, 6]
            from seed in Gen.Int
            from x in Generators.Matrix(n, dModel, bound: 2)
            from i in Gen.Int[0, n - 2]
            from j in Gen.Int[0, n - 2]
            select (projections: QkvProjections.Create(dModel, 4, 3, seed), x, i, j);
        Property.Holds(cases, c =>
        {
            var swapped = c.x.Clone();
            swapped.SetRow(c.i, c.x.Row(c.j));
            swapped.SetRow(c.j, c.x.Row(c.i));
            var before = AttentionGradients.GradientNorms(c.projections, c.x);
            var after = AttentionGradients.GradientNorms(c.projections, swapped);
            (after[c.i], after[c.j]) = (after[c.j], after[c.i]);
            Assert.All(Enumerable.Range(0, before.Length), t => Assert.Equal(before[t], after[t], 9));
        });
    }

    [Fact]
    public void The_inputs_are_shared_prefixes_of_the_same_scale()
    {
        var longer = GradientComparison.Inputs(640, 8, 0.01, seed: 7);
        Assert.Equal(GradientComparison.Inputs(40, 8, 0.01, seed: 7), longer.SubMatrix(0, 40, 0, 8));
        var deviation = Math.Sqrt(longer.Enumerate().Select(v => v * v).Average());
        Assert.InRange(deviation, 0.009, 0.011);
    }

    private static RecurrentGradientRow Row(double radius, double singular, double state, double start, params double[] rates) =>
        new(radius, 40, [.. rates.Select((r, i) => new RecurrentSeedRow(i + 1, singular, state, start, r, r, 2))]);

    [Fact]
    public void Sentences_follow_the_rows_vanishing_exploding_holding_and_no_single_verdict()
    {
        RecurrentGradientRow[] rnn =
        [
            Row(0.5, 0.9, 0.1, 0.5, 0.5, 0.48),       // vanished, states small, sigma_max < 1 sufficient
            Row(1.0, 1.8, 0.99, 1.0, 0.6, 0.7),       // vanished at radius 1 by saturation
            Row(1.3, 2.3, 0.94, 1.28, 1.2, 1.3),      // exploded at every seed
            Row(1.5, 2.5, 0.3, 1.4, 0.9, 1.1),        // held, states small: no saturation blamed
            Row(2.0, 3.0, 1.0, 1.7, 0.5, 1.2),        // rates cross the band: no single verdict, start-up effect
        ];
        AttentionGradientRow[] attention = [new(10, 0.98, 0.3, 0.6, 0.2, 0.3, 0.2), new(40, 1.0, 0.075, 0.15, 0.05, 0.4, 0.1), new(160, 1.0, 0.3 / 16, 0.6 / 16, 0.2 / 16, 0.4, 0.01)];
        var comparison = new GradientComparison(rnn, attention, 0.01);
        var sentences = comparison.Conclusions;
        Assert.Contains("so the gradient vanished with distance: every rate is below 1", sentences[0], StringComparison.Ordinal);
        Assert.Contains("σ_max < 1 at every seed, which with tanh is sufficient for vanishing", sentences[0], StringComparison.Ordinal);
        Assert.Contains("The states stayed small", sentences[0], StringComparison.Ordinal);
        Assert.Contains("so the gradient vanished with distance", sentences[1], StringComparison.Ordinal);
        Assert.Contains("|h| = 0.99, where tanh's slope 1 − h² is small", sentences[1], StringComparison.Ordinal);
        Assert.Contains("so the gradient exploded with distance: every rate is above 1", sentences[2], StringComparison.Ordinal);
        Assert.Contains("so the gradient held at every seed", sentences[3], StringComparison.Ordinal);
        Assert.DoesNotContain("saturation", sentences[3], StringComparison.Ordinal);
        Assert.Contains("necessary for exploding with tanh, not sufficient", sentences[3], StringComparison.Ordinal);
        Assert.Contains("no single verdict", sentences[4], StringComparison.Ordinal);
        Assert.Contains("first 10 steps grew by x1.70 per step", sentences[4], StringComparison.Ordinal);
        Assert.DoesNotContain("start-up", sentences[2], StringComparison.Ordinal);   // 1.28 is not above the chain's own 1.3
        Assert.Contains("it did not vanish with distance", sentences[5], StringComparison.Ordinal);
        Assert.Equal(-1.0, comparison.LargestGradientExponent, 12);
        Assert.Contains("diluted by length", sentences[6], StringComparison.Ordinal);
        Assert.Contains("x20 attention's", sentences[7], StringComparison.Ordinal);

        // Concentrated weights: the mean still falls like 1/n, the largest gradient and weight do not.
        AttentionGradientRow[] peaked = [new(10, 1.0, 0.3, 2.0, 0.5, 0.3, 0.3), new(40, 1.0, 0.075, 1.9, 0.45, 0.3, 0.3), new(160, 1.0, 0.3 / 16, 1.9, 0.45, 0.3, 0.3)];
        var notDiluted = new GradientComparison(rnn, peaked, 0.01).Conclusions[6];
        Assert.Contains("not diluted", notDiluted, StringComparison.Ordinal);
        Assert.DoesNotContain("diluted by length", notDiluted, StringComparison.Ordinal);
    }

    [Fact]
    public void The_printed_verdicts_hold_across_seeds_1_to_10_and_chain_lengths()
    {
        // The notebook's settings (inputs of scale 0.01, radii 0.5, 1, 1.3, 2), at four chain lengths: the verdict of
        // each radius must not change, and every seed's rates must lie where the verdict says.
        string[] expected = ["so the gradient vanished", "so the gradient held", "no single verdict", "no single verdict"];
        foreach (var steps in new[] { 20, 40, 80, 160 })
        {
            var comparison = GradientComparison.Measure(steps, [0.5, 1.0, 1.3, 2.0], [10, 40], 0.01);
            for (var i = 0; i < expected.Length; i++)
            {
                var row = comparison.Recurrent[i];
                Assert.True(comparison.Conclusions[i].Contains(expected[i], StringComparison.Ordinal), $"{steps} steps, radius {row.SpectralRadius}: {comparison.Conclusions[i]}");
                Assert.Equal(Enumerable.Range(1, 10), row.Seeds.Select(s => s.Seed));
            }

            Assert.All(comparison.Recurrent[0].Seeds, s => Assert.True(s.NearRate < 0.6 && s.LateRate < 0.6, $"{steps} steps, radius 0.5, seed {s.Seed}: x{s.NearRate}, x{s.LateRate}"));
            Assert.All(comparison.Recurrent[1].Seeds, s => Assert.InRange(s.LateRate, 0.9, 1.05));
            Assert.True(comparison.Recurrent[1].LargestState < 0.5, "radius 1 with small inputs stays nearly linear");

            // Above radius 1 the states saturate, and the growth of a chain started at rest is a start-up effect.
            Assert.All(comparison.Recurrent.Skip(2), r => Assert.True(r.LargestState > 0.9 && r.MedianStartRate > r.HighestRate, $"{steps} steps, radius {r.SpectralRadius}: |h| {r.LargestState}, start x{r.MedianStartRate}, highest x{r.HighestRate}"));
            Assert.All(comparison.Conclusions.Skip(2).Take(2), c => Assert.Contains("a start-up effect", c, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Spread_attention_is_diluted_at_every_seed_and_peaked_attention_is_not()
    {
        foreach (var seed in Enumerable.Range(1, 10))
        {
            var spread = GradientComparison.Measure(10, [0.5], [10, 40, 160, 640], 0.01, seeds: [seed]);
            Assert.True(spread.Conclusions[^2].Contains("diluted by length", StringComparison.Ordinal), $"seed {seed}: {spread.Conclusions[^2]}");
            Assert.True(spread.LargestGradientExponent < -0.5 && spread.LargestWeightExponent < -0.5, $"seed {seed}");
        }

        // W_Q scaled up: the weights concentrate; the mean still falls like 1/n but the verdict must not say diluted.
        foreach (var queryScale in new[] { 10.0, 30.0 })
        {
            var peaked = GradientComparison.Measure(10, [0.5], [10, 40, 160, 640], 0.01, seeds: [7], queryScale: queryScale);
            Assert.InRange(peaked.DilutionExponent, -1.2, -0.6);
            Assert.DoesNotContain("diluted by length", peaked.Conclusions[^2], StringComparison.Ordinal);
            Assert.Contains("not diluted", peaked.Conclusions[^2], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_exercises_check_answers_computed_from_the_learners_data()
    {
        Assert.True(Exercises.LongRange.DilatedPathAt1000(10).IsCorrect);
        Assert.False(Exercises.LongRange.DilatedPathAt1000(9).IsCorrect);
        Assert.True(Exercises.LongRange.ChainRule(0.25).IsCorrect);
        Assert.False(Exercises.LongRange.ChainRule(0.125).IsCorrect);
        var larger = GradientComparison.Measure(40, [1.3], [10, 40], 1);
        var rate = larger.Recurrent[0].MedianLateRate;
        Assert.True(rate < 1, $"with inputs of scale 1 the far-half rate of radius 1.3 is x{rate}, the solution says below 1");
        Assert.True(larger.Recurrent[0].LargestState > 0.99, "the solution says the states saturate");
        Assert.True(larger.Recurrent[0].HighestRate < 1, $"the solution says every rate is below 1; the highest is x{larger.Recurrent[0].HighestRate}");
        Assert.True(larger.Recurrent[0].SmallestSingularValue > 1.8, "the solution says σ_max is 1.83 or more");

        // The solution's text quotes the far-half median and range of this measurement.
        var far = larger.Recurrent[0].Seeds.Select(s => s.LateRate).ToList();
        Assert.Equal("0.70 0.56 0.87", FormattableString.Invariant($"{rate:0.00} {far.Min():0.00} {far.Max():0.00}"));
        Assert.Contains("so the gradient vanished", larger.Conclusions[0], StringComparison.Ordinal);
        Assert.True(Exercises.LongRange.RadiusAboveOne(Math.Round(rate, 2), larger).IsCorrect);
        Assert.False(Exercises.LongRange.RadiusAboveOne(Math.Round(rate, 2) + 0.02, larger).IsCorrect);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.LongRange.RadiusAboveOne(null, larger).Status);
        var small = GradientComparison.Measure(40, [1.3], [10, 40], 0.01);
        var refused = Exercises.LongRange.RadiusAboveOne(Math.Round(small.Recurrent[0].MedianLateRate, 2), small);
        Assert.False(refused.IsCorrect);
        Assert.Contains("inputScale: 1", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Table_1_sets_the_papers_columns_beside_the_searched_lengths()
    {
        var figure = RecurrencePlots.PathLengthCurves([Architecture.Recurrent, Architecture.Convolution(3), Architecture.DilatedConvolution(2), Architecture.SelfAttention], [8, 16]);
        foreach (var cell in new[] { "O(n·d²)", "O(k·n·d²)", "O(n²·d)", "O(n/k) (section 4)", "O(log_k n) (Table 1)", "complexity per layer", "sequential operations" })
        {
            Assert.Contains(System.Net.WebUtility.HtmlEncode(cell), figure.TableHtml, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Gradient_table_carries_every_number_its_sentences_use()
    {
        var comparison = GradientComparison.Measure(12, [0.5, 1.3], [6, 12], 0.01, seeds: [1, 2]);
        var html = RecurrencePlots.GradientTable(comparison).Html;
        var seed = comparison.Recurrent[1].Seeds[1];
        Assert.Contains(FormattableString.Invariant($"2:{seed.LargestSingularValue:R}:{seed.LargestState:R}:{seed.StartRate:R}:{seed.NearRate:R}:{seed.LateRate:R}:{seed.AtDistanceOne:R}"), html, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"data-weight=\"{comparison.Attention[1].LargestOtherWeight:R}\""), html, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"data-mean=\"{comparison.Attention[1].MeanOtherNorm:R}\""), html, StringComparison.Ordinal);
        Assert.All(comparison.Conclusions, c => Assert.Contains(System.Net.WebUtility.HtmlEncode(c), html, StringComparison.Ordinal));
        Assert.Contains("untrained weights", RecurrencePlots.GradientCurves(comparison).Title, StringComparison.Ordinal);
    }
}
