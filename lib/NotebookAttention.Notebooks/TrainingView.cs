using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Net;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Training;
using Plotly.NET;

namespace NotebookAttention.Notebooks;

/// <summary>
/// A training run as a notebook shows it: one live progress line while it runs ("step 120/600 · loss 0.412 · accuracy
/// 87.5%"), the loss and accuracy curves, and, for the transformer, its attention on one fixed sequence of the task
/// (the <see cref="Probe"/>) before the first step and at the steps of <see cref="SnapshotSteps"/>, for the slider heatmap.
/// </summary>
/// <remarks>
/// Stopping the cell (the notebook's stop button) cancels the run through the cell's cancellation token: the trainer
/// stops after the step it is in and keeps the weights learned so far, and this view keeps the steps and snapshots up
/// to there, so the cells below still draw what was learned. A model trains once: <see cref="Train"/> refuses a model that
/// any view has already trained (run or stopped), because its "before training" picture and its curves would then
/// describe trained weights under untrained labels. A new model (and view) starts again.
/// </remarks>
public sealed class TrainingView
{
    /// <summary>The CSS class of the final line, which the series runner prints and the kernel tests read.</summary>
    public const string SummaryClass = "na-training";

    private static readonly ConditionalWeakTable<ISequenceModel, StrongBox<int>> TrainedSteps = [];
    private readonly List<TrainingStep> steps = [];
    private readonly List<(int Step, IReadOnlyList<Matrix<double>> Heads)> snapshots = [];

    /// <summary>Prepares a run; nothing is trained until <see cref="Train"/>.</summary>
    /// <param name="model">The model (trained in place).</param>
    /// <param name="task">The task its batches come from.</param>
    /// <param name="settings">Steps, batch size, optimizer, learning rate, seed.</param>
    /// <param name="snapshots">Attention pictures to take, step 0 included (at least 2).</param>
    /// <param name="probeSeed">Seed of the generator that draws the probe sequence.</param>
    /// <exception cref="ArgumentException">A setting cannot train (checked by <see cref="TrainingSettings.Validate"/>), or the
    /// model has attention and the task's sequences are longer than the <see cref="LongInput.TokensShown"/> positions a
    /// picture shows. Both are caught here, before any cell trains.</exception>
    public TrainingView(ISequenceModel model, ISequenceTask task, TrainingSettings settings, int snapshots = 11, int probeSeed = 2017)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(snapshots, 2);
        settings.Validate();
        if (model is TransformerModel && task.MaxLength > LongInput.TokensShown)
        {
            throw new ArgumentException($"{task.Name} makes sequences of up to {task.MaxLength} tokens, but this view pictures the attention of at most {LongInput.TokensShown} positions: choose a task with sequences of {LongInput.TokensShown} tokens or fewer here (notebook 10 trains the long ones).", nameof(task));
        }

        Model = model;
        Task = task;
        Settings = settings;
        Snapshots = snapshots;
        var probe = task.Sample(1, new Random(probeSeed));
        Probe = [.. probe.Inputs[0].Take(probe.Lengths[0])];
        Answers = task.AnswerPositions(Probe);
    }

    /// <summary>The model being trained.</summary>
    public ISequenceModel Model { get; }

    /// <summary>The task.</summary>
    public ISequenceTask Task { get; }

    /// <summary>The training settings.</summary>
    public TrainingSettings Settings { get; }

    /// <summary>How many attention pictures a run takes, step 0 included.</summary>
    public int Snapshots { get; }

    /// <summary>The fixed sequence (token ids) whose attention is pictured through training.</summary>
    public IReadOnlyList<int> Probe { get; }

    /// <summary>For each position of <see cref="Probe"/>, where its answer sits (the task's ideal key), or negative.</summary>
    public IReadOnlyList<int> Answers { get; }

    /// <summary>The probe's symbols, for labels.</summary>
    public IReadOnlyList<string> ProbeLabels => [.. Probe.Select(id => Task.Symbols[id])];

    /// <summary>The heatmaps' axis labels: position·symbol ("0·6", "1·6", ...), so repeated digits stay apart.</summary>
    public IReadOnlyList<string> PositionLabels => [.. ProbeLabels.Select((symbol, i) => string.Create(CultureInfo.InvariantCulture, $"{i}·{symbol}"))];

    /// <summary>The last run, or null before <see cref="Train"/>.</summary>
    public TrainingRun? Run { get; private set; }

    /// <summary>The steps of the last run so far (kept when the run is stopped).</summary>
    public IReadOnlyList<TrainingStep> Steps => steps;

    /// <summary>The final line of the last run (HTML), or empty before <see cref="Train"/>.</summary>
    public string Summary { get; private set; } = string.Empty;

    /// <summary>
    /// Trains, with a live progress line that ends as one final line, and the notebook's stop button wired to the
    /// trainer. Returns nothing, so the cell shows only that line.
    /// </summary>
    /// <param name="cancel">Stops the run after the step in progress; null for the running cell's stop button.</param>
    /// <exception cref="InvalidOperationException">The model was already trained (by this view or another one): its first
    /// picture would not be "before training". Make a new model and view (run the ✎ cells again from the model cell).</exception>
    public void Train(CancellationToken? cancel = null)
    {
        var trained = TrainedSteps.GetOrCreateValue(Model);
        if (Run is not null || trained.Value > 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"this model has already been trained for {trained.Value:N0} steps; training it again would label its trained attention \"step 0 (untrained)\" and restart its curves. For more steps, raise `steps` in the ✎ cell and run the cells again from the model cell (a new, untrained model)."));
        }

        var pictured = SnapshotSteps(Settings.Steps, Snapshots).ToHashSet();
        TakeSnapshot(0);
        var line = LiveOutput.Line();
        var clock = Stopwatch.StartNew();
        void OnStep(TrainingStep step)
        {
            steps.Add(step);
            trained.Value = step.Step;
            if (pictured.Contains(step.Step))
            {
                TakeSnapshot(step.Step);
            }

            line.Report(Progress(step, clock.Elapsed.TotalSeconds, final: null));
        }

        Run = Trainer.Run(Model, Task, Settings, OnStep, cancel ?? LiveOutput.CellCancellation);
        if (steps.Count > 0 && snapshots.Count > 0 && snapshots[^1].Step != steps[^1].Step)
        {
            TakeSnapshot(steps[^1].Step);
        }

        Summary = Progress(steps.Count > 0 ? steps[^1] : null, clock.Elapsed.TotalSeconds, Run);
        line.Finish(Summary);
    }

    /// <summary>
    /// The steps a run of <paramref name="steps"/> steps pictures: step 0 and <paramref name="snapshots"/> - 1 more,
    /// spaced quadratically (steps · (k / (snapshots - 1))², rounded), dense early, where the pattern forms, and ending
    /// on the last step.
    /// </summary>
    /// <param name="steps">Steps of the run.</param>
    /// <param name="snapshots">Pictures wanted, step 0 included.</param>
    /// <returns>Distinct steps in increasing order, 0 first and <paramref name="steps"/> last.</returns>
    public static IReadOnlyList<int> SnapshotSteps(int steps, int snapshots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(snapshots, 2);
        return [.. Enumerable.Range(0, snapshots).Select(k => (int)Math.Round(steps * Math.Pow(k / (double)(snapshots - 1), 2))).Distinct()];
    }

    /// <summary>Loss and accuracy against the step, side by side.</summary>
    /// <returns>The two charts.</returns>
    public FigureGrid Curves()
    {
        RequireSteps();
        return TrainingPlots.Curves([.. steps.Select(s => s.Step)], [.. steps.Select(s => s.Loss)], [.. steps.Select(s => s.Accuracy)], $"{Model.Name} on {Task.Name}: {steps.Count:N0} steps, trained weights", Task.VocabularySize);
    }

    /// <summary>Number of attention heads the model shows (0 for a model without attention).</summary>
    public int Heads => snapshots.Count == 0 ? 0 : snapshots[0].Heads.Count;

    /// <summary>One head's attention on the probe at every snapshot, with its share of weight on the right key.</summary>
    /// <returns>The frames in step order.</returns>
    public IReadOnlyList<AttentionFrame> Frames(int head)
    {
        RequireAttention();
        ArgumentOutOfRangeException.ThrowIfNegative(head);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(head, Heads);
        return [.. snapshots.Select(s => new AttentionFrame(s.Step, s.Heads[head], AttentionShare.OnAnswers(s.Heads[head], Answers)))];
    }

    /// <summary>The head whose last snapshot puts the most weight on the right keys (ties: the lowest number).</summary>
    public int BestHead
    {
        get
        {
            RequireAttention();
            var last = snapshots[^1].Heads;
            var shares = last.Select(w => AttentionShare.OnAnswers(w, Answers)).ToList();
            return shares.IndexOf(shares.Max());
        }
    }

    /// <summary>The slider heatmap of <paramref name="head"/> (default: <see cref="BestHead"/>), opening on the last snapshot.</summary>
    /// <param name="head">The head to show, or null for the best one.</param>
    public Figure Attention(int? head = null)
    {
        var shown = head ?? BestHead;
        var layers = Model is TransformerModel transformer ? transformer.Settings.Layers : 1;
        var name = layers > 1 ? $"Layer {layers - 1} (the last), head {shown}" : $"Head {shown}";
        return TrainingPlots.AttentionThroughTraining(Frames(shown), PositionLabels, $"{name} on {string.Join(' ', ProbeLabels)}");
    }

    /// <summary>
    /// The loss of the first batch (before any update) against ln V, the loss of a model that spreads its probability
    /// evenly over its V outputs (every token id, padding included).
    /// </summary>
    /// <returns>The comparison and what it says.</returns>
    public FirstLossReport FirstLoss()
    {
        RequireSteps();
        return new FirstLossReport(steps[0].Loss, Task.VocabularySize);
    }

    /// <summary>The ideal pattern for the probe: all weight on the answer's key.</summary>
    /// <remarks>As wide as the slider heatmap of <see cref="Attention"/>, so the two compare side by side on the page.</remarks>
    public Figure Ideal()
    {
        var figure = Plots.Heatmap(AttentionShare.Ideal(Answers), PositionLabels, PositionLabels, $"Ideal attention for {Task.Name}", "weight", 0, 1);
        var width = TrainingPlots.SliderWidth(figure.Width);
        var layout = GenericChart.getLayout(figure.Chart);
        layout.SetProperty("width", width);
        return new Figure(figure.Chart, figure.Title, figure.TableHtml, width, figure.Height, figure.Note);
    }

    /// <summary>
    /// The share of weight on the right key before and after training, for the heads together: for each query, the
    /// largest weight any head puts on its right key, averaged over the queries (<see cref="AttentionShare.OnAnswersAcrossHeads"/>).
    /// With one head it is that head's share. Several heads may split the queries between them, so the best single
    /// head can stay low while the heads together route every query.
    /// </summary>
    public ShareReport Share()
    {
        RequireAttention();
        var first = snapshots[0];
        var last = snapshots[^1];
        return new ShareReport(Heads, Probe.Count, first.Step, AttentionShare.OnAnswersAcrossHeads(first.Heads, Answers), last.Step, AttentionShare.OnAnswersAcrossHeads(last.Heads, Answers));
    }

    /// <summary>Accuracy on a fixed batch drawn from the task with its own seed, not the training batches' (a short task can repeat a training sequence by chance).</summary>
    /// <param name="sequences">How many sequences.</param>
    /// <param name="seed">Seed of the batch (not the training seed, so the sequences are new).</param>
    /// <returns>The result and what it says about the 99% goal.</returns>
    public HeldOutAccuracy HeldOut(int sequences = 500, int seed = 99_991)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        var outcome = Model.Evaluate(Task.Sample(sequences, new Random(seed)), Math.Max(1, Settings.Threads));
        return new HeldOutAccuracy(sequences, outcome.Correct, outcome.Scored, outcome.Loss);
    }

    private void TakeSnapshot(int step)
    {
        if (Model is TransformerModel transformer)
        {
            snapshots.Add((step, [.. transformer.AttentionWeights(Probe)]));
        }
    }

    private void RequireSteps()
    {
        if (steps.Count == 0)
        {
            throw new InvalidOperationException("nothing trained yet: run the training cell first (Train()).");
        }
    }

    private void RequireAttention()
    {
        if (snapshots.Count == 0)
        {
            throw new InvalidOperationException(Model is TransformerModel
                ? "no attention pictures yet: run the training cell first (Train())."
                : $"{Model.Name} has no attention to picture: only the transformer does.");
        }
    }

    private string Progress(TrainingStep? step, double seconds, TrainingRun? final)
    {
        var done = step?.Step ?? 0;
        var text = step is null
            ? string.Create(CultureInfo.InvariantCulture, $"step 0/{Settings.Steps:N0}")
            : string.Create(CultureInfo.InvariantCulture, $"step {done:N0}/{Settings.Steps:N0} · loss {step.Loss:0.000} · accuracy {100 * step.Accuracy:0.0}%");
        if (final is null)
        {
            return $"<div class=\"{SummaryClass}-progress\" style=\"font:13px monospace\">{WebUtility.HtmlEncode(text)} · {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s</div>";
        }

        var ending = final.Outcome switch
        {
            TrainingOutcome.Completed => "completed",
            TrainingOutcome.Cancelled => "stopped by you: the weights learned so far are kept",
            _ => final.Message,
        };
        var summary = string.Create(CultureInfo.InvariantCulture, $"{Model.Name} on {Task.Name}: {text} · {seconds:0.0} s · {ending}");
        return string.Create(CultureInfo.InvariantCulture,
            $"<div class=\"{SummaryClass}\" {LiveOutput.SummaryAttribute}=\"{WebUtility.HtmlEncode(summary)}\" data-step=\"{done}\" data-steps=\"{Settings.Steps}\" data-loss=\"{step?.Loss ?? double.NaN:R}\" data-accuracy=\"{step?.Accuracy ?? double.NaN:R}\" data-ending=\"{final.Outcome}\" style=\"font:13px monospace\">{WebUtility.HtmlEncode(summary)}</div>");
    }
}

/// <summary>
/// The share of weight on the right key at the first and the last snapshot, for the heads together (for each query the
/// head that puts most weight on its right key), and the verdict.
/// </summary>
/// <param name="Heads">Heads of the pictured layer (1: the share is that head's).</param>
/// <param name="Length">Positions of the probe sequence.</param>
/// <param name="FirstStep">Step of the first snapshot (0: untrained).</param>
/// <param name="First">Share at the first snapshot.</param>
/// <param name="LastStep">Step of the last snapshot.</param>
/// <param name="Last">Share at the last snapshot.</param>
public sealed record ShareReport(int Heads, int Length, int FirstStep, double First, int LastStep, double Last)
{
    /// <summary>The share (as a percentage shown with one decimal) from which the heads count as having found the ideal pattern.</summary>
    public const double FoundPercent = 90.0;

    /// <summary>The last share as printed, in percent with one decimal: the verdict is drawn from this printed number.</summary>
    public double LastPercent => Math.Round(100 * Last, 1, MidpointRounding.AwayFromZero);

    /// <summary>Whether the printed share reaches <see cref="FoundPercent"/>.</summary>
    public bool FoundIdealPattern => LastPercent >= FoundPercent;

    /// <summary>The sentence the notebook prints, numbers first, verdict derived from them.</summary>
    public string Sentence
    {
        get
        {
            var who = Heads == 1
                ? "The head puts"
                : string.Create(CultureInfo.InvariantCulture, $"Taking for each query the head that puts most weight on its right key, the {Heads} heads put");
            var numbers = string.Create(CultureInfo.InvariantCulture,
                $"{who} {LastPercent:0.0}% of the weight on the right key at step {LastStep:N0} (ideal: 100%; at step {FirstStep:N0}{(FirstStep == 0 ? ", before training" : string.Empty)}: {100 * First:0.0}%). ");
            var subject = Heads == 1 ? "it has" : "together they have";
            return numbers + (FoundIdealPattern
                ? $"At {FoundPercent:0}% or more, {subject} found the ideal pattern."
                : $"Below {FoundPercent:0}%, {subject} not found the ideal pattern (yet).");
        }
    }

    /// <inheritdoc />
    public override string ToString() => Sentence;
}

/// <summary>
/// The loss of the first batch, before any update, against ln V: the cross-entropy of a model that spreads its
/// probability evenly over its V outputs. Random weights are not even: they are confident, so they start above it.
/// </summary>
/// <param name="Loss">Mean cross-entropy of the first batch (nats).</param>
/// <param name="Outputs">V, the readout's outputs (every token id, padding included).</param>
public sealed record FirstLossReport(double Loss, int Outputs)
{
    /// <summary>How far, in thousandths of the printed numbers, the loss must be from ln V to count as above or below it (0.050).</summary>
    public const int MarginThousandths = 50;

    /// <summary>Printed loss minus printed ln V, in thousandths (exact: both are printed with 3 decimals).</summary>
    public int GapThousandths => (int)Math.Round(1000 * LossPrinted) - (int)Math.Round(1000 * EvenPrinted);

    /// <summary>The first loss as printed (3 decimals).</summary>
    public double LossPrinted => Math.Round(Loss, 3, MidpointRounding.AwayFromZero);

    /// <summary>ln V as printed (3 decimals).</summary>
    public double EvenPrinted => Math.Round(Math.Log(Outputs), 3, MidpointRounding.AwayFromZero);

    /// <summary>The sentence the notebook prints; its verdict is drawn from the two printed numbers.</summary>
    public string Sentence
    {
        get
        {
            var numbers = string.Create(CultureInfo.InvariantCulture,
                $"The first batch's loss, before any update, is {LossPrinted:0.000}, against ln {Outputs} = {EvenPrinted:0.000} for a model that spreads its probability evenly over its {Outputs} outputs: ");
            return numbers + (GapThousandths > MarginThousandths
                ? "above it, so the random weights are not merely unsure, they are confidently wrong on some tokens."
                : GapThousandths < -MarginThousandths
                    ? "below it, so even the random weights lean towards the right answers."
                    : "close to it, as if the random weights had no preference.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => Sentence;
}

/// <summary>Accuracy on a fixed evaluation batch drawn with its own seed, against the 99% goal.</summary>
/// <param name="Sequences">Sequences in the batch.</param>
/// <param name="Correct">Scored positions predicted right.</param>
/// <param name="Scored">Scored positions.</param>
/// <param name="Loss">Mean cross-entropy (nats).</param>
public sealed record HeldOutAccuracy(int Sequences, int Correct, int Scored, double Loss)
{
    /// <summary>The goal, as a share of scored positions.</summary>
    public const double Goal = 0.99;

    /// <summary>Correct / Scored.</summary>
    public double Accuracy => Scored == 0 ? 0 : (double)Correct / Scored;

    /// <summary>Whether the counts reach <see cref="Goal"/> (decided on the counts, which are printed).</summary>
    public bool ReachesGoal => Correct >= Goal * Scored;

    /// <summary>The sentence the notebook prints.</summary>
    public string Sentence => string.Create(CultureInfo.InvariantCulture,
        $"On {Sequences:N0} sequences drawn with another seed: {Correct:N0} of {Scored:N0} tokens right ({100 * Accuracy:0.00}%), loss {Loss:0.0000}. ")
        + (ReachesGoal ? "That reaches the 99% goal." : "That is below the 99% goal: train longer, or change the learning rate.");

    /// <inheritdoc />
    public override string ToString() => Sentence;
}
