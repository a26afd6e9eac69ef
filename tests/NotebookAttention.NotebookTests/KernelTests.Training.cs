using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Notebooks;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// Notebook 09, checked in the executed notebook: every conclusion it prints is rebuilt here from the numbers it printed
/// (kept apart so it merges easily).
/// </summary>
public partial class KernelTests
{
    private static string Notebook09Html(NotebookRun run) => WebUtility.HtmlDecode(string.Concat(NotebookFile.Load(run.ExecutedPath).CodeCells.Select(Html)));

    [Fact]
    public void Notebook_09_gradient_check_agrees_to_1e_6_and_says_what_its_number_says()
    {
        var run = series.Run("09");
        AssertRan(run);
        var check = GradientCheckLine().Match(Notebook09Html(run));
        Assert.True(check.Success, "notebook 09 printed no gradient check");
        var largest = double.Parse(check.Groups["largest"].Value, CultureInfo.InvariantCulture);
        var text = check.Groups["text"].Value;
        Assert.Contains($"largest relative error {largest.ToString("0.0E+00", CultureInfo.InvariantCulture)} ", text, StringComparison.Ordinal);
        Assert.True(int.Parse(check.Groups["entries"].Value, CultureInfo.InvariantCulture) >= 20, text);
        Assert.True(largest <= 1e-6, $"notebook 09's gradient check found a relative error of {largest}: {text}");
        Assert.Equal(largest <= TrainingDisplay.GradientTolerance, text.Contains("the backward pass agrees with finite differences", StringComparison.Ordinal));
    }

    [Fact]
    public void Notebook_09_trains_to_the_end_in_one_final_line_and_reaches_99_percent_on_new_sequences()
    {
        var run = series.Run("09");
        AssertRan(run);
        var html = Notebook09Html(run);

        // One training, one line: no progress lines left behind in the executed notebook.
        var lines = TrainingLine().Matches(html);
        Assert.Single(lines);
        Assert.DoesNotContain(TrainingView.SummaryClass + "-progress", html, StringComparison.Ordinal);
        var line = lines[0];
        Assert.Equal("Completed", line.Groups["ending"].Value);
        Assert.Equal(line.Groups["steps"].Value, line.Groups["step"].Value);
        Assert.Contains($"step {int.Parse(line.Groups["step"].Value, CultureInfo.InvariantCulture):N0}/", line.Groups["summary"].Value, StringComparison.Ordinal);

        var heldOut = HeldOutLine().Match(html);
        Assert.True(heldOut.Success, "notebook 09 printed no held-out accuracy");
        var printedLoss = LossInSentence().Match(heldOut.Groups["text"].Value);
        Assert.True(printedLoss.Success, heldOut.Groups["text"].Value);
        var rebuilt = new HeldOutAccuracy(
            int.Parse(heldOut.Groups["sequences"].Value, CultureInfo.InvariantCulture),
            int.Parse(heldOut.Groups["correct"].Value, CultureInfo.InvariantCulture),
            int.Parse(heldOut.Groups["scored"].Value, CultureInfo.InvariantCulture),
            double.Parse(printedLoss.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Equal(rebuilt.Sentence, heldOut.Groups["text"].Value);
        Assert.True(rebuilt.Correct >= 0.99 * rebuilt.Scored, $"notebook 09 reached only {rebuilt.Correct} of {rebuilt.Scored}: {rebuilt.Sentence}");
        Assert.Contains("That reaches the 99% goal.", heldOut.Groups["text"].Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Notebook_09_share_of_weight_on_the_right_key_matches_its_slider_and_its_verdict_follows_from_the_printed_percent()
    {
        var run = series.Run("09");
        AssertRan(run);
        var html = Notebook09Html(run);
        var share = ShareLine().Match(html);
        Assert.True(share.Success, "notebook 09 printed no share of weight on the right key");
        var text = share.Groups["text"].Value;
        var first = double.Parse(share.Groups["first"].Value, CultureInfo.InvariantCulture);
        var last = double.Parse(share.Groups["last"].Value, CultureInfo.InvariantCulture);
        var length = int.Parse(share.Groups["length"].Value, CultureInfo.InvariantCulture);
        var heads = int.Parse(share.Groups["heads"].Value, CultureInfo.InvariantCulture);
        Assert.True(length >= 2, text);
        var printed = PrintedShare().Match(text);
        Assert.True(printed.Success, text);
        Assert.Equal(heads == 1, printed.Groups["heads"].Value.Length == 0);
        var lastPercent = double.Parse(printed.Groups["last"].Value, CultureInfo.InvariantCulture);
        Assert.Equal(Math.Round(100 * last, 1, MidpointRounding.AwayFromZero), lastPercent);
        Assert.Equal(0, int.Parse(printed.Groups["firstStep"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(Math.Round(100 * first, 1, MidpointRounding.AwayFromZero), double.Parse(printed.Groups["first"].Value, CultureInfo.InvariantCulture));
        Assert.DoesNotContain("1/", text, StringComparison.Ordinal);

        // The verdict, by this test's own reading of the printed percent.
        var claimsFound = text.EndsWith("found the ideal pattern.", StringComparison.Ordinal) && !text.Contains("not found", StringComparison.Ordinal);
        Assert.Equal(lastPercent >= 90.0, claimsFound);
        Assert.NotEqual(claimsFound, text.Contains("not found the ideal pattern", StringComparison.Ordinal));
        Assert.True(claimsFound, $"notebook 09's default run should end on the learned pattern: {text}");

        // The slider: step 0 first, the printed last step last, its title giving the same share.
        var sliders = FigureJson().Matches(string.Concat(NotebookFile.Load(run.ExecutedPath).CodeCells.Select(Html)))
            .Select(m => JsonNode.Parse(m.Groups[1].Value)!["layout"]?["sliders"]).OfType<JsonArray>().ToList();
        Assert.True(sliders.Count == 1, $"notebook 09 drew {sliders.Count} slider charts; expected the one of attention through training");
        var steps = sliders[0][0]!["steps"]!.AsArray();
        var labels = steps.Select(s => (string)s!["label"]!).ToList();
        var titles = steps.Select(s => (string)s!["args"]![1]!["title.text"]!).ToList();
        Assert.True(labels.Count >= 5, $"the slider has {labels.Count} steps");
        Assert.Equal(labels.Count - 1, (int)sliders[0][0]!["active"]!);
        Assert.Equal("0", labels[0]);
        Assert.Equal(printed.Groups["lastStep"].Value, labels[^1]);
        Assert.EndsWith($"{lastPercent.ToString("0.0", CultureInfo.InvariantCulture)}% of the weight on the right key", titles[^1], StringComparison.Ordinal);
        Assert.Contains("step 0 (", titles[0], StringComparison.Ordinal);
        if (heads == 1)
        {
            // One head: the slider's head is the one the sentence measures, at both ends.
            Assert.EndsWith($"{lastPercent.ToString("0.0", CultureInfo.InvariantCulture)}% of the weight on the right key", titles[^1], StringComparison.Ordinal);
            Assert.EndsWith($"{Math.Round(100 * first, 1, MidpointRounding.AwayFromZero).ToString("0.0", CultureInfo.InvariantCulture)}% of the weight on the right key", titles[0], StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The first-loss sentence: its two numbers are the first step's loss and ln V as printed, the first loss is the
    /// first row of the loss chart's numbers, and its verdict (above, close to, below an even spread) follows from the
    /// two printed numbers by this test's own reading.
    /// </summary>
    [Fact]
    public void Notebook_09_first_loss_sentence_follows_from_its_printed_numbers_and_the_loss_curve()
    {
        var run = series.Run("09");
        AssertRan(run);
        var html = Notebook09Html(run);
        var line = FirstLossLine().Match(html);
        Assert.True(line.Success, "notebook 09 printed no first-loss sentence");
        var text = line.Groups["text"].Value;
        var numbers = FirstLossNumbers().Match(text);
        Assert.True(numbers.Success, text);
        var outputs = int.Parse(line.Groups["outputs"].Value, CultureInfo.InvariantCulture);
        Assert.Equal(outputs, int.Parse(numbers.Groups["v"].Value, CultureInfo.InvariantCulture));
        var loss = double.Parse(line.Groups["loss"].Value, CultureInfo.InvariantCulture);
        var printedLoss = numbers.Groups["loss"].Value;
        var printedEven = numbers.Groups["even"].Value;
        Assert.Equal(loss.ToString("0.000", CultureInfo.InvariantCulture), printedLoss);
        Assert.Equal(Math.Log(outputs).ToString("0.000", CultureInfo.InvariantCulture), printedEven);

        var curve = FirstLossOnCurve().Match(html);
        Assert.True(curve.Success, "notebook 09's loss chart has no numbers table starting at step 1");
        Assert.Equal(double.Parse(curve.Groups["loss"].Value, CultureInfo.InvariantCulture).ToString("0.000", CultureInfo.InvariantCulture), printedLoss);

        var gap = int.Parse(printedLoss.Replace(".", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture)
            - int.Parse(printedEven.Replace(".", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture);
        var verdict = gap > 50 ? ": above it," : gap < -50 ? ": below it," : ": close to it,";
        Assert.Contains(verdict, text, StringComparison.Ordinal);
        Assert.DoesNotContain("ln 10", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Notebook_09_padding_with_the_mask_changes_nothing_in_its_printed_table_and_without_it_changes_the_loss()
    {
        var run = series.Run("09");
        AssertRan(run);
        var html = Notebook09Html(run);
        var rows = PaddingRow().Matches(html).ToList();
        Assert.Equal(3, rows.Count);
        double Cell(Match row, int column) => double.Parse(row.Groups["cells"].Captures[column].Value, CultureInfo.InvariantCulture);
        Assert.Equal(Cell(rows[0], 0), Cell(rows[1], 0));
        Assert.Equal(0, Cell(rows[1], 1));
        Assert.Equal(0, Cell(rows[1], 2));
        Assert.Equal(0, Cell(rows[1], 3));
        Assert.True(Cell(rows[2], 1) > 0, "without the mask the loss should change: the table shows no difference");
        var verdict = PaddingVerdict().Match(html);
        Assert.True(verdict.Success);
        Assert.StartsWith("With the mask, padding changed neither", verdict.Groups[1].Value, StringComparison.Ordinal);
    }

    /// <summary>
    /// Stopping the training cell keeps what was learned, in the real kernel: a copy of notebook 09 with 100,000 steps
    /// sends the kernel its cancel command (what a front end's stop button sends) a few seconds into training; the cell
    /// ends cancelled, and the next cell finds the steps taken so far in the view, the run ended as cancelled, and a model
    /// that learned (its held-out loss below the first step's).
    /// </summary>
    [Fact]
    public void Notebook_09_stopped_by_the_kernels_cancel_command_keeps_the_steps_and_the_weights()
    {
        var notebook = NotebookFile.Load(series.Runner.Notebooks.Single(n => Path.GetFileName(n).StartsWith("09", StringComparison.Ordinal)));
        var cells = notebook.Cells;
        var train = cells.OfType<JsonObject>().ToList().FindIndex(c => NotebookFile.Source(c).Trim() == "training.Train();");
        Assert.True(train > 0, "notebook 09 has no cell that is exactly training.Train();");
        while (cells.Count > train + 1)
        {
            cells.RemoveAt(cells.Count - 1);
        }

        foreach (var cell in cells.OfType<JsonObject>().Where(c => (string?)c["cell_type"] == "code"))
        {
            cell["source"] = StepsTyped().Replace(NotebookFile.Source(cell), "int steps = 100000;");
        }

        cells[train]!["source"] = """
            var root = Microsoft.DotNet.Interactive.Kernel.Root;
            _ = Task.Run(async () => { await Task.Delay(6000); await root.SendAsync(new Microsoft.DotNet.Interactive.Commands.Cancel()); });
            training.Train();
            """;
        var after = (JsonObject)cells[train]!.DeepClone();
        after["id"] = "after-cancel";
        after["source"] = """
            System.Threading.Thread.Sleep(3000);   // the cancelled cell's training returns after the step in progress
            $"kept {training.Steps.Count} steps; outcome {training.Run?.Outcome}; first loss {training.Steps[0].Loss:R}; held-out loss {training.HeldOut().Loss:R}"
            """;
        cells.Add(after);
        var source = Path.Combine(series.Output, "cancel-source");
        Directory.CreateDirectory(source);
        var copy = Path.Combine(source, "09-cancelled.ipynb");
        notebook.Save(copy);
        var run = series.Runner.Execute(copy, Path.Combine(series.Output, "cancelled"), TimeSpan.FromMinutes(5));

        Assert.True(run.Errors.Count == 1 && run.Errors[0].Cell == train && run.Errors[0].Message.Contains("cancelled", StringComparison.OrdinalIgnoreCase),
            $"expected only the training cell to end cancelled: {string.Join("; ", run.Errors.Select(e => $"cell {e.Cell}: {e.Message}"))}");
        var last = NotebookFile.Load(run.ExecutedPath).CodeCells.Last();
        var text = string.Concat((last["outputs"] as JsonArray ?? []).OfType<JsonObject>().Select(o => NotebookFile.Text(o["data"]?["text/plain"]) + NotebookFile.Text(o["data"]?["text/html"])));
        var kept = KeptLine().Match(WebUtility.HtmlDecode(text));
        Assert.True(kept.Success, $"the cell after the cancelled one printed: {text}");
        var steps = int.Parse(kept.Groups["steps"].Value, CultureInfo.InvariantCulture);
        Assert.InRange(steps, 1, 99_999);
        Assert.Equal("Cancelled", kept.Groups["outcome"].Value);
        Assert.True(double.Parse(kept.Groups["heldOut"].Value, CultureInfo.InvariantCulture) < double.Parse(kept.Groups["first"].Value, CultureInfo.InvariantCulture),
            $"the kept model should have learned something in {steps} steps: {kept.Value}");
    }

    [GeneratedRegex(@"int steps = \d+;")]
    private static partial Regex StepsTyped();

    [GeneratedRegex(@"kept (?<steps>\d+) steps; outcome (?<outcome>\w+); first loss (?<first>[^;]+); held-out loss (?<heldOut>[0-9.E+-]+)")]
    private static partial Regex KeptLine();

    [GeneratedRegex("""<div class="na-gradient-check" data-largest="(?<largest>[^"]+)" data-entries="(?<entries>\d+)"[^>]*>(?<text>[^<]*)</div>""")]
    private static partial Regex GradientCheckLine();

    [GeneratedRegex("""<div class="na-training" data-na-summary="(?<summary>[^"]*)" data-step="(?<step>\d+)" data-steps="(?<steps>\d+)" data-loss="[^"]*" data-accuracy="[^"]*" data-ending="(?<ending>\w+)"[^>]*>""")]
    private static partial Regex TrainingLine();

    [GeneratedRegex("""<div class="na-held-out" data-correct="(?<correct>\d+)" data-scored="(?<scored>\d+)" data-sequences="(?<sequences>\d+)"[^>]*>(?<text>[^<]*)</div>""")]
    private static partial Regex HeldOutLine();

    [GeneratedRegex(@"loss (\d+\.\d{4})\. ")]
    private static partial Regex LossInSentence();

    [GeneratedRegex("""<div class="na-share" data-heads="(?<heads>\d+)" data-first="(?<first>[^"]+)" data-last="(?<last>[^"]+)" data-length="(?<length>\d+)"[^>]*>(?<text>[^<]*)</div>""")]
    private static partial Regex ShareLine();

    [GeneratedRegex(@"(?:The head puts|the (?<heads>\d+) heads put) (?<last>\d+\.\d)% of the weight on the right key at step (?<lastStep>[\d,]+) \(ideal: 100%; at step (?<firstStep>\d+), before training: (?<first>\d+\.\d)%\)\. ")]
    private static partial Regex PrintedShare();

    [GeneratedRegex("""<div class="na-first-loss" data-loss="(?<loss>[^"]+)" data-outputs="(?<outputs>\d+)"[^>]*>(?<text>[^<]*)</div>""")]
    private static partial Regex FirstLossLine();

    [GeneratedRegex(@"is (?<loss>\d+\.\d{3}), against ln (?<v>\d+) = (?<even>\d+\.\d{3}) ")]
    private static partial Regex FirstLossNumbers();

    [GeneratedRegex("""<th[^>]*>step</th><th[^>]*>loss</th></tr></thead><tbody><tr><th[^>]*>1</th><td[^>]*>(?<loss>[0-9.E+-]+)</td>""")]
    private static partial Regex FirstLossOnCurve();

    [GeneratedRegex(@"var figure = (\{.*\});")]
    private static partial Regex FigureJson();

    [GeneratedRegex("""<tr><th[^>]*>(?:alone|padded)[^<]*</th>(?:<td[^>]*>(?<cells>[-0-9.E+]+|— \(no padding\))</td>)+</tr>""")]
    private static partial Regex PaddingRow();

    [GeneratedRegex("""<p class="na-padding-verdict">([^<]*)</p>""")]
    private static partial Regex PaddingVerdict();
}
