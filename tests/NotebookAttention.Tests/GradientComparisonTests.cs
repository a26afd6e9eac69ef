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
        // The notebook's own settings (GradientComparison.Measure): width 8, 16 hidden units, seed 7, positions for attention.
        var x = GradientComparison.Inputs(40, 8, scale, seed: 7);
        var comparison = GradientComparison.Measure(40, [0.5, 1.3, 2.0], [10, 40], scale);
        foreach (var row in comparison.Recurrent)
        {
            var rnn = ElmanRnn.WithSpectralRadius(16, 8, row.SpectralRadius, seed: 7);
            var numeric = Enumerable.Range(0, 40).Select(t => FiniteDifference(m => rnn.Forward(m).Row(39), x, t).FrobeniusNorm()).ToArray();
            var analytic = rnn.GradientNorms(x);

            // Central differences carry about 1e-10 of rounding error: tiny (vanished) norms are compared absolutely, large ones relatively.
            Assert.All(Enumerable.Range(0, 40), t => Assert.True(Math.Abs(numeric[t] - analytic[t]) < 1e-7 + (1e-6 * analytic[t]), $"radius {row.SpectralRadius}, t = {t}: {numeric[t]:E3} by differences, {analytic[t]:E3} by BPTT"));
            Assert.Equal(GradientFlow.RatePerStep(analytic), row.RatePerStep, 12);
            Assert.Equal(numeric[38], row.AtDistanceOne, 6);
            Assert.Equal(rnn.Forward(x).Enumerate().Max(Math.Abs), row.LargestState, 12);
        }

        var projections = QkvProjections.Create(8, 8, 8, seed: 7);
        var withPositions = PositionalEncoding.AddTo(x);
        var attentionNorms = Enumerable.Range(0, 40).Select(t => FiniteDifference(m => AttentionGradients.LastOutput(projections, m), withPositions, t).FrobeniusNorm()).ToArray();
        var attention = comparison.Attention.Single(r => r.N == 40);
        var attentionAnalytic = AttentionGradients.GradientNorms(projections, withPositions);
        Assert.All(Enumerable.Range(0, 40), t => Assert.True(Math.Abs(attentionNorms[t] - attentionAnalytic[t]) < 1e-7 + (1e-6 * attentionAnalytic[t]), $"attention, t = {t}: {attentionNorms[t]:E3} by differences, {attentionAnalytic[t]:E3} by the chain rule"));
        Assert.Equal(attentionNorms[..^1].Average(), attention.MeanOtherNorm, 7);
        Assert.Equal(attentionNorms[^1], attention.SelfNorm, 7);
        Assert.Equal(GradientFlow.RatePerStep(attentionAnalytic[..^1]), attention.RatePerStep, 12);
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

    [Fact]
    public void Sentences_follow_the_rows_vanishing_exploding_holding_and_dilution()
    {
        RecurrentGradientRow[] rnn =
        [
            new(0.5, 0.9, 0.1, 0.5, 39, 2),     // 0.5^39: vanished, and a radius below 1 is enough
            new(1.0, 1.8, 0.99, 0.9, 39, 2),    // 0.9^39 = 0.016: vanished at radius 1, by saturation
            new(1.3, 2.3, 0.94, 1.08, 39, 3),   // 1.08^39 = 20: exploded, below the radius
            new(2.0, 3.0, 1.0, 1.001, 39, 2),   // held although the radius is above 1
        ];
        AttentionGradientRow[] attention = [new(10, 0.98, 0.3, 0.3, 0.2), new(40, 1.0, 0.075, 0.4, 0.1), new(160, 1.0, 0.3 / 16, 0.4, 0.01)];
        var comparison = new GradientComparison(rnn, attention, 0.01);
        var sentences = comparison.Conclusions;
        Assert.Contains("so the gradient vanished: a radius below 1 is enough", sentences[0], StringComparison.Ordinal);
        Assert.Contains("so the gradient vanished: the states reached |h| = 0.99", sentences[1], StringComparison.Ordinal);
        Assert.DoesNotContain("above 1", sentences[1], StringComparison.Ordinal);
        Assert.Contains("so the gradient exploded. Its rate is below the radius", sentences[2], StringComparison.Ordinal);
        Assert.Contains("so the gradient held", sentences[3], StringComparison.Ordinal);
        Assert.Contains("necessary for exploding, not sufficient", sentences[3], StringComparison.Ordinal);
        Assert.Contains("x1.0000 per step of distance", sentences[4], StringComparison.Ordinal);
        Assert.Contains("it did not vanish with distance", sentences[4], StringComparison.Ordinal);
        Assert.Equal(-1.0, comparison.DilutionExponent, 12);
        Assert.Contains("as n^-1.00: close to 1/n", sentences[5], StringComparison.Ordinal);
        Assert.Contains("x20 attention's", sentences[6], StringComparison.Ordinal);

        AttentionGradientRow[] even = [new(10, 1.0, 0.3, 0.3, 0.3), new(40, 1.0, 0.3, 0.3, 0.3)];
        Assert.Contains("not 1/n", new GradientComparison(rnn, even, 0.01).Conclusions[5], StringComparison.Ordinal);
    }

    [Fact]
    public void Measured_comparison_shows_each_regime_the_notebook_describes()
    {
        // The notebook's cell: with small shared inputs radius 0.5 vanishes, 1.3 explodes and 2 saturates and holds;
        // attention's gradient does not vanish with distance, and its mean falls like 1/n.
        var comparison = GradientComparison.Measure(40, [0.5, 1.0, 1.3, 2.0], [10, 40, 160, 640], 0.01);
        Assert.True(comparison.Recurrent[0].Change < 0.1, $"radius 0.5 changed x{comparison.Recurrent[0].Change:E2}");
        Assert.True(comparison.Recurrent[2].Change > 10, $"radius 1.3 changed x{comparison.Recurrent[2].Change:E2}");
        Assert.True(comparison.Recurrent[2].RatePerStep < 1.3, $"radius 1.3 rate x{comparison.Recurrent[2].RatePerStep}");
        Assert.True(comparison.Recurrent[3].LargestState > 0.99, $"radius 2 reached |h| = {comparison.Recurrent[3].LargestState}");
        Assert.InRange(comparison.Attention[^1].Change, 0.1, 10);
        Assert.InRange(comparison.DilutionExponent, -1.2, -0.8);
        Assert.Equal(comparison.Recurrent.Count + 1, comparison.Curves.Count);
    }

    [Fact]
    public void Bad_rows_and_scales_are_refused_with_the_reason()
    {
        RecurrentGradientRow[] rnn = [new(0.5, 0.9, 0.1, 0.5, 39, 2)];
        AttentionGradientRow[] attention = [new(10, 0.98, 0.3, 0.3, 0.2), new(40, 1.0, 0.075, 0.4, 0.1)];
        var single = Assert.Throws<ArgumentException>(() => new GradientComparison(rnn, attention[..1], 0.01));
        Assert.Contains("at least two attention rows", single.Message, StringComparison.Ordinal);
        var unordered = Assert.Throws<ArgumentException>(() => new GradientComparison([rnn[0], rnn[0]], attention, 0.01));
        Assert.Contains("radii increasing", unordered.Message, StringComparison.Ordinal);
        var zero = Assert.Throws<ArgumentException>(() => new GradientComparison([rnn[0] with { RatePerStep = 0 }], attention, 0.01));
        Assert.Contains("finite number above 0", zero.Message, StringComparison.Ordinal);
        var scale = Assert.Throws<ArgumentOutOfRangeException>(() => GradientComparison.Inputs(4, 2, double.NaN, 1));
        Assert.Contains("input scale", scale.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_exercises_check_answers_computed_from_the_learners_data()
    {
        Assert.True(Exercises.LongRange.DilatedPathAt1000(10).IsCorrect);
        Assert.False(Exercises.LongRange.DilatedPathAt1000(9).IsCorrect);
        Assert.True(Exercises.LongRange.ChainRule(0.25).IsCorrect);
        Assert.False(Exercises.LongRange.ChainRule(0.125).IsCorrect);
        var larger = GradientComparison.Measure(40, [1.3], [10, 40], 1);
        var verdict = larger.Recurrent[0].Change < 0.1 ? "vanishes" : larger.Recurrent[0].Change > 10 ? "explodes" : "holds";
        Assert.True(Exercises.LongRange.RadiusAboveOne(verdict, larger).IsCorrect);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.LongRange.RadiusAboveOne(null, larger).Status);
        Assert.All(Exercises.LongRange.Verdicts.Where(v => v != verdict), v => Assert.False(Exercises.LongRange.RadiusAboveOne(v, larger).IsCorrect));
        var small = GradientComparison.Measure(40, [1.3], [10, 40], 0.01);
        Assert.Contains("inputScale: 1", Exercises.LongRange.RadiusAboveOne(verdict, small).Message, StringComparison.Ordinal);
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
        var comparison = GradientComparison.Measure(12, [0.5, 1.3], [6, 12], 0.01);
        var html = RecurrencePlots.GradientTable(comparison).Html;
        Assert.Contains(FormattableString.Invariant($"data-rate=\"{comparison.Recurrent[1].RatePerStep:R}\""), html, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"data-mean=\"{comparison.Attention[1].MeanOtherNorm:R}\""), html, StringComparison.Ordinal);
        Assert.All(comparison.Conclusions, c => Assert.Contains(System.Net.WebUtility.HtmlEncode(c), html, StringComparison.Ordinal));
        Assert.Contains("untrained weights", RecurrencePlots.GradientCurves(comparison).Title, StringComparison.Ordinal);
    }

    private static Matrix<double> FiniteDifference(Func<Matrix<double>, Vector<double>> f, Matrix<double> x, int t)
    {
        const double h = 1e-6;
        var columns = new List<Vector<double>>();
        for (var c = 0; c < x.ColumnCount; c++)
        {
            var plus = x.Clone();
            var minus = x.Clone();
            plus[t, c] += h;
            minus[t, c] -= h;
            columns.Add((f(plus) - f(minus)) / (2 * h));
        }

        return Matrix<double>.Build.DenseOfColumnVectors(columns);
    }
}
