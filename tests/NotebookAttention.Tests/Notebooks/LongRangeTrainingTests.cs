using System.Globalization;
using System.Text.RegularExpressions;
using NotebookAttention.Notebooks;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Notebooks;

/// <summary>
/// Notebook 10's views and exercise checks: the table carries the numbers a test rebuilds the report from, a gradient
/// that underflowed to 0 is left out of the log chart and said so, and every check passes the right answer, fails
/// wrong ones and waits for an empty one.
/// </summary>
public partial class LongRangeTrainingTests
{
    private static readonly int[] Distances = [2, 50, 200];

    private static LongRangeExperiment HandMade(double elmanLateGradient = 1e-40)
    {
        var settings = LongRangeSettings.Notebook with { Distances = Distances, Steps = 4 };
        (string Name, LongRangeModelKind Kind, int[] Correct, double[] Ms)[] models =
        [
            ("Elman RNN", LongRangeModelKind.Recurrent, [512, 70, 60], [1, 4, 15]),
            ("LSTM", LongRangeModelKind.Recurrent, [512, 80, 75], [2, 9, 30]),
            ("attention", LongRangeModelKind.Attention, [512, 512, 510], [2, 10, 70]),
        ];
        var results = models.SelectMany(m => Distances.Select((d, i) => new LongRangeResult(
            m.Name, m.Kind, d, d + 1, 900, m.Correct[i], 512, m.Ms[i] / 1e3, 1e-3, m.Name == "Elman RNN" && d == 200 ? elmanLateGradient : 1e-4))).ToList();
        var curves = models.SelectMany(m => Distances.Select(d => new LongRangeCurve(
            m.Name, d, [2.1, 1.5, 0.7, 0.1], [0.1, 0.4, 0.8, 1], m.Name == "Elman RNN" && d == 200 ? [1e-40, 0, 0, 1e-45] : [1e-3, 1e-3, 1e-4, 1e-4], [0.001, 0.001, 0.001, 0.001], "completed"))).ToList();
        return new LongRangeExperiment(settings, new LongRangeReport(results, LongRangeExperiment.Chance), curves);
    }

    [Fact]
    public void The_table_carries_every_number_of_the_report_and_its_sentences()
    {
        var experiment = HandMade();
        var html = LongRangeTraining.Table(experiment).Html;
        Assert.Contains($"data-chance=\"{LongRangeExperiment.Chance.ToString("R", CultureInfo.InvariantCulture)}\" data-tested=\"512\"", html, StringComparison.Ordinal);
        var rows = Row().Matches(html);
        Assert.Equal(9, rows.Count);
        var attention200 = rows.Single(r => r.Groups["model"].Value == "attention" && r.Groups["distance"].Value == "200");
        Assert.Equal("510", attention200.Groups["correct"].Value);
        Assert.Equal(0.07, double.Parse(attention200.Groups["seconds"].Value, CultureInfo.InvariantCulture));
        Assert.Contains(">510/512</td>", attention200.Value, StringComparison.Ordinal);
        Assert.Contains(">99.6%</td>", attention200.Value, StringComparison.Ordinal);
        Assert.Contains(">70.00</td>", attention200.Value, StringComparison.Ordinal);
        foreach (var sentence in experiment.Report.Conclusions)
        {
            // The growth of the time per step follows from timings: the page marks it, so a comparison of two runs masks it alone.
            var opening = sentence == experiment.Report.TimingDependentConclusion ? $"<li {LongRangeTraining.TimingDependentAttribute}=\"true\">" : "<li>";
            Assert.Contains(opening + System.Net.WebUtility.HtmlEncode(sentence) + "</li>", html, StringComparison.Ordinal);
        }

        Assert.NotNull(experiment.Report.TimingDependentConclusion);
        Assert.Contains("time per training step grew", experiment.Report.TimingDependentConclusion, StringComparison.Ordinal);
        Assert.Single(experiment.Report.Conclusions, c => c == experiment.Report.TimingDependentConclusion);
    }

    [Fact]
    public void A_gradient_of_exactly_zero_is_left_out_of_the_log_chart_and_counted_in_its_title()
    {
        var figure = LongRangeTraining.GradientChart(HandMade(), 200);
        Assert.EndsWith("(2 steps at exactly 0 left out)", figure.Title, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Count(figure.TableHtml, ">Elman RNN</th>"));
        Assert.Equal(4, Regex.Count(figure.TableHtml, ">LSTM</th>"));
        Assert.DoesNotContain("left out", LongRangeTraining.GradientChart(HandMade(), 50).Title, StringComparison.Ordinal);
    }

    [Fact]
    public void The_charts_draw_every_model()
    {
        var experiment = HandMade();
        foreach (var figure in new[] { LongRangeTraining.AccuracyChart(experiment), LongRangeTraining.TimeChart(experiment) })
        {
            Assert.All(experiment.Report.Models, m => Assert.Contains($"\"name\":\"{m}\"", figure.Json, StringComparison.Ordinal));
        }

        Assert.Equal(2, LongRangeTraining.TrainingCurves(experiment, 200).Figures.Count);
        Assert.Contains("chance (12.5%)", LongRangeTraining.AccuracyChart(experiment).Json, StringComparison.Ordinal);
    }

    [Fact]
    public void The_parameters_table_lists_each_model_tensor_by_tensor_with_its_total()
    {
        var view = LongRangeTraining.Parameters(LongRangeSettings.Notebook, 200);
        var task = new RememberFirstTask(200);
        foreach (var (model, _, count) in LongRangeExperiment.Models(LongRangeSettings.Notebook, task))
        {
            Assert.Contains(count.ToString("N0", CultureInfo.InvariantCulture), view.Html, StringComparison.Ordinal);
            Assert.All(model.Parameters, p => Assert.Contains($"{p.Name} [{p.Value.RowCount} x {p.Value.ColumnCount}]", view.Html, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_examples_show_the_signal_first_and_the_question_mark_last()
    {
        var html = LongRangeTraining.Examples(5).Html;
        Assert.Matches(@"<td[^>]*>[a-h] \d \d \d \d \?</td><td[^>]*>[a-h]</td>", html);
    }

    [Fact]
    public void Exercise_1_wants_the_square_of_the_length_ratio_of_the_two_longest_distances()
    {
        var experiment = HandMade();
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.LongRangeTrained.QuadraticGrowth(null, experiment).Status);
        Assert.True(Exercises.LongRangeTrained.QuadraticGrowth(Math.Pow(201.0 / 51, 2), experiment).IsCorrect);
        Assert.True(Exercises.LongRangeTrained.QuadraticGrowth(15.5, experiment).IsCorrect);
        Assert.False(Exercises.LongRangeTrained.QuadraticGrowth(201.0 / 51, experiment).IsCorrect);
        Assert.False(Exercises.LongRangeTrained.QuadraticGrowth(Math.Pow(201.0 / 3, 2), experiment).IsCorrect);
    }

    [Fact]
    public void Exercise_2_wants_the_lstm_parameter_count_at_h_64()
    {
        var settings = LongRangeSettings.Notebook;
        var right = (20 * settings.Embedding) + ((settings.Embedding + 64 + 1) * 4 * 64) + ((64 + 1) * 20);
        Assert.Equal(20_148, right);
        Assert.True(Exercises.LongRangeTrained.LstmParameters(right, settings).IsCorrect);
        Assert.False(Exercises.LongRangeTrained.LstmParameters(right - 20, settings).IsCorrect);
        Assert.False(Exercises.LongRangeTrained.LstmParameters((20 * 8) + ((8 + 64 + 1) * 64) + ((64 + 1) * 20), settings).IsCorrect);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.LongRangeTrained.LstmParameters(null, settings).Status);
    }

    [Fact]
    public void Exercise_3_wants_the_distance_from_which_the_elman_rnn_was_at_chance()
    {
        var experiment = HandMade();
        Assert.Equal(50, experiment.Report.AtChanceFrom("Elman RNN"));
        Assert.True(Exercises.LongRangeTrained.ElmanAtChanceFrom(50, experiment).IsCorrect);
        Assert.False(Exercises.LongRangeTrained.ElmanAtChanceFrom(200, experiment).IsCorrect);
        Assert.False(Exercises.LongRangeTrained.ElmanAtChanceFrom(0, experiment).IsCorrect);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.LongRangeTrained.ElmanAtChanceFrom(null, experiment).Status);
    }

    [Fact]
    public void Exercise_4_wants_where_the_lstm_held_in_the_learners_own_experiment_with_another_forget_bias()
    {
        var made = HandMade();
        var mine = new LongRangeExperiment(made.Settings with { ForgetBias = 3 }, made.Report, made.Curves);
        Assert.Equal(2, mine.Report.HeldUpTo("LSTM"));
        Assert.True(Exercises.LongRangeTrained.LstmHeldUpTo(2, mine).IsCorrect);
        Assert.False(Exercises.LongRangeTrained.LstmHeldUpTo(50, mine).IsCorrect);
        Assert.False(Exercises.LongRangeTrained.LstmHeldUpTo(0, mine).IsCorrect);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.LongRangeTrained.LstmHeldUpTo(null, mine).Status);
        Assert.Equal(ExerciseStatus.NotAnswered, Exercises.LongRangeTrained.LstmHeldUpTo(2, null).Status);
        var unchanged = Exercises.LongRangeTrained.LstmHeldUpTo(2, made);
        Assert.False(unchanged.IsCorrect);
        Assert.Contains("ForgetBias = 3", unchanged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_spot_tables_carry_each_seed_and_bias_with_the_sentence()
    {
        var made = HandMade();
        var html = LongRangeTraining.ForgetBiasView(made, [new LongRangeSpot("LSTM", 50, 2, 3, 400, 512), new LongRangeSpot("LSTM", 200, 2, 3, 70, 512)]).Html;
        Assert.Contains("<tr data-model=\"LSTM\" data-distance=\"50\" data-seed=\"2\" data-forget-bias=\"3\" data-correct=\"400\" data-tested=\"512\">", html, StringComparison.Ordinal);
        Assert.Contains(">400/512</td><td style=\"padding:2px 6px;text-align:right\">78.1%</td>", html, StringComparison.Ordinal);
        Assert.Contains("<li>" + System.Net.WebUtility.HtmlEncode(made.Report.ForgetBiasSentence([new LongRangeSpot("LSTM", 50, 2, 3, 400, 512), new LongRangeSpot("LSTM", 200, 2, 3, 70, 512)], 1)) + "</li>", html, StringComparison.Ordinal);
    }

    [GeneratedRegex("""<tr data-model="(?<model>[^"]+)" data-kind="\w+" data-distance="(?<distance>\d+)" data-length="\d+" data-parameters="\d+" data-correct="(?<correct>\d+)" data-seconds="(?<seconds>[^"]+)" data-early="[^"]+" data-late="[^"]+">.*?</tr>""", RegexOptions.Singleline)]
    private static partial Regex Row();
}
