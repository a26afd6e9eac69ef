using System.Text.Json.Nodes;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Tests.Notebooks;

/// <summary>The live progress line, the share of weight on the right key, and the training charts.</summary>
public class TrainingDisplayTests
{
    private sealed class FrontEnd
    {
        public List<string> Shown { get; } = [];

        public List<string> Updates { get; } = [];

        public Action<string> Show(string html)
        {
            Shown.Add(html);
            return Updates.Add;
        }
    }

    [Fact]
    public void Under_automation_a_live_line_sends_only_its_final_text_once()
    {
        var front = new FrontEnd();
        var line = new LiveLine(front.Show, live: false, TimeSpan.Zero);
        for (var step = 1; step <= 500; step++)
        {
            line.Report($"step {step}");
        }

        Assert.Empty(front.Shown);
        line.Finish("done");
        Assert.Equal(["done"], front.Shown);
        Assert.Empty(front.Updates);
        Assert.Equal(1, line.Sent);
        Assert.Throws<InvalidOperationException>(() => line.Finish("again"));
    }

    [Fact]
    public void A_live_front_end_gets_one_display_then_updates_in_place_ending_on_the_final_text()
    {
        var front = new FrontEnd();
        var line = new LiveLine(front.Show, live: true, TimeSpan.Zero);
        line.Report("step 1");
        line.Report("step 2");
        line.Finish("done");
        Assert.Equal(["step 1"], front.Shown);
        Assert.Equal(["step 2", "done"], front.Updates);
        line.Report("step 3");
        Assert.Equal(["step 2", "done"], front.Updates);
    }

    [Fact]
    public void Progress_is_throttled_but_the_final_text_always_arrives()
    {
        var front = new FrontEnd();
        var line = new LiveLine(front.Show, live: true, TimeSpan.FromHours(1));
        for (var step = 1; step <= 1000; step++)
        {
            line.Report($"step {step}");
        }

        line.Finish("done");
        Assert.Equal(["step 1"], front.Shown);
        Assert.Equal(["done"], front.Updates);
        Assert.Equal("done", line.Latest);
    }

    [Fact]
    public void Without_a_kernel_nothing_is_shown_and_the_cell_is_never_cancelled()
    {
        var line = new LiveLine(null, live: false, TimeSpan.Zero);
        line.Report("step 1");
        line.Finish("done");
        Assert.Equal(0, line.Sent);
        Assert.Equal("done", line.Latest);
        Assert.False(LiveOutput.CellCancellation.IsCancellationRequested);
    }

    [Fact]
    public void The_share_on_the_right_key_averages_the_scored_queries_only()
    {
        var weights = Matrix<double>.Build.DenseOfArray(new double[,] { { 0.1, 0.2, 0.7 }, { 0.3, 0.4, 0.3 }, { 0.9, 0.05, 0.05 } });
        Assert.Equal((0.7 + 0.9) / 2, AttentionShare.OnAnswers(weights, [2, -1, 0]), 15);
        Assert.Equal((0.7 + 0.4 + 0.9) / 3, AttentionShare.OnAnswers(weights, [2, 1, 0]), 15);
        Assert.Equal(1.0, AttentionShare.OnAnswers(AttentionShare.Ideal([2, 1, 0]), [2, 1, 0]));
        Assert.Equal(1.0 / 3, AttentionShare.OnAnswers(Matrix<double>.Build.Dense(3, 3, 1.0 / 3), [2, 1, 0]), 15);
        Assert.Throws<ArgumentException>(() => AttentionShare.OnAnswers(weights, [2, 1]));
        Assert.Throws<ArgumentException>(() => AttentionShare.OnAnswers(weights, [3, 1, 0]));
        Assert.Throws<ArgumentException>(() => AttentionShare.OnAnswers(weights, [-1, -1, -1]));
    }

    [Fact]
    public void The_slider_heatmap_has_one_step_per_snapshot_opens_on_the_last_and_names_each_share()
    {
        var uniform = Matrix<double>.Build.Dense(3, 3, 1.0 / 3);
        var ideal = AttentionShare.Ideal([2, 1, 0]);
        AttentionFrame[] frames = [new(0, uniform, 1.0 / 3), new(50, (uniform + ideal) / 2, 2.0 / 3), new(100, ideal, 1)];
        var figure = TrainingPlots.AttentionThroughTraining(frames, ["4", "2", "7"], "Head 0 on 4 2 7");
        var json = JsonNode.Parse(figure.Json)!;
        var slider = json["layout"]!["sliders"]![0]!;
        var steps = slider["steps"]!.AsArray();
        Assert.Equal(3, steps.Count);
        Assert.Equal(2, (int)slider["active"]!);
        Assert.Equal(["0", "50", "100"], steps.Select(s => (string?)s!["label"]));
        Assert.Contains("33.3% of the weight on the right key", (string?)steps[0]!["args"]![1]!["title.text"], StringComparison.Ordinal);
        Assert.Contains("untrained", (string?)steps[0]!["args"]![1]!["title.text"], StringComparison.Ordinal);
        Assert.Contains("100.0% of the weight on the right key", (string?)json["layout"]!["title"]!["text"], StringComparison.Ordinal);
        Assert.Equal(1.0, (double)steps[2]!["args"]![0]!["z"]![0]![0]![2]!);
        Assert.Equal(1.0, (double)json["data"]![0]!["z"]![0]![2]!);
        Assert.Equal(0.0, (double?)json["data"]![0]!["zmin"]);
        Assert.Equal(1.0, (double?)json["data"]![0]!["zmax"]);
        Assert.InRange(figure.Width, 300, 1000);
        Assert.Throws<ArgumentException>(() => TrainingPlots.AttentionThroughTraining([frames[1], frames[0]], ["4", "2", "7"], "t"));
        Assert.Throws<ArgumentException>(() => TrainingPlots.AttentionThroughTraining(frames, ["4", "2"], "t"));
        Assert.Throws<ArgumentException>(() => TrainingPlots.AttentionThroughTraining([], ["4", "2", "7"], "t"));
    }

    [Fact]
    public void Curves_draw_loss_on_a_log_axis_and_accuracy_in_percent_side_by_side_within_a_page()
    {
        var grid = TrainingPlots.Curves([1, 2, 3], [2.3, 1.1, 0.2], [0.1, 0.5, 1.0], "attention on reverse");
        Assert.Equal(2, grid.Figures.Count);
        Assert.True(grid.Figures.Sum(f => f.Width) <= 1000, "two curve charts side by side must fit a 1,000-pixel page");
        var loss = JsonNode.Parse(grid.Figures[0].Json)!;
        Assert.Equal("log", (string?)loss["layout"]!["yaxis"]!["type"]);
        var accuracy = JsonNode.Parse(grid.Figures[1].Json)!;
        Assert.Equal([10.0, 50.0, 100.0], accuracy["data"]![0]!["y"]!.AsArray().Select(v => (double)v!));
        Assert.Throws<ArgumentException>(() => TrainingPlots.Curves([1, 2], [1.0, double.NaN], [0.1, 0.2], "t"));
        Assert.Throws<ArgumentException>(() => TrainingPlots.Curves([1, 2], [1.0], [0.1, 0.2], "t"));
    }

    [Theory]
    [InlineData(0.8996, 90.0, true)]
    [InlineData(0.8994, 89.9, false)]
    [InlineData(1.0, 100.0, true)]
    public void The_share_verdict_follows_the_printed_percent(double last, double printed, bool found)
    {
        var share = new ShareReport(1, 8, 0, 0.12, 200, last);
        Assert.Equal(printed, share.LastPercent);
        Assert.Equal(found, share.FoundIdealPattern);
        Assert.Contains($"{printed.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)}% of the weight", share.Sentence, StringComparison.Ordinal);
        Assert.Equal(found, share.Sentence.EndsWith("it has found the ideal pattern.", StringComparison.Ordinal));
        var heads = new ShareReport(4, 8, 0, 0.12, 200, last);
        Assert.Contains("the 4 heads put", heads.Sentence, StringComparison.Ordinal);
        Assert.Equal(found, heads.Sentence.EndsWith("together they have found the ideal pattern.", StringComparison.Ordinal));
        Assert.DoesNotContain("1/8", share.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void The_loss_chart_ticks_powers_of_ten_and_draws_the_even_spread_level()
    {
        var grid = TrainingPlots.Curves([1, 2, 3], [2.99, 0.5, 0.004], [0.1, 0.5, 1.0], "t", evenSpread: 11);
        var loss = JsonNode.Parse(grid.Figures[0].Json)!;
        Assert.Equal([0.001, 0.01, 0.1, 1.0, 10.0], loss["layout"]!["yaxis"]!["tickvals"]!.AsArray().Select(v => (double)v!));
        Assert.Equal(["0.001", "0.01", "0.1", "1", "10"], loss["layout"]!["yaxis"]!["ticktext"]!.AsArray().Select(v => (string)v!));
        var level = loss["data"]!.AsArray()[1]!;
        Assert.Equal([Math.Log(11), Math.Log(11)], level["y"]!.AsArray().Select(v => (double)v!));
        Assert.Equal([1.0, 3.0], level["x"]!.AsArray().Select(v => (double)v!));
        Assert.StartsWith("ln 11 = 2.40", (string)level["name"]!, StringComparison.Ordinal);
        Assert.Single(JsonNode.Parse(TrainingPlots.Curves([1, 2], [2.0, 1.0], [0.1, 0.5], "t").Figures[0].Json)!["data"]!.AsArray());
    }

    [Theory]
    [InlineData(2.9912, 11, "above it")]
    [InlineData(2.4484, 11, "close to it")]
    [InlineData(2.4486, 11, "above it")]
    [InlineData(2.3476, 11, "close to it")]
    [InlineData(2.3474, 11, "below it")]
    [InlineData(1.9, 20, "below it")]
    public void The_first_loss_verdict_follows_the_two_printed_numbers(double loss, int outputs, string verdict)
    {
        var first = new FirstLossReport(loss, outputs);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"is {first.LossPrinted:0.000}, against ln {outputs} = {Math.Log(outputs):0.000} "), first.Sentence, StringComparison.Ordinal);
        Assert.Contains(": " + verdict, first.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void The_share_of_several_heads_takes_for_each_query_the_head_that_reads_its_right_key()
    {
        var answers = new[] { 1, 0 };
        var left = Matrix<double>.Build.DenseOfArray(new double[,] { { 0.1, 0.9 }, { 0.5, 0.5 } });
        var right = Matrix<double>.Build.DenseOfArray(new double[,] { { 0.8, 0.2 }, { 1.0, 0.0 } });
        Assert.Equal(0.7, AttentionShare.OnAnswers(left, answers), 12);
        Assert.Equal(0.6, AttentionShare.OnAnswers(right, answers), 12);
        Assert.Equal(0.95, AttentionShare.OnAnswersAcrossHeads([left, right], answers), 12);
        Assert.Equal(0.7, AttentionShare.OnAnswersAcrossHeads([left], answers), 12);
        Assert.Throws<ArgumentException>(() => AttentionShare.OnAnswersAcrossHeads([], answers));
    }

    [Theory]
    [InlineData(99, 100, true)]
    [InlineData(98, 100, false)]
    [InlineData(3960, 4000, true)]
    [InlineData(3959, 4000, false)]
    public void Held_out_accuracy_reaches_the_goal_on_its_counts(int correct, int scored, bool reaches)
    {
        var heldOut = new HeldOutAccuracy(10, correct, scored, 0.1);
        Assert.Equal(reaches, heldOut.ReachesGoal);
        Assert.Equal(reaches, heldOut.Sentence.EndsWith("That reaches the 99% goal.", StringComparison.Ordinal));
    }
}
