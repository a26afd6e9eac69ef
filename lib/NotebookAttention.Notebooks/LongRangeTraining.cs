using System.Globalization;
using System.Net;
using System.Text;
using NotebookAttention.Training;

namespace NotebookAttention.Notebooks;

/// <summary>
/// Notebook 10's pictures and tables: the three models' accuracy against L, their training curves, the gradient that
/// reached the first position during training, their time per step against n, their parameters side by side, and the
/// table of results with the sentences <see cref="LongRangeReport"/> derives from it.
/// </summary>
public static class LongRangeTraining
{
    /// <summary>The class of the results table, for tests that read the numbers back from an executed notebook.</summary>
    public const string TableClass = "na-long-range";

    /// <summary>Steps averaged in the accuracy curves (one batch's accuracy jumps by 1/batch from step to step).</summary>
    public const int AccuracyWindow = 10;

    /// <summary>
    /// Runs the experiment with a live progress line (run, model, L, step, loss, batch accuracy; updated in place where
    /// the front end can) ending in a summary the series runner prints, and the cell's stop button: stopping keeps
    /// nothing half-measured, it stops the experiment.
    /// </summary>
    /// <returns>The finished experiment.</returns>
    public static LongRangeExperiment Train(LongRangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var line = LiveOutput.Line();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var experiment = LongRangeExperiment.Run(
            settings,
            p => line.Report(Line(Invariant($"run {p.Run} of {p.Runs}: {p.Model} at L = {p.Distance}, step {p.Step.Step} of {settings.Steps}, loss {p.Step.Loss:0.000}, batch accuracy {100 * p.Step.Accuracy:0.0}%"))),
            LiveOutput.CellCancellation);
        var report = experiment.Report;
        var longest = report.Distances[^1];
        var summary = Invariant($"{experiment.Curves.Count} runs ({report.Models.Count} models x {report.Distances.Count} distances, {settings.Steps} steps each) in {clock.Elapsed.TotalSeconds:0.0} s; right at L = {longest}: ")
            + string.Join(", ", report.Models.Select(m => $"{m} {LongRangeReport.Percent(report.Result(m, longest).Accuracy)}"));
        line.Finish($"<div class=\"na-progress\" {LiveOutput.SummaryAttribute}=\"{WebUtility.HtmlEncode(summary)}\" style=\"font:13px monospace\">trained {WebUtility.HtmlEncode(summary)}</div>");
        return experiment;
    }

    /// <summary>A few sequences of the task at distance L, with their answers: what the models see.</summary>
    /// <param name="distance">L.</param>
    /// <param name="sequences">How many to show.</param>
    /// <param name="seed">Seed of the generator that draws them.</param>
    public static TableView Examples(int distance, int sequences = 4, int seed = 1)
    {
        var task = new RememberFirstTask(distance);
        var batch = task.Sample(sequences, new Random(seed));
        var rows = batch.Inputs.Select((input, s) => (IReadOnlyList<string>)[
            string.Join(" ", input.Select(id => task.Symbols[id])),
            task.Symbols[batch.Targets[s][distance]],
        ]).ToList();
        var html = NotebookAttention.Notebooks.Table.Of(["#", "input (position 0 first)", "answer at '?'"], [.. Enumerable.Range(1, sequences).Select(i => i.ToString(CultureInfo.InvariantCulture))], rows);
        return new TableView(Invariant($"{task.Name}: {task.MaxLength} tokens per sequence; only the '?' is scored, and a guess is right 1 time in {RememberFirstTask.Signals}."), html);
    }

    /// <summary>The three models' parameters side by side, tensor by tensor, for the task at distance L.</summary>
    /// <param name="settings">Sizes and seed.</param>
    /// <param name="distance">L (attention's positions are sized by the sequence length).</param>
    public static TableView Parameters(LongRangeSettings settings, int distance)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var models = LongRangeExperiment.Models(settings, new RememberFirstTask(distance));
        var depth = models.Max(m => m.Model.Parameters.Count);
        var rows = Enumerable.Range(0, depth).Select(i => (IReadOnlyList<string>)[.. models.Select(m => i < m.Model.Parameters.Count ? Describe(m.Model.Parameters[i]) : string.Empty)]).ToList();
        rows.Add([.. models.Select(m => m.Parameters.ToString("N0", CultureInfo.InvariantCulture))]);
        var labels = Enumerable.Range(1, depth).Select(i => i.ToString(CultureInfo.InvariantCulture)).Append("total").ToList();
        var html = NotebookAttention.Notebooks.Table.Of(["#", .. models.Select(m => m.Model.Name)], labels, rows);
        return new TableView(Invariant($"Learned tensors at L = {distance}: name [rows x columns] = scalars. Elman RNN and LSTM: h = {settings.Hidden}, e = {settings.Embedding}; attention: d_model = {settings.DModel}, {settings.Heads} head{(settings.Heads == 1 ? string.Empty : "s")}, feed-forward {settings.FeedForward}."), html);
    }

    /// <summary>Test accuracy against L, one line per model, with chance and the 95% line.</summary>
    /// <param name="experiment">A finished experiment.</param>
    /// <returns>The figure (log x).</returns>
    public static Figure AccuracyChart(LongRangeExperiment experiment)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        var report = experiment.Report;
        IReadOnlyList<double> distances = [.. report.Distances.Select(d => (double)d)];
        var ends = (IReadOnlyList<double>)[distances[0], distances[^1]];
        List<(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)> curves =
        [
            .. report.Models.Select(m => (m, distances, (IReadOnlyList<double>)[.. report.Distances.Select(d => 100 * report.Result(m, d).Accuracy)])),
            (Invariant($"holds ({100 * LongRangeReport.SolvedShare:0}%)"), ends, [100 * LongRangeReport.SolvedShare, 100 * LongRangeReport.SolvedShare]),
            (Invariant($"chance ({100 * report.Chance:0.0}%)"), ends, [100 * report.Chance, 100 * report.Chance]),
        ];
        return Plots.Curves(
            Invariant($"Test accuracy against L (trained weights, {experiment.Settings.Steps} steps of {experiment.Settings.BatchSize} each, {report.Tested} test sequences)"),
            "distance L", "right answers (%)", curves, logX: true, logY: false);
    }

    /// <summary>Training loss and accuracy per step of the three models at one distance.</summary>
    /// <param name="experiment">A finished experiment.</param>
    /// <param name="distance">L, one of the experiment's distances.</param>
    /// <returns>Two figures side by side.</returns>
    public static FigureGrid TrainingCurves(LongRangeExperiment experiment, int distance)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        var curves = experiment.Report.Models.Select(m => experiment.Curve(m, distance)).ToList();
        static IReadOnlyList<double> Steps(int count) => [.. Enumerable.Range(1, count).Select(s => (double)s)];
        var loss = Plots.Curves(Invariant($"Training loss at L = {distance}"), "step", "loss (nats)",
            [.. curves.Select(c => (c.Model, Steps(c.Loss.Count), c.Loss))], logX: false, logY: false);
        var accuracy = Plots.Curves(Invariant($"Batch accuracy at L = {distance} (mean of the last {AccuracyWindow} steps)"), "step", "right answers (%)",
            [.. curves.Select(c => (c.Model, Steps(c.Accuracy.Count), Smooth(c.Accuracy)))], logX: false, logY: false);
        return Plots.Row(loss, accuracy);
    }

    /// <summary>
    /// ||dLoss/dx_0||, the gradient reaching the first position's input, at every training step of the three models at
    /// one distance, on a log axis. A step where it is exactly 0 (it underflowed) cannot be drawn on a log axis and is
    /// left out; the title says how many.
    /// </summary>
    /// <param name="experiment">A finished experiment.</param>
    /// <param name="distance">L, one of the experiment's distances.</param>
    public static Figure GradientChart(LongRangeExperiment experiment, int distance)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        var curves = experiment.Report.Models.Select(m => experiment.Curve(m, distance)).ToList();
        var zeros = curves.Sum(c => c.FirstGradient.Count(g => g == 0));
        var drawn = curves.Where(c => c.FirstGradient.Any(g => g > 0)).Select(c =>
        {
            var kept = Enumerable.Range(0, c.FirstGradient.Count).Where(s => c.FirstGradient[s] > 0).ToList();
            return (c.Model, (IReadOnlyList<double>)[.. kept.Select(s => s + 1.0)], (IReadOnlyList<double>)[.. kept.Select(s => c.FirstGradient[s])]);
        }).ToList();
        var title = Invariant($"Gradient reaching the first position during training, L = {distance}")
            + (zeros == 0 ? string.Empty : Invariant($" ({zeros} steps at exactly 0 left out)"));
        return Plots.Curves(title, "step", "||∂loss / ∂x_0||", drawn, logX: false, logY: true);
    }

    /// <summary>Median seconds per training step against the sequence length n, one line per model, log-log.</summary>
    /// <param name="experiment">A finished experiment.</param>
    public static Figure TimeChart(LongRangeExperiment experiment)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        var report = experiment.Report;
        IReadOnlyList<double> lengths = [.. report.Distances.Select(d => (double)report.Length(d))];
        return Plots.Curves(
            Invariant($"Time per training step against n (median over steps {experiment.Settings.Steps / 2 + 1}-{experiment.Settings.Steps}, batch {experiment.Settings.BatchSize}, {experiment.Settings.Threads} threads)"),
            "tokens per sequence n", "seconds per step",
            [.. report.Models.Select(m => (m, lengths, (IReadOnlyList<double>)[.. report.Distances.Select(d => report.Result(m, d).SecondsPerStep)]))]);
    }

    /// <summary>
    /// The results, one row per distance and model, and the conclusions. Each row carries its exact numbers as
    /// <c>data-</c> attributes (the table its chance and test size), so a test can rebuild the report from the page
    /// and check that every sentence follows.
    /// </summary>
    /// <param name="experiment">A finished experiment.</param>
    public static TableView Table(LongRangeExperiment experiment)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        var report = experiment.Report;
        const string cell = "padding:2px 6px;text-align:right";
        var html = new StringBuilder(Invariant($"<table class=\"na-table {TableClass}\" data-chance=\"{report.Chance:R}\" data-tested=\"{report.Tested}\" style=\"border-collapse:collapse;font:12px monospace\"><thead><tr>"));
        foreach (var header in new[] { "L", "n", "model", "parameters", "right", "right (%)", "ms per step", "∂loss/∂x_0, first tenth", "∂loss/∂x_0, last tenth", "run" })
        {
            html.Append(Invariant($"<th style=\"{cell}\">{WebUtility.HtmlEncode(header)}</th>"));
        }

        html.Append("</tr></thead><tbody>");
        foreach (var distance in report.Distances)
        {
            foreach (var model in report.Models)
            {
                var r = report.Result(model, distance);
                var ending = experiment.Curve(model, distance).Ending;
                html.Append(Invariant($"<tr data-model=\"{WebUtility.HtmlEncode(r.Model)}\" data-kind=\"{r.Kind}\" data-distance=\"{r.Distance}\" data-length=\"{r.Length}\" data-parameters=\"{r.Parameters}\" data-correct=\"{r.Correct}\" data-seconds=\"{r.SecondsPerStep:R}\" data-early=\"{r.FirstGradientEarly:R}\" data-late=\"{r.FirstGradientLate:R}\">"))
                    .Append(Invariant($"<td style=\"{cell}\">{r.Distance}</td><td style=\"{cell}\">{r.Length}</td><td style=\"{cell}\">{WebUtility.HtmlEncode(r.Model)}</td><td style=\"{cell}\">{r.Parameters:N0}</td>"))
                    .Append(Invariant($"<td style=\"{cell}\">{r.Correct}/{r.Tested}</td><td style=\"{cell}\">{LongRangeReport.Percent(r.Accuracy)}</td><td style=\"{cell}\">{r.SecondsPerStep * 1e3:0.00}</td>"))
                    .Append(Invariant($"<td style=\"{cell}\">{LongRangeReport.Scientific(r.FirstGradientEarly)}</td><td style=\"{cell}\">{LongRangeReport.Scientific(r.FirstGradientLate)}</td><td style=\"{cell}\">{WebUtility.HtmlEncode(ending)}</td></tr>"));
            }
        }

        html.Append("</tbody></table><ul class=\"na-conclusions\" style=\"font:13px sans-serif;max-width:900px\">");
        foreach (var sentence in report.Conclusions)
        {
            html.Append(sentence == report.TimingDependentConclusion ? $"<li {TimingDependentAttribute}=\"true\">" : "<li>").Append(WebUtility.HtmlEncode(sentence)).Append("</li>");
        }

        html.Append("</ul>");
        var settings = experiment.Settings;
        var title = Invariant($"Trained weights: every model trained from scratch at every L with the same budget ({settings.Steps} steps of {settings.BatchSize} sequences, Adam at {settings.LearningRate:G3}, gradients clipped to norm {settings.ClipNorm:G3}, seed {settings.Seed}), then tested on {report.Tested} fresh sequences. ")
            + Invariant($"\"Holds\": at least {100 * LongRangeReport.SolvedShare:0}% right; \"at chance\": at most {LongRangeReport.Percent(report.ChanceLimit)}, chance ({LongRangeReport.Percent(report.Chance)}) plus {LongRangeReport.StandardErrors:0} standard errors.");
        return new TableView(title, html.ToString());
    }

    /// <summary>
    /// The attribute that marks an element of a page whose words follow from timings (see
    /// <see cref="LongRangeReport.TimingDependentConclusion"/>): comparisons of two runs (the runner's engine agreement)
    /// mask that element's text, and only that element's.
    /// </summary>
    public const string TimingDependentAttribute = "data-timing-dependent";

    /// <summary>The class of the seed and forget-bias tables, for tests that read their numbers back.</summary>
    public const string SpotClass = "na-long-range-spots";

    /// <summary>
    /// Attention retrained at the longest L with every seed of <see cref="LongRangeSettings.CheckSeeds"/> (everything
    /// else as in <paramref name="settings"/>): a row per seed and the sentence <see cref="LongRangeReport.SeedSentence"/>
    /// derives from them.
    /// </summary>
    public static TableView Seeds(LongRangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var longest = settings.Distances[^1];
        var spots = Spotted(settings, "attention", longest, settings.CheckSeeds);
        return Spots(Invariant($"Attention at L = {longest}, retrained from scratch with each seed ({settings.Steps} steps of {settings.BatchSize}), tested on {settings.TestSequences} fresh sequences each."), spots, LongRangeReport.SeedSentence(spots));
    }

    /// <summary>
    /// The LSTM retrained with another starting forget-gate bias at some of the experiment's distances (same seed and
    /// budget), next to the table's numbers, with the sentence <see cref="LongRangeReport.ForgetBiasSentence"/> derives.
    /// </summary>
    /// <param name="experiment">A finished experiment.</param>
    /// <param name="forgetBias">The other starting bias b_f.</param>
    /// <param name="distances">Distances of the experiment to retrain at.</param>
    public static TableView ForgetBias(LongRangeExperiment experiment, double forgetBias, params int[] distances)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(distances);
        var settings = experiment.Settings with { ForgetBias = forgetBias };
        return ForgetBiasView(experiment, [.. distances.SelectMany(d => Spotted(settings, "LSTM", d, [settings.Seed]))]);
    }

    /// <summary>The view of <see cref="ForgetBias(LongRangeExperiment, double, int[])"/> for spots already measured.</summary>
    /// <param name="experiment">The experiment the spots are compared with.</param>
    /// <param name="spots">The LSTM's results with another forget-gate bias, one seed, at distances of the experiment.</param>
    public static TableView ForgetBiasView(LongRangeExperiment experiment, IReadOnlyList<LongRangeSpot> spots)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(spots);
        var sentence = experiment.Report.ForgetBiasSentence(spots, experiment.Settings.ForgetBias);
        var settings = experiment.Settings;
        return Spots(Invariant($"The LSTM with its forget-gate bias starting at {spots[0].ForgetBias:0.##} (the table: {settings.ForgetBias:0.##}), seed {spots[0].Seed}, {settings.Steps} steps of {settings.BatchSize}."), spots, sentence);
    }

    private static List<LongRangeSpot> Spotted(LongRangeSettings settings, string model, int distance, IReadOnlyList<int> seeds)
    {
        var line = LiveOutput.Line();
        var spots = LongRangeExperiment.Spots(settings, model, distance, seeds, p => line.Report(Line(Invariant($"{model} at L = {distance}: seed {seeds[p.Run - 1]} ({p.Run} of {p.Runs}), step {p.Step.Step} of {settings.Steps}, batch accuracy {100 * p.Step.Accuracy:0.0}%"))), LiveOutput.CellCancellation);
        line.Finish(Line(Invariant($"retrained {model} at L = {distance} with {seeds.Count} seed{(seeds.Count == 1 ? string.Empty : "s")}")));
        return [.. spots];
    }

    private static TableView Spots(string title, IReadOnlyList<LongRangeSpot> spots, string sentence)
    {
        const string cell = "padding:2px 6px;text-align:right";
        var html = new StringBuilder(Invariant($"<table class=\"na-table {SpotClass}\" style=\"border-collapse:collapse;font:12px monospace\"><thead><tr><th style=\"{cell}\">model</th><th style=\"{cell}\">L</th><th style=\"{cell}\">seed</th><th style=\"{cell}\">b_f</th><th style=\"{cell}\">right</th><th style=\"{cell}\">right (%)</th></tr></thead><tbody>"));
        foreach (var s in spots)
        {
            html.Append(Invariant($"<tr data-model=\"{WebUtility.HtmlEncode(s.Model)}\" data-distance=\"{s.Distance}\" data-seed=\"{s.Seed}\" data-forget-bias=\"{s.ForgetBias:R}\" data-correct=\"{s.Correct}\" data-tested=\"{s.Tested}\">"))
                .Append(Invariant($"<td style=\"{cell}\">{WebUtility.HtmlEncode(s.Model)}</td><td style=\"{cell}\">{s.Distance}</td><td style=\"{cell}\">{s.Seed}</td><td style=\"{cell}\">{s.ForgetBias:0.##}</td><td style=\"{cell}\">{s.Correct}/{s.Tested}</td><td style=\"{cell}\">{LongRangeReport.Percent(s.Accuracy)}</td></tr>"));
        }

        html.Append("</tbody></table><ul class=\"na-conclusions\" style=\"font:13px sans-serif;max-width:900px\"><li>").Append(WebUtility.HtmlEncode(sentence)).Append("</li></ul>");
        return new TableView(title, html.ToString());
    }

    private static string Line(string text) => $"<div class=\"na-progress\" style=\"font:13px monospace\">{WebUtility.HtmlEncode(text)}</div>";

    private static string Describe(Parameter parameter) =>
        Invariant($"{parameter.Name} [{parameter.Value.RowCount} x {parameter.Value.ColumnCount}] = {parameter.Count:N0}");

    private static IReadOnlyList<double> Smooth(IReadOnlyList<double> accuracy) =>
        [.. Enumerable.Range(0, accuracy.Count).Select(s => 100 * accuracy.Skip(Math.Max(0, s - AccuracyWindow + 1)).Take(Math.Min(s + 1, AccuracyWindow)).Average())];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
