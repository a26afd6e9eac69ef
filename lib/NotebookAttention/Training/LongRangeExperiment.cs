namespace NotebookAttention.Training;

/// <summary>
/// The one settings record of notebook 10's experiment: which distances, and the budget every model gets (the same
/// steps, batch, optimizer, learning rate, clipping and seed for the Elman RNN, the LSTM and attention).
/// </summary>
/// <remarks>Change it with <c>with</c>: <c>LongRangeSettings.Notebook with { Steps = 600 }</c>.</remarks>
public sealed record LongRangeSettings
{
    /// <summary>The settings notebook 10 runs with (chosen so the notebook stays within its time budget; see its text).</summary>
    public static LongRangeSettings Notebook { get; } = new();

    /// <summary>The distances L to train at, increasing.</summary>
    public IReadOnlyList<int> Distances { get; init; } = [2, 5, 10, 20, 50, 200];

    /// <summary>Training steps per model and distance.</summary>
    public int Steps { get; init; } = 80;

    /// <summary>Sequences per step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam's step size (Kingma and Ba 2015), the same for every model.</summary>
    public double LearningRate { get; init; } = 0.02;

    /// <summary>The largest gradient norm a step may use (Pascanu et al. 2013); larger gradients are scaled down to it. Null: no clipping.</summary>
    public double? ClipNorm { get; init; } = 1;

    /// <summary>h, the state size of the Elman RNN and the LSTM.</summary>
    public int Hidden { get; init; } = 16;

    /// <summary>e, the token embedding size of the Elman RNN and the LSTM.</summary>
    public int Embedding { get; init; } = 8;

    /// <summary>d_model of the transformer block.</summary>
    public int DModel { get; init; } = 16;

    /// <summary>Attention heads of the transformer block.</summary>
    public int Heads { get; init; } = 2;

    /// <summary>Width of the transformer block's feed-forward layer.</summary>
    public int FeedForward { get; init; } = 32;

    /// <summary>Fresh sequences each trained model is tested on.</summary>
    public int TestSequences { get; init; } = 512;

    /// <summary>
    /// Seeds the initial weights, the training batches and (shifted) the test sequences. At this budget attention's
    /// result at L = 200 depends on it, so notebook 10 does not rest on this one seed: it retrains attention at the
    /// longest L with every seed of <see cref="CheckSeeds"/> and prints how many held (<see cref="LongRangeExperiment.Spots"/>).
    /// </summary>
    public int Seed { get; init; } = 2;

    /// <summary>The seeds attention is retrained with at the longest L, to show how much its result there depends on the seed.</summary>
    public IReadOnlyList<int> CheckSeeds { get; init; } = [1, 2, 3, 4, 5];

    /// <summary>
    /// The LSTM's forget-gate bias b_f at the start (<see cref="RecurrentSettings.ForgetBias"/>). The cell state is
    /// multiplied by about σ(b_f) per step at first, so the signal and the gradient that teaches the LSTM to keep it
    /// shrink like σ(b_f)^L: σ(1)^20 ≈ 2e-3, σ(3)^20 ≈ 0.38. 1 is the usual start (Jozefowicz et al. 2015); Tallec and
    /// Ollivier (2018) draw it from log U(1, T − 1) for dependencies up to length T.
    /// </summary>
    public double ForgetBias { get; init; } = 1.0;

    /// <summary>Worker threads per step; the numbers do not depend on it, only the time.</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Checks every setting before any training starts.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message says which and what to use.</exception>
    public void Validate()
    {
        if (Distances is null || Distances.Count == 0)
        {
            throw new ArgumentException("there are no distances: give at least one L, e.g. Distances = [2, 10, 50, 200].", nameof(Distances));
        }

        for (var i = 0; i < Distances.Count; i++)
        {
            if (Distances[i] < 1 || Distances[i] > RememberFirstTask.MaxDistance || (i > 0 && Distances[i] <= Distances[i - 1]))
            {
                throw new ArgumentException($"distance {i} is L = {Distances[i]}: every L must be between 1 and {RememberFirstTask.MaxDistance:N0} and larger than the one before; sort them.", nameof(Distances));
            }
        }

        Check.AtLeast(Steps, 1, "the steps", nameof(Steps));
        Check.AtLeast(BatchSize, 1, "the batch size", nameof(BatchSize));
        Check.AtLeast(Hidden, 1, "the hidden size", nameof(Hidden));
        Check.AtLeast(Embedding, 1, "the embedding size", nameof(Embedding));
        Check.AtLeast(DModel, 1, "d_model", nameof(DModel));
        Check.AtLeast(Heads, 1, "the heads", nameof(Heads));
        Check.AtLeast(FeedForward, 1, "the feed-forward width", nameof(FeedForward));
        if (DModel % Heads != 0)
        {
            throw new ArgumentException($"d_model = {DModel} is not divisible by heads = {Heads}: each head gets d_model / heads columns, so choose heads that divide {DModel}.", nameof(Heads));
        }

        Check.AtLeast(TestSequences, 1, "the test sequences", nameof(TestSequences));
        if (CheckSeeds is null || CheckSeeds.Distinct().Count() != CheckSeeds.Count)
        {
            throw new ArgumentException("the check seeds are null or repeat a seed: give distinct seeds, e.g. CheckSeeds = [1, 2, 3, 4, 5] (or [] for none).", nameof(CheckSeeds));
        }

        if (!double.IsFinite(ForgetBias))
        {
            throw new ArgumentException($"the forget-gate bias is {ForgetBias}: it must be a finite number (1 is the usual start, 3 keeps about 95% of the cell state per step).", nameof(ForgetBias));
        }

        Check.AtLeast(Threads, 1, "the threads", nameof(Threads));
        if (!(LearningRate > 0 && double.IsFinite(LearningRate)))
        {
            throw new ArgumentException($"the learning rate is {LearningRate}: it must be a finite number above 0, e.g. 0.01.", nameof(LearningRate));
        }

        if (ClipNorm is { } clip && !(clip > 0 && double.IsFinite(clip)))
        {
            throw new ArgumentException($"the clipping norm is {clip}: it must be a finite number above 0, or null for no clipping.", nameof(ClipNorm));
        }
    }
}

/// <summary>One model retrained at one distance with one seed (see <see cref="LongRangeExperiment.Spots"/>), and its test result.</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Distance">L.</param>
/// <param name="Seed">The seed of its weights, batches and test sequences.</param>
/// <param name="ForgetBias">The LSTM's starting forget-gate bias in this run (the other models ignore it).</param>
/// <param name="Correct">Test sequences answered right.</param>
/// <param name="Tested">Test sequences.</param>
public sealed record LongRangeSpot(string Model, int Distance, int Seed, double ForgetBias, int Correct, int Tested)
{
    /// <summary>Correct / Tested.</summary>
    public double Accuracy => (double)Correct / Tested;
}

/// <summary>One training run of the experiment, step by step.</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Distance">L.</param>
/// <param name="Loss">Training loss per step (nats).</param>
/// <param name="Accuracy">Share of the step's batch answered right, per step.</param>
/// <param name="FirstGradient">||dLoss/dx_0|| per step: the gradient reaching the first position's input vector.</param>
/// <param name="Seconds">Wall-clock seconds of each step.</param>
/// <param name="Ending">How the run ended, as the trainer says it ("completed", or the divergence message).</param>
public sealed record LongRangeCurve(
    string Model, int Distance, IReadOnlyList<double> Loss, IReadOnlyList<double> Accuracy,
    IReadOnlyList<double> FirstGradient, IReadOnlyList<double> Seconds, string Ending);

/// <summary>Where a running experiment is: the run (model and distance), its place among all runs, and its latest step.</summary>
/// <param name="Model">The model being trained.</param>
/// <param name="Distance">L.</param>
/// <param name="Run">1-based index of this run.</param>
/// <param name="Runs">Runs in all (models x distances).</param>
/// <param name="Step">The step just taken.</param>
public sealed record LongRangeProgress(string Model, int Distance, int Run, int Runs, TrainingStep Step);

/// <summary>
/// Notebook 10's experiment: the Elman RNN, the LSTM and attention (a transformer block) trained from scratch on
/// <see cref="RememberFirstTask"/> at each distance L, all with one budget, then tested on fresh sequences. Its
/// <see cref="Report"/> holds the table and the sentences derived from it; <see cref="Curves"/> every step of every run.
/// </summary>
public sealed class LongRangeExperiment
{
    /// <summary>An experiment from its parts, e.g. numbers saved from an earlier run; <see cref="Run"/> makes new ones.</summary>
    /// <param name="settings">The settings it ran with.</param>
    /// <param name="report">Its results.</param>
    /// <param name="curves">One curve per model and distance of the report.</param>
    /// <exception cref="ArgumentException">A model and distance of the report has no curve.</exception>
    public LongRangeExperiment(LongRangeSettings settings, LongRangeReport report, IReadOnlyList<LongRangeCurve> curves)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(curves);
        var missing = report.Models.SelectMany(m => report.Distances.Select(d => (m, d))).FirstOrDefault(p => !curves.Any(c => c.Model == p.m && c.Distance == p.d));
        if (missing.m is not null)
        {
            throw new ArgumentException($"there is no curve for {missing.m} at L = {missing.d}: give one curve per model and distance of the report.", nameof(curves));
        }

        Settings = settings;
        Report = report;
        Curves = curves;
    }

    /// <summary>The settings it ran with.</summary>
    public LongRangeSettings Settings { get; }

    /// <summary>The table (one result per model and distance) and its conclusions.</summary>
    public LongRangeReport Report { get; }

    /// <summary>Every run, step by step, in the order they ran (distance by distance, models in the report's order).</summary>
    public IReadOnlyList<LongRangeCurve> Curves { get; }

    /// <summary>The accuracy of guessing the first token: 1 / <see cref="RememberFirstTask.Signals"/>.</summary>
    public static double Chance => 1.0 / RememberFirstTask.Signals;

    /// <summary>The curve of one model at one distance.</summary>
    /// <param name="model">A model name.</param>
    /// <param name="distance">A distance.</param>
    /// <exception cref="KeyNotFoundException">No such run.</exception>
    public LongRangeCurve Curve(string model, int distance) =>
        Curves.FirstOrDefault(c => c.Model == model && c.Distance == distance)
        ?? throw new KeyNotFoundException($"no run of {model} at L = {distance}: runs are {string.Join(", ", Curves.Select(c => $"{c.Model} at L = {c.Distance}"))}.");

    /// <summary>The three models for one task, freshly initialised from the settings' seed: Elman RNN, LSTM, attention.</summary>
    /// <param name="settings">Sizes and seed.</param>
    /// <param name="task">The task (its vocabulary and length size the models).</param>
    /// <returns>The models, untrained.</returns>
    public static IReadOnlyList<(ISequenceModel Model, LongRangeModelKind Kind, int Parameters)> Models(LongRangeSettings settings, RememberFirstTask task)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(task);
        var recurrent = new RecurrentSettings(task.VocabularySize, settings.Hidden, settings.Embedding, settings.Seed, settings.ForgetBias);
        var elman = new ElmanRnnModel(recurrent);
        var lstm = new LstmModel(recurrent);
        var attention = new TransformerModel(new TransformerSettings(task.VocabularySize, task.MaxLength, settings.DModel, settings.Heads, settings.FeedForward, settings.Seed));
        return [(elman, LongRangeModelKind.Recurrent, elman.ParameterCount), (lstm, LongRangeModelKind.Recurrent, lstm.ParameterCount), (attention, LongRangeModelKind.Attention, attention.ParameterCount)];
    }

    /// <summary>
    /// Trains each model at each distance with the same budget and tests it on <see cref="LongRangeSettings.TestSequences"/>
    /// fresh sequences (drawn from a generator seeded apart from training's; at short L, where there are only 8·10^(L−1)
    /// different sequences, some of them also occurred in training).
    /// </summary>
    /// <param name="settings">The settings; checked before anything trains.</param>
    /// <param name="onStep">Called on the caller's thread after every step of every run (for a live progress line).</param>
    /// <param name="cancel">Stops the experiment after the step in progress; this then throws.</param>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    /// <exception cref="OperationCanceledException">The experiment was cancelled.</exception>
    public static LongRangeExperiment Run(LongRangeSettings settings, Action<LongRangeProgress>? onStep = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var results = new List<LongRangeResult>();
        var curves = new List<LongRangeCurve>();
        var runs = settings.Distances.Count * 3;
        var run = 0;
        foreach (var distance in settings.Distances)
        {
            var task = new RememberFirstTask(distance);
            var test = task.Sample(settings.TestSequences, new Random(settings.Seed + TestSeedOffset));
            foreach (var (model, kind, parameters) in Models(settings, task))
            {
                run++;
                var index = run;
                var trained = Trainer.Run(model, task, Training(settings), onStep is null ? null : step => onStep(new LongRangeProgress(model.Name, distance, index, runs, step)), cancel);
                if (trained.Outcome == TrainingOutcome.Cancelled || trained.Steps.Count == 0)
                {
                    throw new OperationCanceledException($"the experiment was stopped during run {index} of {runs} ({model.Name} at L = {distance}): the comparison needs every run, so run the cell again to start over.", cancel);
                }

                var outcome = model.Evaluate(test, settings.Threads);
                var steps = trained.Steps;
                var curve = new LongRangeCurve(
                    model.Name, distance, [.. steps.Select(s => s.Loss)], [.. steps.Select(s => s.Accuracy)],
                    [.. steps.Select(s => s.FirstPositionGradient)], [.. steps.Select(s => s.Seconds)], trained.Outcome == TrainingOutcome.Completed ? "completed" : trained.Message);
                curves.Add(curve);
                var tenth = Math.Max(1, steps.Count / 10);
                results.Add(new LongRangeResult(
                    model.Name, kind, distance, task.MaxLength, parameters, outcome.Correct, outcome.Scored,
                    Median(curve.Seconds.Skip(steps.Count / 2)), Median(curve.FirstGradient.Take(tenth)), Median(curve.FirstGradient.Skip(steps.Count - tenth))));
            }
        }

        return new LongRangeExperiment(settings, new LongRangeReport(results, Chance), curves);
    }

    /// <summary>
    /// One model retrained at one distance with each of several seeds (everything else as in <paramref name="settings"/>)
    /// and tested like <see cref="Run"/> tests it: how much a result depends on the seed, or on another setting.
    /// </summary>
    /// <param name="settings">The settings; its <see cref="LongRangeSettings.Seed"/> is replaced by each seed in turn.</param>
    /// <param name="model">"Elman RNN", "LSTM" or "attention".</param>
    /// <param name="distance">L.</param>
    /// <param name="seeds">The seeds, at least one.</param>
    /// <param name="onStep">Called after every step (for a live progress line).</param>
    /// <param name="cancel">Stops after the step in progress; this then throws.</param>
    /// <returns>One result per seed, in order.</returns>
    /// <exception cref="ArgumentException">A setting is out of range, the model is unknown or there are no seeds.</exception>
    /// <exception cref="OperationCanceledException">It was cancelled.</exception>
    public static IReadOnlyList<LongRangeSpot> Spots(LongRangeSettings settings, string model, int distance, IReadOnlyList<int> seeds, Action<LongRangeProgress>? onStep = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(seeds);
        (settings with { Distances = [distance] }).Validate();
        if (seeds.Count == 0)
        {
            throw new ArgumentException("there are no seeds: give at least one, e.g. [1, 2, 3, 4, 5].", nameof(seeds));
        }

        var task = new RememberFirstTask(distance);
        var spots = new List<LongRangeSpot>();
        for (var i = 0; i < seeds.Count; i++)
        {
            var seeded = settings with { Seed = seeds[i] };
            var chosen = Models(seeded, task).FirstOrDefault(m => m.Model.Name == model).Model
                ?? throw new ArgumentException($"there is no model called \"{model}\": use \"Elman RNN\", \"LSTM\" or \"attention\".", nameof(model));
            var index = i + 1;
            var trained = Trainer.Run(chosen, task, Training(seeded), onStep is null ? null : step => onStep(new LongRangeProgress(model, distance, index, seeds.Count, step)), cancel);
            if (trained.Outcome == TrainingOutcome.Cancelled)
            {
                throw new OperationCanceledException($"stopped during seed {seeds[i]} ({model} at L = {distance}): run the cell again to start over.", cancel);
            }

            var outcome = chosen.Evaluate(task.Sample(settings.TestSequences, new Random(seeds[i] + TestSeedOffset)), settings.Threads);
            spots.Add(new LongRangeSpot(model, distance, seeds[i], settings.ForgetBias, outcome.Correct, outcome.Scored));
        }

        return spots;
    }

    /// <summary>The trainer's settings for every run: the same budget for every model and distance.</summary>
    /// <param name="settings">The experiment's settings.</param>
    /// <returns>Steps, batch, Adam with the learning rate, clipping, seed, threads.</returns>
    public static TrainingSettings Training(LongRangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new TrainingSettings(settings.Steps, settings.BatchSize, settings.LearningRate, OptimizerChoice.Adam, settings.ClipNorm, settings.Seed, settings.Threads);
    }

    /// <summary>Added to the seed for the test sequences, so that they are drawn apart from the training batches.</summary>
    public const int TestSeedOffset = 1_000_003;

    /// <summary>The median of a non-empty sequence (the mean of the two middle values for an even count).</summary>
    /// <exception cref="ArgumentException">There are no values.</exception>
    public static double Median(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("there are no values to take the median of: train at least one step.", nameof(values));
        }

        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
