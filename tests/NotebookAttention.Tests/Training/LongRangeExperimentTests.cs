using System.Text.Json.Nodes;
using NotebookAttention.Tests.Support;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>
/// Notebook 10's experiment: every model gets the same budget, results do not depend on the thread count, and bad
/// settings or a stop are refused or reported before anything half-measured is shown.
/// </summary>
public class LongRangeExperimentTests
{
    private static readonly LongRangeSettings Tiny = LongRangeSettings.Notebook with
    {
        Distances = [2, 3],
        Steps = 6,
        BatchSize = 4,
        TestSequences = 16,
    };

    [Fact]
    public void Notebook_10_runs_with_the_notebook_settings()
    {
        var notebook = JsonNode.Parse(File.ReadAllText(Repository.PathOf("notebooks", "10-long-range-trained.ipynb")))!;
        var sources = notebook["cells"]!.AsArray().OfType<JsonObject>().Where(c => (string?)c["cell_type"] == "code")
            .Select(c => string.Concat(c["source"]!.AsArray().Select(l => (string?)l))).ToList();
        Assert.Contains(sources, s => s.Contains("var settings = LongRangeSettings.Notebook;", StringComparison.Ordinal));
        Assert.Contains(sources, s => s.Contains("LongRangeTraining.Train(settings)", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_model_and_distance_gets_one_run_of_the_same_budget_and_a_result()
    {
        var experiment = LongRangeExperiment.Run(Tiny);
        Assert.Equal(["Elman RNN", "LSTM", "attention"], experiment.Report.Models);
        Assert.Equal([2, 3], experiment.Report.Distances);
        Assert.Equal(6, experiment.Curves.Count);
        Assert.All(experiment.Curves, c =>
        {
            Assert.Equal(Tiny.Steps, c.Loss.Count);
            Assert.Equal(Tiny.Steps, c.FirstGradient.Count);
            Assert.Equal("completed", c.Ending);
        });
        foreach (var distance in experiment.Report.Distances)
        {
            var task = new RememberFirstTask(distance);
            foreach (var model in experiment.Report.Models)
            {
                var result = experiment.Report.Result(model, distance);
                Assert.Equal(task.MaxLength, result.Length);
                Assert.Equal(Tiny.TestSequences, result.Tested);
                var curve = experiment.Curve(model, distance);
                Assert.Equal(LongRangeExperiment.Median(curve.Seconds.Skip(Tiny.Steps / 2)), result.SecondsPerStep);
                Assert.Equal(LongRangeExperiment.Median(curve.FirstGradient.Take(1)), result.FirstGradientEarly);
                Assert.Equal(LongRangeExperiment.Median(curve.FirstGradient.TakeLast(1)), result.FirstGradientLate);
            }
        }

        Assert.Equal(LongRangeExperiment.Models(Tiny, new RememberFirstTask(3)).Select(m => m.Parameters), experiment.Report.Models.Select(m => experiment.Report.Result(m, 3).Parameters));
        var training = LongRangeExperiment.Training(Tiny);
        Assert.Equal((Tiny.Steps, Tiny.BatchSize, Tiny.LearningRate, Tiny.ClipNorm, Tiny.Seed, Tiny.Threads), (training.Steps, training.BatchSize, training.LearningRate, training.ClipNorm, training.Seed, training.Threads));
        Assert.Equal("adam", training.OptimizerOrDefault.Name);
    }

    [Fact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        static IEnumerable<(int, int, double, double)> Numbers(LongRangeExperiment e) =>
            e.Report.Models.SelectMany(m => e.Report.Distances.Select(d => e.Report.Result(m, d))).Select(r => (r.Distance, r.Correct, r.FirstGradientEarly, r.FirstGradientLate));
        var reference = Numbers(LongRangeExperiment.Run(Tiny)).ToList();
        Assert.Equal(reference, Numbers(LongRangeExperiment.Run(Tiny with { Threads = 1 })));
        Assert.Equal(6, reference.Count);
    }

    [Fact]
    public void Progress_reports_every_step_of_every_run_in_order()
    {
        var seen = new List<LongRangeProgress>();
        LongRangeExperiment.Run(Tiny, seen.Add);
        Assert.Equal(6 * Tiny.Steps, seen.Count);
        Assert.All(seen, p => Assert.Equal(6, p.Runs));
        Assert.Equal(Enumerable.Range(1, 6).SelectMany(r => Enumerable.Repeat(r, Tiny.Steps)), seen.Select(p => p.Run));
        Assert.Equal(["Elman RNN", "LSTM", "attention", "Elman RNN", "LSTM", "attention"], seen.Where(p => p.Step.Step == 1).Select(p => p.Model));
    }

    [Fact]
    public void Stopping_the_experiment_throws_with_where_it_stopped()
    {
        using var stop = new CancellationTokenSource();
        var error = Assert.ThrowsAny<OperationCanceledException>(() => LongRangeExperiment.Run(Tiny, p =>
        {
            if (p.Run == 2 && p.Step.Step == 3)
            {
                stop.Cancel();
            }
        }, stop.Token));
        Assert.Contains("during run 2 of 6 (LSTM at L = 2)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_settings_are_refused_before_anything_trains()
    {
        var steps = 0;
        void Refused(LongRangeSettings settings, string part)
        {
            var error = Assert.ThrowsAny<ArgumentException>(() => LongRangeExperiment.Run(settings, _ => steps++));
            Assert.Contains(part, error.Message, StringComparison.Ordinal);
        }

        Refused(Tiny with { Distances = [] }, "no distances");
        Refused(Tiny with { Distances = [10, 5] }, "larger than the one before");
        Refused(Tiny with { Distances = [0] }, "L = 0");
        Refused(Tiny with { LearningRate = 0 }, "learning rate");
        Refused(Tiny with { LearningRate = double.NaN }, "learning rate");
        Refused(Tiny with { Steps = 0 }, "steps");
        Refused(Tiny with { BatchSize = 0 }, "batch size");
        Refused(Tiny with { ClipNorm = -1 }, "clipping norm");
        Refused(Tiny with { Heads = 3 }, "divisible");
        Assert.Equal(0, steps);
    }

    [Fact]
    public void Median_is_the_middle_value_or_the_mean_of_the_two_middle_values()
    {
        Assert.Equal(2, LongRangeExperiment.Median([3, 1, 2]));
        Assert.Equal(2.5, LongRangeExperiment.Median([4, 1, 3, 2]));
        Assert.Equal(7, LongRangeExperiment.Median([7]));
        Assert.Throws<ArgumentException>(() => LongRangeExperiment.Median([]));
    }
}
