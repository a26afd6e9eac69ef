using CsCheck;
using NotebookAttention.Tests.Support;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>
/// Notebook 10's conclusions follow from its table: hand-made tables (the LSTM failing early, attention failing, ties,
/// a model that holds again after failing, a gradient that underflowed) give the sentences their numbers support,
/// and nothing else.
/// </summary>
public class LongRangeReportTests
{
    private const double Chance = 0.125;
    private const int Tested = 256;
    private static readonly int[] Distances = [2, 10, 50, 200];

    /// <summary>n = L + 1: the signal, L − 1 distractors and the query, as <see cref="RememberFirstTask"/> builds it.</summary>
    private static int Length(int distance) => distance + 1;

    private static List<LongRangeResult> Model(string name, LongRangeModelKind kind, int[] correct, double[] milliseconds, double[] early, double[] late, int parameters = 500) =>
        [.. Distances.Select((d, i) => new LongRangeResult(name, kind, d, Length(d), parameters, correct[i], Tested, milliseconds[i] / 1e3, early[i], late[i]))];

    private static List<LongRangeResult> Elman(int[] correct) =>
        Model("Elman RNN", LongRangeModelKind.Recurrent, correct, [1, 4, 18, 70], [1e-1, 1e-4, 1e-18, 1e-60], [2e-1, 1e-5, 1e-20, 1e-70], 264);

    private static List<LongRangeResult> Lstm(int[] correct, double[]? late = null) =>
        Model("LSTM", LongRangeModelKind.Recurrent, correct, [2, 8, 36, 140], [1e-1, 1e-2, 1e-5, 1e-9], late ?? [1e-1, 1e-2, 1e-4, 3e-8], 936);

    private static List<LongRangeResult> Attention(int[] correct, double[]? milliseconds = null, int[]? parameters = null)
    {
        var rows = Model("attention", LongRangeModelKind.Attention, correct, milliseconds ?? [3, 6, 30, 380], [0.1, 0.05, 0.02, 0.01], [0.2, 0.1, 0.05, 0.02], 1200);
        return parameters is null ? rows : [.. rows.Select((r, i) => r with { Parameters = parameters[i] })];
    }

    [Fact]
    public void The_expected_picture_says_where_each_model_holds_and_where_it_is_at_chance()
    {
        var report = new LongRangeReport([.. Elman([256, 250, 36, 30]), .. Lstm([256, 256, 250, 100]), .. Attention([256, 256, 255, 251])], Chance);

        Assert.Equal(10, report.HeldUpTo("Elman RNN"));
        Assert.Equal(50, report.AtChanceFrom("Elman RNN"));
        Assert.Equal(50, report.HeldUpTo("LSTM"));
        Assert.Null(report.AtChanceFrom("LSTM"));
        Assert.Equal(200, report.HeldUpTo("attention"));
        Assert.Equal(0.125 + (3 * Math.Sqrt(0.125 * 0.875 / 256)), report.ChanceLimit, 12);
        Assert.Equal(
            "The Elman RNN was right on 100.0% at L = 2, 97.7% at L = 10, 14.1% at L = 50 and 11.7% at L = 200: it held (at least 95.0%) up to L = 10; it was at chance from L = 50 on (at most 18.7%: within 3 standard errors of chance, 12.5%, on 256 test sequences).",
            report.Conclusions[0]);
        Assert.Equal(
            "The LSTM was right on 100.0% at L = 2, 100.0% at L = 10, 97.7% at L = 50 and 39.1% at L = 200: it held (at least 95.0%) up to L = 50; at L = 200 it was still above chance (12.5%).",
            report.Conclusions[1]);
        Assert.Equal("Attention was right on 100.0% at L = 2, 100.0% at L = 10, 99.6% at L = 50 and 98.0% at L = 200: at least 95.0% at every L.", report.Conclusions[2]);
        Assert.Equal("At the longest distance, L = 200, only attention was right on at least 95.0% of the test sequences.", report.Conclusions[3]);
        Assert.Equal(
            "At L = 200 the gradient reaching the first position (median over the first tenth of training → over the last tenth): the Elman RNN 1.0e-60 → 1.0e-70, the LSTM 1.0e-09 → 3.0e-08 and attention 1.0e-02 → 2.0e-02. At the end, the Elman RNN's was 68 orders of magnitude below attention's (x5.0e-69) and the LSTM's was 5 orders of magnitude below attention's (x1.5e-06).",
            report.Conclusions[4]);
        Assert.Equal(
            "From L = 50 to L = 200 the sequences grew from n = 51 to n = 201 tokens (x3.94; n² x15.5) and the time per training step grew x3.9 for the Elman RNN, x3.9 for the LSTM and x12.7 for attention, that is as n^0.99, n^0.99 and n^1.85 (n^1 is linear, n^2 quadratic): attention's grew faster than every recurrent model's (by more than 0.3 in the exponent), the cost of its n x n scores and weights.",
            report.Conclusions[5]);
        Assert.Equal("At L = 200 one training step took 70.0 ms for the Elman RNN, 140.0 ms for the LSTM and 380.0 ms for attention.", report.Conclusions[6]);
        Assert.Equal("Learned parameters: the Elman RNN 264, the LSTM 936 and attention 1,200.", report.Conclusions[7]);
    }

    [Fact]
    public void An_lstm_that_fails_at_the_shortest_distance_is_called_at_chance_everywhere_not_held()
    {
        var report = new LongRangeReport([.. Elman([256, 250, 36, 30]), .. Lstm([40, 33, 30, 29]), .. Attention([256, 256, 255, 251])], Chance);
        Assert.Null(report.HeldUpTo("LSTM"));
        Assert.Equal(2, report.AtChanceFrom("LSTM"));
        Assert.Equal(
            "The LSTM was right on 15.6% at L = 2, 12.9% at L = 10, 11.7% at L = 50 and 11.3% at L = 200: it was below 95.0% already at the shortest distance, L = 2; it was at chance at every L (at most 18.7%: within 3 standard errors of chance, 12.5%, on 256 test sequences).",
            report.Conclusions[1]);
    }

    [Fact]
    public void Attention_that_fails_at_the_longest_distance_is_reported_failing_and_no_model_holds_there()
    {
        var report = new LongRangeReport([.. Elman([256, 250, 36, 30]), .. Lstm([256, 256, 250, 100]), .. Attention([256, 256, 255, 200])], Chance);
        Assert.Equal(50, report.HeldUpTo("attention"));
        Assert.Equal(
            "Attention was right on 100.0% at L = 2, 100.0% at L = 10, 99.6% at L = 50 and 78.1% at L = 200: it held (at least 95.0%) up to L = 50; at L = 200 it was still above chance (12.5%).",
            report.Conclusions[2]);
        Assert.Equal("At the longest distance, L = 200, no model was right on at least 95.0% of the test sequences.", report.Conclusions[3]);
    }

    [Fact]
    public void Ties_at_the_longest_distance_name_every_model_that_held()
    {
        var all = new LongRangeReport([.. Elman([256, 256, 256, 256]), .. Lstm([256, 256, 256, 256]), .. Attention([256, 256, 256, 256])], Chance);
        Assert.Equal("At the longest distance, L = 200, every model was right on at least 95.0% of the test sequences: this budget lets all of them bridge L = 200.", all.Conclusions[3]);
        Assert.All(all.Conclusions.Take(3), s => Assert.EndsWith("at least 95.0% at every L.", s, StringComparison.Ordinal));

        var two = new LongRangeReport([.. Elman([256, 250, 36, 30]), .. Lstm([256, 256, 250, 250]), .. Attention([256, 256, 255, 251])], Chance);
        Assert.Equal("At the longest distance, L = 200, the LSTM and attention were right on at least 95.0% of the test sequences; the Elman RNN was not.", two.Conclusions[3]);
    }

    [Fact]
    public void Exactly_95_percent_holds_and_exactly_the_chance_limit_is_at_chance()
    {
        const int tested = 400;
        var limit = Chance + (3 * Math.Sqrt(Chance * (1 - Chance) / tested)); // 0.174608...: 69 of 400 is 0.1725, 70 is 0.175
        LongRangeResult Row(int correct) => new("LSTM", LongRangeModelKind.Recurrent, 10, 12, 900, correct, tested, 0.01, 1, 1);
        var report = new LongRangeReport([Row(380)], Chance);
        Assert.True(LongRangeReport.Holds(Row(380)));
        Assert.False(LongRangeReport.Holds(Row(379)));
        Assert.True(report.AtChance(Row(69)));
        Assert.False(report.AtChance(Row(70)));
        Assert.True(69.0 / tested <= limit && 70.0 / tested > limit);
    }

    [Fact]
    public void A_model_that_holds_again_after_failing_says_so_and_a_dip_to_chance_is_named()
    {
        var report = new LongRangeReport([.. Elman([256, 30, 250, 60]), .. Lstm([256, 256, 250, 100]), .. Attention([256, 256, 255, 251])], Chance);
        Assert.Equal(2, report.HeldUpTo("Elman RNN"));
        Assert.Null(report.AtChanceFrom("Elman RNN"));
        Assert.Equal(
            "The Elman RNN was right on 100.0% at L = 2, 11.7% at L = 10, 97.7% at L = 50 and 23.4% at L = 200: it held (at least 95.0%) up to L = 2, yet held again at L = 50; at L = 200 it was still above chance (12.5%), though at chance at L = 10 (at most 18.7%: within 3 standard errors of chance, 12.5%, on 256 test sequences).",
            report.Conclusions[0]);
    }

    [Fact]
    public void A_gradient_that_underflowed_to_zero_is_called_exactly_zero_and_a_close_one_within_a_factor_of_ten()
    {
        var report = new LongRangeReport([.. Elman([256, 250, 36, 30]) is var e ? e.Select(r => r with { FirstGradientLate = r.Distance == 200 ? 0 : r.FirstGradientLate }) : [], .. Lstm([256, 256, 250, 100], late: [1, 1, 1, 0.005]), .. Attention([256, 256, 255, 251])], Chance);
        Assert.Contains("the Elman RNN 1.0e-60 → 0,", report.Conclusions[4], StringComparison.Ordinal);
        Assert.Contains("the Elman RNN's was exactly 0 in double precision (it underflowed)", report.Conclusions[4], StringComparison.Ordinal);
        Assert.Contains("the LSTM's was within a factor of 10 of attention's (x0.25)", report.Conclusions[4], StringComparison.Ordinal);

        var larger = new LongRangeReport([.. Elman([256, 250, 36, 30]), .. Lstm([256, 256, 250, 100], late: [1, 1, 1, 0.5]), .. Attention([256, 256, 255, 251])], Chance);
        Assert.Contains("the LSTM's was at least as large as attention's", larger.Conclusions[4], StringComparison.Ordinal);
    }

    [Fact]
    public void Attention_time_that_grows_like_the_rnns_is_not_called_quadratic()
    {
        var report = new LongRangeReport([.. Elman([256, 250, 36, 30]), .. Lstm([256, 256, 250, 100]), .. Attention([256, 256, 255, 251], milliseconds: [3, 6, 30, 130])], Chance);
        Assert.True(report.TimeExponent("attention") < report.TimeExponent("LSTM") + LongRangeReport.ExponentGap);
        Assert.EndsWith("attention's did not grow faster than every recurrent model's by more than 0.3 in the exponent, so this run does not show its n² cost at these lengths.", report.Conclusions[5], StringComparison.Ordinal);
    }

    [Fact]
    public void A_parameter_count_that_grows_with_l_is_shown_at_both_ends()
    {
        var report = new LongRangeReport([.. Elman([256, 250, 36, 30]), .. Lstm([256, 256, 250, 100]), .. Attention([256, 256, 255, 251], parameters: [1000, 1100, 1500, 3000])], Chance);
        Assert.Equal("Learned parameters: the Elman RNN 264, the LSTM 936 and attention from 1,000 at L = 2 to 3,000 at L = 200.", report.Conclusions[^1]);
    }

    [Fact]
    public void One_distance_gives_no_growth_or_exponent_sentences()
    {
        var report = new LongRangeReport([.. Elman([256, 250, 36, 30]).Take(1), .. Attention([256, 256, 255, 251]).Take(1)], Chance);
        string[] openings = ["The Elman RNN was right", "Attention was right", "At the longest distance", "At L = 2 the gradient", "At L = 2 one training step", "Learned parameters"];
        Assert.Equal(openings.Length, report.Conclusions.Count);
        Assert.All(openings.Zip(report.Conclusions), pair => Assert.StartsWith(pair.First, pair.Second, StringComparison.Ordinal));
        Assert.Throws<InvalidOperationException>(() => report.TimeExponent("attention"));
    }

    [Fact]
    public void Incomplete_or_impossible_tables_are_refused_with_what_to_do()
    {
        var complete = new List<LongRangeResult>([.. Elman([256, 250, 36, 30]), .. Attention([256, 256, 255, 251])]);
        Assert.Contains("has no result at L = 50", Assert.Throws<ArgumentException>(() => new LongRangeReport([.. complete.Where(r => !(r.Model == "attention" && r.Distance == 50))], Chance)).Message, StringComparison.Ordinal);
        Assert.Contains("two results at L = 10", Assert.Throws<ArgumentException>(() => new LongRangeReport([.. complete, complete[1]], Chance)).Message, StringComparison.Ordinal);
        Assert.Contains("same set", Assert.Throws<ArgumentException>(() => new LongRangeReport([.. complete.Select((r, i) => i == 0 ? r with { Tested = 100, Correct = 100 } : r)], Chance)).Message, StringComparison.Ordinal);
        Assert.Contains("different lengths", Assert.Throws<ArgumentException>(() => new LongRangeReport([.. complete.Select((r, i) => i == 0 ? r with { Length = 5 } : r)], Chance)).Message, StringComparison.Ordinal);
        Assert.Contains("impossible", Assert.Throws<ArgumentException>(() => new LongRangeReport([.. complete.Select((r, i) => i == 0 ? r with { Correct = 257 } : r)], Chance)).Message, StringComparison.Ordinal);
        Assert.Contains("finite number of seconds", Assert.Throws<ArgumentException>(() => new LongRangeReport([.. complete.Select((r, i) => i == 0 ? r with { SecondsPerStep = double.NaN } : r)], Chance)).Message, StringComparison.Ordinal);
        Assert.Contains("norms are finite", Assert.Throws<ArgumentException>(() => new LongRangeReport([.. complete.Select((r, i) => i == 0 ? r with { FirstGradientLate = double.PositiveInfinity } : r)], Chance)).Message, StringComparison.Ordinal);
        Assert.Contains("one kind", Assert.Throws<ArgumentException>(() => new LongRangeReport([.. complete.Select((r, i) => i == 0 ? r with { Kind = LongRangeModelKind.Attention } : r)], Chance)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LongRangeReport(complete, 1));
        Assert.Contains("no results", Assert.Throws<ArgumentException>(() => new LongRangeReport([], Chance)).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// On random tables the two named distances mean what the sentences say: every L up to "held up to" holds and the
    /// next does not; every L from "at chance from" on is at chance and the one before is not; and each model's
    /// sentence names those distances exactly.
    /// </summary>
    [Fact]
    public void Held_up_to_and_at_chance_from_match_their_definitions_on_random_tables()
    {
        var gen = Gen.Int[0, Tested].Array[4].Select(Gen.Int[0, Tested].Array[4]);
        Property.Holds(gen, pair =>
        {
            var (first, second) = pair;
            var report = new LongRangeReport([.. Elman(first), .. Attention(second)], Chance);
            foreach (var model in report.Models)
            {
                var rows = report.Distances.Select(d => report.Result(model, d)).ToList();
                var held = report.HeldUpTo(model);
                var prefix = rows.TakeWhile(LongRangeReport.Holds).Count();
                Assert.Equal(prefix == 0 ? null : rows[prefix - 1].Distance, held);
                var from = report.AtChanceFrom(model);
                var suffix = rows.AsEnumerable().Reverse().TakeWhile(report.AtChance).Count();
                Assert.Equal(suffix == 0 ? null : rows[^suffix].Distance, from);
                var sentence = report.Conclusions[report.Models.ToList().IndexOf(model)];
                if (rows.All(LongRangeReport.Holds))
                {
                    Assert.EndsWith("at every L.", sentence, StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal(held is not null, sentence.Contains($"up to L = {held}", StringComparison.Ordinal));
                    Assert.Equal(from is not null && from != 2, sentence.Contains($"at chance from L = {from} on", StringComparison.Ordinal));
                    Assert.Equal(from == 2, sentence.Contains("at chance at every L", StringComparison.Ordinal));
                }
            }
        });
    }
}
