using System.Globalization;
using System.Net;
using CsCheck;
using NotebookAttention.Cost;
using NotebookAttention.Notebooks;
using NotebookAttention.Recurrence;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>
/// Notebook 07's parallelism conclusions follow from the measured numbers: hand-made timing tables (a noisy point,
/// a real crossing, no crossing, a busy machine) give the sentences their numbers support, and nothing else.
/// </summary>
public class ParallelismReportTests
{
    private static readonly int[] Lengths = [64, 128, 256, 512, 1024, 2048, 4096, 8192];

    /// <summary>Attention on 2 cores as a 100 GFLOP/s kernel would run it (4 n^2 d FLOPs, d = 64), in ms.</summary>
    private static readonly double[] AttentionTwoCoresMs = [0.02, 0.05, 0.17, 0.67, 2.7, 10.7, 43, 172];

    [Fact]
    public void A_noisy_point_followed_by_longer_lengths_that_contradict_it_is_not_a_crossing()
    {
        // The run the issue describes: attention slower at n = 256 only (a busy moment), faster at every longer n.
        // The old rule returned 256, the first point where attention was slower.
        var attention = AttentionTwoCoresMs.ToArray();
        attention[2] = 9.0;
        var report = Report(SlowRecurrence(), attention);
        Assert.Null(report.Crossing);
        Assert.Null(Parallelism.Crossover(Curve(SlowRecurrence()), Curve(attention)));
        Assert.Equal(
            "Attention was faster than the RNN at n = 8,192, the longest length measured; it was slower at n = 256, but longer lengths contradict that, so this run shows no length from which attention stays slower.",
            report.Conclusions[0]);
        Assert.Equal("Attention on 2 cores was x1.75 faster than on 1 at n = 8,192: it splits the queries into blocks that the cores compute at the same time.", report.Conclusions[1]);
        Assert.Equal(
            "The RNN on 2 cores was slower than on 1 (x0.67 at n = 8,192): its 8,192 steps run one after another, so 2 cores can only split each small step, and the threads must meet after every step, which costs more than the split saves.",
            report.Conclusions[2]);
        Assert.Equal(
            "At n = 8,192 attention does x128 the arithmetic of the RNN (4n²d = 17.2 GFLOP against 4nd² = 134.2 MFLOP; n/d = 8,192/64). It computes x182.9 faster (99.88 GFLOP/s against 0.55 GFLOP/s: the RNN's 8,192 steps run one after another, 30.00 µs each), which more than makes up for the extra work: attention finishes x1.43 sooner (172.000 ms against 245.760 ms). The RNN is bound by its sequential steps, not by its arithmetic.",
            report.Conclusions[3]);
        Assert.Contains("O(n) sequential operations for a recurrent layer against O(1)", report.Conclusions[4], StringComparison.Ordinal);
    }

    [Fact]
    public void A_crossing_that_holds_at_every_longer_length_is_reported_where_it_starts()
    {
        // An RNN at 2 µs per step: attention, 128 times the arithmetic at n = 8,192, becomes slower from n = 1,024 on.
        var report = Report(FastRecurrence(), AttentionTwoCoresMs);
        Assert.Equal(1024, report.Crossing);
        Assert.Equal("Attention becomes slower than the RNN at n = 1,024: it is slower there and at every longer length measured (4 lengths, up to n = 8,192).", report.Conclusions[0]);
        Assert.EndsWith(
            "It computes x12.2 faster (99.88 GFLOP/s against 8.19 GFLOP/s: the RNN's 8,192 steps run one after another, 2.00 µs each), which does not make up for the extra work: attention takes x10.50 longer (172.000 ms against 16.384 ms).",
            report.Conclusions[3],
            StringComparison.Ordinal);
        Assert.Contains("attention is cheaper only while n < d", report.Conclusions[4], StringComparison.Ordinal);
    }

    [Fact]
    public void Attention_faster_everywhere_is_no_crossing()
    {
        var report = Report(SlowRecurrence(), AttentionTwoCoresMs);
        Assert.Null(report.Crossing);
        Assert.Equal("Attention was faster than the RNN at every measured length, up to n = 8,192: no crossing in this range.", report.Conclusions[0]);
        Assert.Contains("attention finishes x", report.Conclusions[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Attention_slower_everywhere_is_said_as_such()
    {
        var report = Report([.. Lengths.Select(_ => 1e-5)], AttentionTwoCoresMs);
        Assert.Equal(64, report.Crossing);
        Assert.Equal("Attention was slower than the RNN at every measured length, from n = 64 to n = 8,192.", report.Conclusions[0]);
    }

    [Fact]
    public void A_crossing_that_does_not_hold_over_the_following_lengths_is_not_reported()
    {
        // Slower at 2,048 and 4,096, faster again at 8,192: no crossing, and the sentence names the contradicted points.
        var rnn = SlowRecurrence();
        var attention = AttentionTwoCoresMs.ToArray();
        attention[5] = rnn[5] * 1.1;
        attention[6] = rnn[6] * 1.1;
        var report = Report(rnn, attention);
        Assert.Null(report.Crossing);
        Assert.Equal(
            "Attention was faster than the RNN at n = 8,192, the longest length measured; it was slower at n = 2,048, 4,096, but longer lengths contradict that, so this run shows no length from which attention stays slower.",
            report.Conclusions[0]);

        // Slower at 1,024, faster at 2,048, slower from 4,096 on: the crossing is 4,096, not 1,024.
        attention = AttentionTwoCoresMs.ToArray();
        attention[4] = rnn[4] * 1.1;
        attention[6] = rnn[6] * 1.1;
        attention[7] = rnn[7] * 1.1;
        Assert.Equal(4096, Report(rnn, attention).Crossing);

        // Slower at the longest length only: nothing confirms it yet.
        attention = AttentionTwoCoresMs.ToArray();
        attention[7] = rnn[7] * 1.1;
        report = Report(rnn, attention);
        Assert.Null(report.Crossing);
        Assert.Equal(
            "Attention was slower than the RNN at n = 8,192, the longest length measured, but no longer length confirms it, so this run shows no crossing: measure longer sequences to see whether it holds.",
            report.Conclusions[0]);
    }

    [Fact]
    public void A_busy_machine_where_two_cores_are_not_faster_says_this_run_cannot_show_it()
    {
        // The numbers of the issue at n = 8,192: attention 194.6 ms on 1 core, 191.5 ms on 2; the RNN 236 ms on 1, 65.5 ms on 2.
        ParallelismRow[] rows = [new(4096, 0.118, 0.033, 0.050, 0.048), new(8192, 0.236, 0.0655, 0.1946, 0.1915)];
        var report = new ParallelismReport(rows, 64, cores: 2);
        Assert.Equal(
            "On this run attention on 2 cores was not faster than on 1 (x1.02 at n = 8,192): the machine was busy with other work, so this run cannot show attention spreading over cores; run the cell again when the machine is quiet.",
            report.Conclusions[1]);
        Assert.Equal(
            "On this run the RNN on 2 cores was x3.60 faster than on 1 at n = 8,192, more than 2 cores can give: other work slowed the 1-core run, so this run cannot show what a second core gives the RNN; run the cell again when the machine is quiet.",
            report.Conclusions[2]);

        // Compared each on its faster core count, the RNN (65.5 ms on 2 cores) beat attention (191.5 ms): not the other way round.
        Assert.Equal(
            "Attention was slower than the RNN at every measured length, from n = 4,096 to n = 8,192.",
            report.Conclusions[0]);
    }

    [Fact]
    public void Gains_between_the_noise_margin_and_two_cores_are_reported_as_gains_and_one_core_is_named()
    {
        ParallelismRow[] rows = [new(512, 0.010, 0.0066, 0.002, 0.0019), new(1024, 0.020, 0.0133, 0.008, 0.0078)];
        var report = new ParallelismReport(rows, 64, cores: 1);
        Assert.Equal("This machine has 1 core, so attention on 2 threads cannot be faster than on 1 (x1.03 at n = 1,024): run it on a machine with 2 or more cores to see attention spread over cores.", report.Conclusions[1]);
        Assert.Equal("The RNN on 2 cores was x1.50 faster than on 1 at n = 1,024: the cores split each step's 64 rows, but its 1,024 steps still run one after another.", report.Conclusions[2]);
        rows = [new(1024, 0.020, 0.021, 0.008, 0.0072)];
        report = new ParallelismReport(rows, 64, cores: 2);
        Assert.StartsWith("The RNN on 2 cores was slower than on 1 (x0.95", report.Conclusions[2], StringComparison.Ordinal);
        Assert.Equal("On this run attention on 2 cores was not faster than on 1 (x1.11 at n = 1,024): the machine was busy with other work, so this run cannot show attention spreading over cores; run the cell again when the machine is quiet.", report.Conclusions[1]);
        report = new ParallelismReport([new(1024, 0.020, 0.0185, 0.008, 0.0072)], 64, cores: 2);
        Assert.StartsWith("The RNN gained nothing real from a second core (x1.08 at n = 1,024)", report.Conclusions[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Recurrent_flops_are_4_n_d_squared_and_attention_does_n_over_d_times_more()
    {
        Assert.Equal(4.0 * 10 * 64 * 64, Parallelism.RecurrentFlops(10, 64));
        Assert.Equal(128, AttentionCost.Flops(8192, 64) / Parallelism.RecurrentFlops(8192, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.RecurrentFlops(0, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.RecurrentFlops(8, 0));
    }

    [Fact]
    public void The_crossing_is_the_start_of_the_confirmed_run_of_slower_lengths_up_to_the_longest()
    {
        var cases =
            from count in Gen.Int[1, 10]
            from factors in Gen.OneOf(Gen.Double[0.5, 0.95], Gen.Double[1.05, 2.0]).Array[count]
            select factors;
        Property.Holds(cases, factors =>
        {
            // factors[i] > 1: attention slower than the RNN at the i-th length.
            var rows = factors.Select((f, i) => new ParallelismRow(64 << i, 1e-3 * (i + 1), 2e-3 * (i + 1), 1.5e-3 * (i + 1) * f, 1e-3 * (i + 1) * f)).ToList();
            var report = new ParallelismReport(rows, 64, cores: 2);
            int? expected = null;
            for (var from = 0; from < rows.Count; from++)
            {
                if (rows.Count - from >= Parallelism.LengthsToConfirm && factors.Skip(from).All(f => f > 1))
                {
                    expected = rows[from].N;
                    break;
                }
            }

            Assert.Equal(expected, report.Crossing);
            var claimsCrossing = report.Conclusions[0].StartsWith("Attention becomes slower", StringComparison.Ordinal);
            Assert.Equal(expected is { } n && n > rows[0].N, claimsCrossing);
            Assert.Equal(factors[^1] < 1, report.Conclusions[3].Contains("more than makes up for the extra work", StringComparison.Ordinal));
            Assert.Equal(factors[^1] < 1, report.Conclusions[0].StartsWith("Attention was faster", StringComparison.Ordinal));
        });
    }

    [Fact]
    public void Bad_tables_are_refused_with_what_to_do()
    {
        Assert.Contains("measure at least one n", Assert.Throws<ArgumentException>(() => new ParallelismReport([], 64, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("sort the rows by n", Assert.Throws<ArgumentException>(() => new ParallelismReport([new(128, 1, 1, 1, 1), new(64, 1, 1, 1, 1)], 64, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("finite number of seconds above 0", Assert.Throws<ArgumentException>(() => new ParallelismReport([new(64, 1, double.NaN, 1, 1)], 64, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("finite number of seconds above 0", Assert.Throws<ArgumentException>(() => new ParallelismReport([new(64, 1, 1, 0, 1)], 64, 2)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelismReport([new(64, 1, 1, 1, 1)], 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelismReport([new(64, 1, 1, 1, 1)], 64, 0));
        Assert.Throws<ArgumentException>(() => ParallelismReport.Measure([], 64));
        Assert.Throws<ArgumentException>(() => ParallelismReport.Measure([64], 64, maxSecondsPerRun: 0));
    }

    [Fact]
    public void The_table_shows_every_time_with_its_exact_value_and_every_conclusion()
    {
        var report = Report(SlowRecurrence(), AttentionTwoCoresMs);
        var view = ParallelismView.Table(report);
        foreach (var row in report.Rows)
        {
            foreach (var seconds in new[] { row.RecurrentOneCore, row.RecurrentTwoCores, row.AttentionOneCore, row.AttentionTwoCores })
            {
                Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"data-seconds=\"{seconds:R}\">{seconds * 1e3:0.000}</td>"), view.Html, StringComparison.Ordinal);
            }
        }

        Assert.All(report.Conclusions, sentence => Assert.Contains($"<li>{WebUtility.HtmlEncode(sentence)}</li>", view.Html, StringComparison.Ordinal));
        Assert.Contains("data-width=\"64\" data-cores=\"2\"", view.Html, StringComparison.Ordinal);
        Assert.Contains("x1.43</td></tr></tbody>", view.Html, StringComparison.Ordinal);
    }

    private static ParallelismReport Report(double[] recurrentOneCoreMs, double[] attentionTwoCoresMs) => new(
        [.. Lengths.Select((n, i) => new ParallelismRow(n, recurrentOneCoreMs[i] / 1e3, 1.5 * recurrentOneCoreMs[i] / 1e3, 1.75 * attentionTwoCoresMs[i] / 1e3, attentionTwoCoresMs[i] / 1e3))],
        64,
        cores: 2);

    /// <summary>An RNN at 30 µs per step (what a disturbed run measured), in ms.</summary>
    private static double[] SlowRecurrence() => [.. Lengths.Select(n => n * 0.03)];

    /// <summary>An RNN at 2 µs per step, in ms.</summary>
    private static double[] FastRecurrence() => [.. Lengths.Select(n => n * 0.002)];

    private static CostPoint[] Curve(double[] milliseconds) => [.. Lengths.Select((n, i) => new CostPoint(n, milliseconds[i] / 1e3, 0))];
}

/// <summary>The measurement itself: four runs per length, stopped by the budget.</summary>
[Collection(MeasurementsRunAlone.Name)]
public class ParallelismMeasurementTests
{
    [Fact]
    public void Measure_times_all_four_runs_per_length_and_stops_after_a_run_over_budget()
    {
        var report = ParallelismReport.Measure([64, 128], width: 16);
        Assert.Equal([64, 128], report.Rows.Select(r => r.N));
        Assert.Equal(Environment.ProcessorCount, report.Cores);
        Assert.Equal(5, report.Conclusions.Count);
        var stopped = ParallelismReport.Measure([64, 128, 256], width: 16, maxSecondsPerRun: 1e-9);
        Assert.Equal([64], stopped.Rows.Select(r => r.N));
    }
}
