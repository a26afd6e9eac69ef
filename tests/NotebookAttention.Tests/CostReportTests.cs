using System.Globalization;
using System.Text.RegularExpressions;
using CsCheck;
using NotebookAttention.Cost;
using NotebookAttention.Fast;
using NotebookAttention.Notebooks;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>Notebook 06's reports: the crossover rule, the materialized step, the online softmax and the exercises.</summary>
public partial class CostReportTests
{
    private static readonly int[] Lengths = [64, 128, 256, 512, 1024, 2048, 4096, 8192];

    private static List<CostPoint> Sweep(IEnumerable<int> lengths, Func<int, double> seconds) => [.. lengths.Select(n => new CostPoint(n, seconds(n), 0))];

    [Fact]
    public void Crossover_is_the_start_of_the_last_run_of_faster_lengths_and_one_noisy_point_does_not_make_one()
    {
        var exact = Sweep(Lengths, n => 1e-9 * n * n);
        var noisy = Sweep(Lengths, n => n == 128 ? 1e-9 : n >= 512 ? 1e-10 * n * n : 1);
        Assert.StartsWith("window: faster than exact attention from n = 512 on (at n = 512 and at every longer length measured, 5 lengths up to n = 8,192)", CostSweeps.CrossoverConclusion("window", exact, noisy), StringComparison.Ordinal);
        var onlyLast = Sweep(Lengths, n => n == 8192 ? 1e-9 : 1);
        Assert.StartsWith("window: this run shows no crossing", CostSweeps.CrossoverConclusion("window", exact, onlyLast), StringComparison.Ordinal);
        Assert.Contains("no length was measured for both", CostSweeps.CrossoverConclusion("window", exact, Sweep([16384], _ => 1)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_faster_from_the_first_common_length_is_said_to_cross_nowhere_in_the_range()
    {
        var exact = Sweep(Lengths.Take(6), n => 1e-9 * n * n);
        var alwaysFaster = Sweep(Lengths, n => 1e-10 * n * n);
        var conclusion = CostSweeps.CrossoverConclusion("window", exact, alwaysFaster);
        Assert.Equal("window: faster than exact attention at every length both were measured at (6 lengths, n = 64 to 2,048): no crossing in this range, it is already faster at the shortest.", conclusion);
        Assert.DoesNotMatch(@"from n = [\d,]+ on", conclusion);

        // Slower only at a length the exact kernel was not measured at changes nothing; slower at the first common one makes n = 128 a crossing.
        var slowerBefore = Sweep([32, .. Lengths], n => n == 32 ? 1 : 1e-10 * n * n);
        Assert.Equal(conclusion, CostSweeps.CrossoverConclusion("window", exact, slowerBefore));
        var slowerAtFirst = Sweep(Lengths, n => n == 64 ? 1 : 1e-10 * n * n);
        Assert.StartsWith("window: faster than exact attention from n = 128 on", CostSweeps.CrossoverConclusion("window", exact, slowerAtFirst), StringComparison.Ordinal);
    }

    [Fact]
    public void The_tiled_padding_sentence_counts_whole_blocks_of_96_queries_by_128_keys()
    {
        var text = CostSweeps.TiledPadding([16, 64, 96, 4096]);
        Assert.Contains("n = 16: 12,288 for 256 (48.0x), 1 block;", text, StringComparison.Ordinal);
        Assert.Contains("n = 64: 12,288 for 4,096 (3.0x), 1 block;", text, StringComparison.Ordinal);
        Assert.Contains("n = 96: 12,288 for 9,216 (1.3x), 1 block.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("n = 4,096", text, StringComparison.Ordinal);   // 4,128 x 4,096 slots: under 10% padding
        Assert.Equal(string.Empty, CostSweeps.TiledPadding([4096, 8192]));
    }

    [Fact]
    public void A_claimed_crossing_always_holds_at_that_length_and_every_longer_one_and_not_just_before()
    {
        var cases = from times in Gen.Double[0.5, 2].Array[Lengths.Length] from longer in Gen.Int[0, 2] select (times, longer);
        Property.Holds(cases, c =>
        {
            var exact = Sweep(Lengths.Take(Lengths.Length - c.longer), _ => 1);
            var approximate = Sweep(Lengths, n => c.times[Array.IndexOf(Lengths, n)]);
            var conclusion = CostSweeps.CrossoverConclusion("a", exact, approximate);
            var common = exact.Select(e => (e.N, Faster: approximate.Single(a => a.N == e.N).Seconds < e.Seconds)).ToList();
            var crossing = Regex.Match(conclusion, @"from n = ([\d,]+) on");
            if (crossing.Success)
            {
                var from = int.Parse(crossing.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
                Assert.True(common.Count(x => x.N >= from) >= 2 && common.Where(x => x.N >= from).All(x => x.Faster), conclusion);
                Assert.DoesNotContain(common.Where(x => x.N < from).TakeLast(1), x => x.Faster);
            }
            else if (conclusion.Contains("no crossing in this range", StringComparison.Ordinal))
            {
                Assert.True(common.All(x => x.Faster), conclusion);
            }
            else
            {
                Assert.False(common[^1].Faster && common[^2].Faster, conclusion);
            }
        });
    }

    [Fact]
    public void The_materialized_step_names_the_caches_its_score_matrix_outgrew_or_says_it_crossed_none()
    {
        var tiled = Sweep(Lengths, n => 1e-9 * n * n);
        var jump = Sweep(Lengths, n => (n >= 2048 ? 2.1e-9 : 1e-9) * n * n);
        CacheLevel[] small = [new("L2", 1 << 20), new("L3", 8 << 20)];
        var text = CostSweeps.ScoreMatrixStepConclusion(jump, tiled, small);
        Assert.StartsWith("Biggest step of the materialized path: n = 1,024 to 2,048, x8.4 (the arithmetic gives x4.0; the tiled path, which keeps no n x n matrix, x4.0", text, StringComparison.Ordinal);
        Assert.Contains($"grew from {FastAttention.MaterializedScoreBytes(1024, 1024) / 1024:N0} KiB to {FastAttention.MaterializedScoreBytes(2048, 2048) / 1024:N0} KiB, past L3 (8,192 KiB per instance)", text, StringComparison.Ordinal);
        Assert.Contains("Two other causes this run does not measure: each call allocates a fresh pinned 16.5 MiB matrix", text, StringComparison.Ordinal);
        var fresh = Sweep(Lengths, n => n >= 2048 ? 0.002 : 0.0005);   // at 1,024 -> 2,048 the step adds 7.76e-3 s, the buffer 1.5e-3 s
        var measured = CostSweeps.ScoreMatrixStepConclusion(jump, tiled, small, fresh);
        Assert.Contains("Allocating a fresh pinned 16.5 MiB matrix and writing it once, as each call does, took 0.002 s at n = 2,048 against 0.0005 s at n = 1,024: 19% of the 0.00776 s the step added. Not measured here: the L3 is shared", measured, StringComparison.Ordinal);
        Assert.DoesNotContain("Two other causes", measured, StringComparison.Ordinal);
        var noneCrossed = CostSweeps.ScoreMatrixStepConclusion(jump, tiled, [new("L2", 1 << 20), new("L3", 32 << 20)]);
        Assert.Contains("crosses none of the cache sizes listed for this machine (L2 1,024 KiB, L3 32,768 KiB): the listed cache sizes do not explain this step.", noneCrossed, StringComparison.Ordinal);
        Assert.DoesNotContain("the cache does not explain", noneCrossed, StringComparison.Ordinal);
        Assert.Contains("allocates a fresh pinned", noneCrossed, StringComparison.Ordinal);
        Assert.Contains("does not list its caches", CostSweeps.ScoreMatrixStepConclusion(jump, tiled, []), StringComparison.Ordinal);
        Assert.Contains("does not stand out", CostSweeps.ScoreMatrixStepConclusion(tiled, tiled, small), StringComparison.Ordinal);

        // Both paths slowed at the step: the machine, not the matrix; no "no jump here to explain".
        var busyTiled = Sweep(Lengths, n => (n >= 2048 ? 2e-9 : 1e-9) * n * n);
        var both = CostSweeps.ScoreMatrixStepConclusion(jump, busyTiled, small);
        Assert.Contains("Both paths slowed at this step (x8.4 and x8.0 against the arithmetic's x4.0)", both, StringComparison.Ordinal);
        Assert.DoesNotContain("no jump here to explain", both, StringComparison.Ordinal);
        Assert.DoesNotContain("past L3", both, StringComparison.Ordinal);
        var slightlyBusy = Sweep(Lengths, n => (n >= 2048 ? 1.2e-9 : 1e-9) * n * n);   // tiled x4.8 at the same step
        var close = CostSweeps.ScoreMatrixStepConclusion(Sweep(Lengths, n => (n >= 2048 ? 1.5e-9 : 1e-9) * n * n), slightlyBusy, small);
        Assert.Contains("within 1.5 times of it, so this run does not single out the score matrix", close, StringComparison.Ordinal);
    }

    [Fact]
    public void Window_coverage_and_demo_window_are_computed_from_the_pairs()
    {
        Assert.Equal("w = 1 on 12 tokens: each token sees at most 3 of them; the window keeps 34 of the 144 query-key pairs (23.6%).", CostSweeps.WindowCoverage(12, 1));
        Assert.Contains("keeps 144 of the 144", CostSweeps.WindowCoverage(12, 40), StringComparison.Ordinal);
        Assert.Equal(1, CostSweeps.DemoWindow(1));
        Assert.Equal(4, CostSweeps.DemoWindow(32));
        Assert.Equal(4, CostSweeps.DemoWindow(1000));   // a long paragraph is drawn for its first 32 tokens
    }

    [Fact]
    public void Exercises_are_checked_from_the_arithmetic_and_the_learners_sentence()
    {
        Assert.True(Exercises.Cost.LinearBeatsExactFrom(65).IsCorrect);
        Assert.False(Exercises.Cost.LinearBeatsExactFrom(64).IsCorrect);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.Cost.LinearBeatsExactFrom(null).Status);
        Assert.True(Exercises.Cost.RescaledSum((2.5 * Math.Exp(-2)) + 1.2).IsCorrect);
        Assert.False(Exercises.Cost.RescaledSum(3.7).IsCorrect);
        Property.Holds(Gen.Int[1, 400], n =>
        {
            long Pairs(int w) => Enumerable.Range(0, n).Sum(i => (long)(Math.Min(n - 1, i + w) - Math.Max(0, i - w) + 1));   // keys within w of each query
            var largest = Enumerable.Range(0, n).Where(w => Pairs(w) * 2 <= (long)n * n).DefaultIfEmpty(0).Max();
            Assert.True(Exercises.Cost.HalfWindow(largest, n).IsCorrect, $"n = {n}, w = {largest}");
            Assert.False(Exercises.Cost.HalfWindow(largest + 1, n).IsCorrect, $"n = {n}, w = {largest + 1}");
        });

        // The default sentence's answer is not the window the notebook draws for it (w = 1), so it cannot be copied.
        Assert.True(Exercises.Cost.HalfWindow(3, 12).IsCorrect);
        Assert.False(Exercises.Cost.HalfWindow(CostSweeps.DemoWindow(12), 12).IsCorrect);
    }
}
