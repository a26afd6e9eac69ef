using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>
/// Notebook 10's retraining with other seeds and another forget-gate start: the settings reach the models, the
/// sentences say what the numbers show, and attention's result at the longest L with the notebook's settings is
/// measured over several seeds, not one.
/// </summary>
public class LongRangeSpotTests
{
    private static readonly LongRangeSettings Tiny = LongRangeSettings.Notebook with { Distances = [2, 3], Steps = 5, BatchSize = 4, TestSequences = 16 };

    private static readonly int[] TwoDistances = [20, 50];

    private static LongRangeSpot Spot(int seed, int correct, string model = "attention", int distance = 200) => new(model, distance, seed, 1, correct, 512);

    [Fact]
    public void The_seed_sentence_names_the_seeds_that_held_and_what_the_others_reached()
    {
        Assert.Equal(
            "Retrained at L = 200 with seeds 1, 2 and 3, everything else the same, attention held (at least 95.0% right) with 1 of the 3 (seed 2); it was right with seed 1 on 64.8% and with seed 3 on 11.5%: at this budget its result at L = 200 depends on the seed, and one seed's table does not settle it.",
            LongRangeReport.SeedSentence([Spot(1, 332), Spot(2, 512), Spot(3, 59)]));
        Assert.Equal(
            "Retrained at L = 200 with seeds 4 and 5, everything else the same, attention held (at least 95.0% right) with 2 of the 2: at this budget its result at L = 200 did not depend on which of these seeds it started from.",
            LongRangeReport.SeedSentence([Spot(4, 487), Spot(5, 512)]));
        Assert.Contains("with 0 of the 1; it was right with seed 7 on 94.9%", LongRangeReport.SeedSentence([Spot(7, 486)]), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => LongRangeReport.SeedSentence([]));
        Assert.Throws<ArgumentException>(() => LongRangeReport.SeedSentence([Spot(1, 1), Spot(1, 2)]));
        Assert.Throws<ArgumentException>(() => LongRangeReport.SeedSentence([Spot(1, 1), Spot(2, 2, "LSTM")]));
    }

    [Fact]
    public void The_forget_bias_sentence_puts_the_new_start_next_to_the_table()
    {
        var rows = new[] { ("Elman RNN", LongRangeModelKind.Recurrent, 60), ("LSTM", LongRangeModelKind.Recurrent, 62), ("attention", LongRangeModelKind.Attention, 512) }
            .SelectMany(m => TwoDistances.Select(d => new LongRangeResult(m.Item1, m.Item2, d, d + 1, 100, m.Item3, 512, 1e-3, 1e-3, 1e-3))).ToList();
        var report = new LongRangeReport(rows, 0.125);
        LongRangeSpot[] spots = [new("LSTM", 20, 2, 3, 512, 512), new("LSTM", 50, 2, 3, 40, 512)];
        Assert.Equal(
            "With the forget-gate bias starting at 3 instead of 1 (same seed, same steps), the LSTM was right on 100.0% at L = 20 and 7.8% at L = 50; with 1 (the table) on 12.1% at L = 20 and 12.1% at L = 50: the start was better at 1 of these 2 distances.",
            report.ForgetBiasSentence(spots, 1));
        Assert.Throws<ArgumentException>(() => report.ForgetBiasSentence([new("LSTM", 200, 2, 3, 1, 512)], 1));
        Assert.Throws<ArgumentException>(() => report.ForgetBiasSentence([spots[0], spots[1] with { Seed = 3 }], 1));
    }

    [Fact]
    public void Spots_train_like_the_experiment_and_the_forget_bias_reaches_the_lstm()
    {
        var experiment = LongRangeExperiment.Run(Tiny);
        var spot = LongRangeExperiment.Spots(Tiny, "LSTM", 3, [Tiny.Seed]).Single();
        Assert.Equal(experiment.Report.Result("LSTM", 3).Correct, spot.Correct);
        Assert.Equal(16, spot.Tested);

        var task = new RememberFirstTask(3);
        var lstm = (LstmModel)LongRangeExperiment.Models(Tiny with { ForgetBias = 3 }, task).Single(m => m.Model.Name == "LSTM").Model;
        var bias = lstm.Parameters.Single(p => p.Name == "lstm.b (i|f|g|o)").Value;
        Assert.Equal(3, bias[0, Tiny.Hidden]);
        Assert.Equal(0, bias[0, 0]);
        Assert.Throws<ArgumentException>(() => LongRangeExperiment.Spots(Tiny, "GRU", 3, [1]));
        Assert.Throws<ArgumentException>(() => LongRangeExperiment.Spots(Tiny, "LSTM", 3, []));
        Assert.Throws<ArgumentException>(() => LongRangeExperiment.Run(Tiny with { ForgetBias = double.NaN }));
        Assert.Throws<ArgumentException>(() => LongRangeExperiment.Run(Tiny with { CheckSeeds = [1, 1] }));
    }

    /// <summary>
    /// The Done-when, measured honestly: attention trained exactly as notebook 10 trains it (settings, model,
    /// trainer, test sequences) at the longest L, with every check seed. It must hold with the notebook's own seed and
    /// with most check seeds (at least 3 of 5), and the sentence the notebook prints must follow from these numbers.
    /// Measured: seeds 1-5 gave 64.8%, 100%, 11.5%, 100%, 100%; the sentence says so, not "attention holds".
    /// </summary>
    [Fact]
    public void Attention_at_the_longest_distance_holds_with_most_check_seeds_and_the_notebook_seed()
    {
        var settings = LongRangeSettings.Notebook;
        var longest = settings.Distances[^1];
        Assert.True(longest >= 200, $"the notebook's longest distance is L = {longest}; the issue asks for at least 200");
        Assert.Contains(settings.Seed, settings.CheckSeeds);
        var spots = LongRangeExperiment.Spots(settings, "attention", longest, settings.CheckSeeds);
        var held = spots.Where(s => s.Correct >= 0.95 * s.Tested).Select(s => s.Seed).ToList();
        var table = string.Join(", ", spots.Select(s => $"seed {s.Seed}: {s.Correct}/{s.Tested}"));
        Assert.Contains(settings.Seed, held);
        Assert.True(held.Count >= 3, $"attention held at L = {longest} with {held.Count} of {spots.Count} seeds ({table})");
        var sentence = LongRangeReport.SeedSentence(spots);
        Assert.Contains($"with {held.Count} of the {spots.Count}", sentence, StringComparison.Ordinal);
        Assert.Equal(held.Count < spots.Count, sentence.Contains("depends on the seed", StringComparison.Ordinal));
    }
}
