using System.Globalization;

namespace NotebookAttention.Training;

/// <summary>Which family a model of the long-range comparison belongs to: the time and gradient sentences compare the two.</summary>
public enum LongRangeModelKind
{
    /// <summary>Reads the sequence one position after another (the Elman RNN, the LSTM).</summary>
    Recurrent,

    /// <summary>Links every pair of positions in one step (the transformer block).</summary>
    Attention,
}

/// <summary>One model trained at one distance L of the remember-the-first-token task, and what came out.</summary>
/// <param name="Model">The model's name ("Elman RNN", "LSTM", "attention").</param>
/// <param name="Kind">Recurrent or attention.</param>
/// <param name="Distance">L: how many positions separate the first token from the position that must repeat it.</param>
/// <param name="Length">n: the tokens in one sequence of that task (what a step's cost grows with).</param>
/// <param name="Parameters">The model's learned scalars.</param>
/// <param name="Correct">Test sequences whose answer the trained model got right.</param>
/// <param name="Tested">Test sequences (fresh ones, never trained on).</param>
/// <param name="SecondsPerStep">
/// Median wall-clock seconds of one training step (forward, backward, update) over the second half of the run, when
/// .NET has long recompiled the code that runs often (the first steps of a process run unoptimised code).
/// </param>
/// <param name="FirstGradientEarly">Median over the first tenth of the steps of ||dLoss/dx_0||, the gradient reaching the first position's input.</param>
/// <param name="FirstGradientLate">The same over the last tenth of the steps.</param>
public sealed record LongRangeResult(
    string Model, LongRangeModelKind Kind, int Distance, int Length, int Parameters,
    int Correct, int Tested, double SecondsPerStep, double FirstGradientEarly, double FirstGradientLate)
{
    /// <summary>Correct / Tested.</summary>
    public double Accuracy => (double)Correct / Tested;
}

/// <summary>
/// The long-range comparison of notebook 10 as numbers and the sentences they support: for each model and distance L
/// the test accuracy, the time per step, the gradient reaching the first position and the parameters. Every sentence
/// of <see cref="Conclusions"/> is derived from those numbers by rules stated here, so the notebook never prints a
/// conclusion its own table contradicts, on a busy machine or a quiet one.
/// </summary>
/// <remarks>
/// The rules. A model <em>holds</em> at L when at least <see cref="SolvedShare"/> of the test sequences are right;
/// "held up to L" names the longest L up to which it held at every distance. A model is <em>at chance</em> when its
/// accuracy is at most chance plus <see cref="StandardErrors"/> binomial standard errors, sqrt(p (1 − p) / tested):
/// a guesser lands above that in about 1 test in 500 (exact binomial for 512 tests: 1 in 521), and an accuracy at or below it is indistinguishable from guessing at that N, not proof of guessing. "At chance from L on" needs every longer L at chance too.
/// Times are compared between the two longest distances only: a step at short L takes a few milliseconds, where a
/// shared machine's time slices (about 4 ms when another program holds the core) would decide the ratio. Attention's
/// time is said to grow faster than the recurrent models' only when its exponent there (time ∝ n^k) exceeds every
/// recurrent model's by more than <see cref="ExponentGap"/>.
/// </remarks>
public sealed class LongRangeReport
{
    /// <summary>The share of right test sequences from which a model counts as holding at a distance (the issue's 95%).</summary>
    public const double SolvedShare = 0.95;

    /// <summary>How many binomial standard errors above chance an accuracy may lie and still count as at chance.</summary>
    public const double StandardErrors = 3;

    /// <summary>How much larger attention's fitted exponent must be than every recurrent model's to say its time grows faster.</summary>
    public const double ExponentGap = 0.3;

    /// <summary>Checks the results and derives the conclusions.</summary>
    /// <param name="results">One result per model and distance: every model at the same distances, all tested on the same number of sequences.</param>
    /// <param name="chance">The accuracy of guessing: 1 / the number of tokens the first position can hold.</param>
    /// <exception cref="ArgumentException">The results are empty, incomplete, duplicated or hold impossible numbers.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Chance is not strictly between 0 and 1.</exception>
    public LongRangeReport(IReadOnlyList<LongRangeResult> results, double chance)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (!(chance > 0 && chance < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(chance), chance, "chance must lie strictly between 0 and 1: it is 1 / the number of tokens the first position can hold.");
        }

        if (results.Count == 0)
        {
            throw new ArgumentException("there are no results: train at least one model at one distance.", nameof(results));
        }

        foreach (var result in results)
        {
            Validate(result ?? throw new ArgumentException("a result is null: give one result per model and distance.", nameof(results)));
        }

        Models = [.. results.Select(r => r.Model).Distinct(StringComparer.Ordinal)];
        Distances = [.. results.Select(r => r.Distance).Distinct().Order()];
        Tested = results[0].Tested;
        if (results.Any(r => r.Tested != Tested))
        {
            throw new ArgumentException($"results were tested on different numbers of sequences ({string.Join(", ", results.Select(r => r.Tested).Distinct())}): test every model on the same set.", nameof(results));
        }

        table = [];
        foreach (var result in results)
        {
            if (!table.TryAdd((result.Model, result.Distance), result))
            {
                throw new ArgumentException($"{result.Model} has two results at L = {result.Distance}: give one per model and distance.", nameof(results));
            }
        }

        foreach (var model in Models)
        {
            var missing = Distances.Where(d => !table.ContainsKey((model, d))).ToList();
            if (missing.Count > 0)
            {
                throw new ArgumentException($"{model} has no result at L = {string.Join(", ", missing)}: train every model at every distance, so that they can be compared.", nameof(results));
            }

            if (Distances.Select(d => Result(model, d).Kind).Distinct().Count() > 1)
            {
                throw new ArgumentException($"{model} is called recurrent at one distance and attention at another: give it one kind.", nameof(results));
            }
        }

        foreach (var distance in Distances)
        {
            if (Models.Select(m => Result(m, distance).Length).Distinct().Count() > 1)
            {
                throw new ArgumentException($"at L = {distance} the models read sequences of different lengths: they must train on the same task.", nameof(results));
            }
        }

        for (var i = 1; i < Distances.Count; i++)
        {
            if (Length(Distances[i]) <= Length(Distances[i - 1]))
            {
                throw new ArgumentException($"the sequences at L = {Distances[i]} are not longer than at L = {Distances[i - 1]}: a longer distance needs longer sequences.", nameof(results));
            }
        }

        Chance = chance;
        ChanceLimit = chance + (StandardErrors * Math.Sqrt(chance * (1 - chance) / Tested));
        List<string> conclusions = [.. Models.Select(AccuracySentence), LongestSentence()];
        if (AttentionModel is not null && RecurrentModels.Count > 0)
        {
            conclusions.Add(GradientSentence());
        }

        if (Distances.Count >= 2)
        {
            TimingDependentConclusion = GrowthSentence();
            conclusions.Add(TimingDependentConclusion);
        }

        conclusions.Add(StepTimeSentence());
        conclusions.Add(ParameterSentence());
        Conclusions = conclusions;
    }

    private readonly Dictionary<(string Model, int Distance), LongRangeResult> table;

    /// <summary>The models, in the order of the results.</summary>
    public IReadOnlyList<string> Models { get; }

    /// <summary>The distances L, increasing.</summary>
    public IReadOnlyList<int> Distances { get; }

    /// <summary>Test sequences per result.</summary>
    public int Tested { get; }

    /// <summary>The accuracy of guessing.</summary>
    public double Chance { get; }

    /// <summary>The largest accuracy that still counts as at chance: chance + <see cref="StandardErrors"/> standard errors.</summary>
    public double ChanceLimit { get; }

    /// <summary>What the numbers show, one sentence each: per model its accuracy against L, the longest L, the gradient at the first position, the time per step (growth and exponent between the two longest L, then absolute) and the parameters.</summary>
    public IReadOnlyList<string> Conclusions { get; }

    /// <summary>
    /// The one conclusion whose words, not only its figures, follow from timings (the growth of the time per step, its
    /// fitted exponents and whether attention's grew faster), or null with fewer than two distances. Two runs of the same
    /// seeded lesson agree on every other sentence; a page marks this one so a comparison of two runs can set it aside.
    /// </summary>
    public string? TimingDependentConclusion { get; }

    /// <summary>The one model of kind attention, or null when there is none or more than one.</summary>
    public string? AttentionModel => Models.Count(m => KindOf(m) == LongRangeModelKind.Attention) == 1 ? Models.Single(m => KindOf(m) == LongRangeModelKind.Attention) : null;

    /// <summary>The recurrent models, in order.</summary>
    public IReadOnlyList<string> RecurrentModels => [.. Models.Where(m => KindOf(m) == LongRangeModelKind.Recurrent)];

    /// <summary>The result of one model at one distance.</summary>
    /// <param name="model">A model name from <see cref="Models"/>.</param>
    /// <param name="distance">A distance from <see cref="Distances"/>.</param>
    /// <exception cref="KeyNotFoundException">There is no such result.</exception>
    public LongRangeResult Result(string model, int distance) =>
        table.TryGetValue((model, distance), out var result) ? result
        : throw new KeyNotFoundException($"no result for {model} at L = {distance}: models are {string.Join(", ", Models)}, distances {string.Join(", ", Distances)}.");

    /// <summary>The sequence length n at a distance.</summary>
    /// <param name="distance">A distance from <see cref="Distances"/>.</param>
    /// <returns>n.</returns>
    public int Length(int distance) => Result(Models[0], distance).Length;

    /// <summary>Whether a result holds: at least <see cref="SolvedShare"/> right.</summary>
    /// <returns>True when it holds.</returns>
    public static bool Holds(LongRangeResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Correct >= SolvedShare * result.Tested;
    }

    /// <summary>Whether a result is at chance: its accuracy is at most <see cref="ChanceLimit"/>.</summary>
    /// <returns>True when it is at chance.</returns>
    public bool AtChance(LongRangeResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Accuracy <= ChanceLimit;
    }

    /// <summary>The longest L up to which the model held at every distance, or null when it did not hold at the shortest.</summary>
    /// <param name="model">A model name.</param>
    /// <returns>L or null.</returns>
    public int? HeldUpTo(string model)
    {
        int? held = null;
        foreach (var distance in Distances)
        {
            if (!Holds(Result(model, distance)))
            {
                break;
            }

            held = distance;
        }

        return held;
    }

    /// <summary>The shortest L from which the model was at chance at every longer distance, or null when it was above chance at the longest.</summary>
    /// <param name="model">A model name.</param>
    /// <returns>L or null.</returns>
    public int? AtChanceFrom(string model)
    {
        int? from = null;
        foreach (var distance in Distances.Reverse())
        {
            if (!AtChance(Result(model, distance)))
            {
                break;
            }

            from = distance;
        }

        return from;
    }

    /// <summary>
    /// The exponent k of time per step ∝ n^k between the two longest distances: ln(t₂ / t₁) / ln(n₂ / n₁).
    /// </summary>
    /// <param name="model">A model name.</param>
    /// <returns>k.</returns>
    /// <exception cref="InvalidOperationException">There is only one distance.</exception>
    public double TimeExponent(string model)
    {
        if (Distances.Count < 2)
        {
            throw new InvalidOperationException("an exponent needs two distances: train at two L or more.");
        }

        var (shorter, longer) = (Result(model, Distances[^2]), Result(model, Distances[^1]));
        return Math.Log(longer.SecondsPerStep / shorter.SecondsPerStep) / Math.Log((double)longer.Length / shorter.Length);
    }

    /// <summary>
    /// What retraining one model at one distance with several seeds showed: with how many it held (at least
    /// <see cref="SolvedShare"/> right), which ones, and what the others reached.
    /// </summary>
    /// <param name="spots">Results of <see cref="LongRangeExperiment.Spots"/>: one model, one distance, distinct seeds.</param>
    /// <exception cref="ArgumentException">The spots are empty or mix models or distances.</exception>
    public static string SeedSentence(IReadOnlyList<LongRangeSpot> spots)
    {
        var (model, distance) = Group(spots);
        var held = spots.Where(s => Holds(s.Correct, s.Tested)).ToList();
        var opening = Say($"Retrained at L = {distance} with seeds {Join([.. spots.Select(s => s.Seed.ToString(CultureInfo.InvariantCulture))])}, everything else the same, {Subject(model)} held (at least {Percent(SolvedShare)} right) with {held.Count} of the {spots.Count}");
        if (held.Count == spots.Count)
        {
            return opening + Say($": at this budget its result at L = {distance} did not depend on which of these seeds it started from.");
        }

        var others = spots.Except(held).Select(s => Say($"with seed {s.Seed} on {Percent(s.Accuracy)}")).ToList();
        var which = held.Count == 0 ? string.Empty : Say($" (seed{(held.Count == 1 ? string.Empty : "s")} {Join([.. held.Select(s => s.Seed.ToString(CultureInfo.InvariantCulture))])})");
        return opening + which + Say($"; it was right {Join(others)}: at this budget its result at L = {distance} depends on the seed, and one seed's table does not settle it.");
    }

    /// <summary>
    /// What another starting forget-gate bias changed: the LSTM's accuracy with the spots' bias against this report's
    /// at the same distances (same seed and budget).
    /// </summary>
    /// <param name="spots">Results of <see cref="LongRangeExperiment.Spots"/> for one model, each at a distance of this report, with one seed and one bias.</param>
    /// <param name="reportBias">The forget-gate bias this report's runs started from.</param>
    /// <exception cref="ArgumentException">The spots are empty, mix models, seeds or biases, or sit at a distance the report lacks.</exception>
    public string ForgetBiasSentence(IReadOnlyList<LongRangeSpot> spots, double reportBias)
    {
        ArgumentNullException.ThrowIfNull(spots);
        if (spots.Count == 0 || spots.Select(s => (s.Model, s.Seed, s.ForgetBias)).Distinct().Count() != 1 || spots.Any(s => !Distances.Contains(s.Distance)))
        {
            throw new ArgumentException("give spots of one model, one seed and one forget-gate bias, at distances of this report.", nameof(spots));
        }

        var model = spots[0].Model;
        var with = Join([.. spots.Select(s => Say($"{Percent(s.Accuracy)} at L = {s.Distance}"))]);
        var table = Join([.. spots.Select(s => Say($"{Percent(Result(model, s.Distance).Accuracy)} at L = {s.Distance}"))]);
        var better = spots.Count(s => s.Correct > Result(model, s.Distance).Correct);
        return Say($"With the forget-gate bias starting at {spots[0].ForgetBias:0.##} instead of {reportBias:0.##} (same seed, same steps), {Subject(model)} was right on {with}; with {reportBias:0.##} (the table) on {table}: the start was better at {better} of these {spots.Count} distances.");
    }

    private static (string Model, int Distance) Group(IReadOnlyList<LongRangeSpot> spots)
    {
        ArgumentNullException.ThrowIfNull(spots);
        if (spots.Count == 0 || spots.Select(s => (s.Model, s.Distance)).Distinct().Count() != 1 || spots.Select(s => s.Seed).Distinct().Count() != spots.Count)
        {
            throw new ArgumentException("give spots of one model at one distance, one per seed, at least one.", nameof(spots));
        }

        return (spots[0].Model, spots[0].Distance);
    }

    private static bool Holds(int correct, int tested) => correct >= SolvedShare * tested;

    private LongRangeModelKind KindOf(string model) => Result(model, Distances[0]).Kind;

    private string AccuracySentence(string model)
    {
        var results = Distances.Select(d => Result(model, d)).ToList();
        var listed = string.Join(", ", results.Take(results.Count - 1).Select(r => Say($"{Percent(r.Accuracy)} at L = {r.Distance}")));
        listed = results.Count == 1 ? Say($"{Percent(results[0].Accuracy)} at L = {results[0].Distance}") : Say($"{listed} and {Percent(results[^1].Accuracy)} at L = {results[^1].Distance}");
        var opening = Say($"{Capital(Subject(model))} was right on {listed}");
        if (results.All(Holds))
        {
            return Say($"{opening}: at least {Percent(SolvedShare)} at every L.");
        }

        var held = HeldUpTo(model);
        var holding = held is { } upTo
            ? Say($"it held (at least {Percent(SolvedShare)}) up to L = {upTo}")
            : Say($"it was below {Percent(SolvedShare)} already at the shortest distance, L = {Distances[0]}");
        var again = results.Where(r => Holds(r) && (held is null || r.Distance > held)).Select(r => r.Distance.ToString(CultureInfo.InvariantCulture)).ToList();
        if (again.Count > 0)
        {
            holding += Say($", yet held again at L = {string.Join(", ", again)}");
        }

        var from = AtChanceFrom(model);
        var limit = Say($"at most {Percent(ChanceLimit)}: within {StandardErrors:0} standard errors of chance, {Percent(Chance)}, on {Tested} test sequences");
        string chancePart;
        if (from is { } start)
        {
            chancePart = start == Distances[0]
                ? Say($"it was at chance at every L ({limit})")
                : Say($"it was at chance from L = {start} on ({limit})");
        }
        else
        {
            chancePart = Say($"at L = {Distances[^1]} it was still above chance ({Percent(Chance)})");
            var dips = results.Where(AtChance).Select(r => r.Distance.ToString(CultureInfo.InvariantCulture)).ToList();
            if (dips.Count > 0)
            {
                chancePart += Say($", though at chance at L = {string.Join(", ", dips)} ({limit})");
            }
        }

        return Say($"{opening}: {holding}; {chancePart}.");
    }

    private string LongestSentence()
    {
        var longest = Distances[^1];
        var holding = Models.Where(m => Holds(Result(m, longest))).ToList();
        var start = Say($"At the longest distance, L = {longest}, ");
        return holding.Count switch
        {
            0 => start + Say($"no model was right on at least {Percent(SolvedShare)} of the test sequences."),
            _ when holding.Count == Models.Count && Models.Count > 1 => start + Say($"every model was right on at least {Percent(SolvedShare)} of the test sequences: this budget lets all of them bridge L = {longest}."),
            1 => start + Say($"only {Subject(holding[0])} was right on at least {Percent(SolvedShare)} of the test sequences."),
            _ => start + Say($"{Join(holding.Select(Subject).ToList())} were right on at least {Percent(SolvedShare)} of the test sequences; {Join([.. Models.Except(holding).Select(Subject)])} {(Models.Count - holding.Count == 1 ? "was" : "were")} not."),
        };
    }

    private string GradientSentence()
    {
        var longest = Distances[^1];
        var attention = Result(AttentionModel!, longest);
        var values = Models.Select(m => Result(m, longest)).Select(r => Say($"{Subject(r.Model)} {Scientific(r.FirstGradientEarly)} → {Scientific(r.FirstGradientLate)}")).ToList();
        var comparisons = RecurrentModels.Select(m => Compare(Result(m, longest), attention)).ToList();
        return Say($"At L = {longest} the gradient reaching the first position (median over the first tenth of training → over the last tenth): {Join(values)}. At the end, {Join(comparisons)}.");
    }

    private static string Compare(LongRangeResult recurrent, LongRangeResult attention)
    {
        var subject = Subject(recurrent.Model) + "'s";
        if (recurrent.FirstGradientLate == 0)
        {
            return Say($"{subject} was exactly 0 in double precision (it underflowed)");
        }

        if (recurrent.FirstGradientLate >= attention.FirstGradientLate)
        {
            return Say($"{subject} was at least as large as {Subject(attention.Model)}'s");
        }

        var ratio = attention.FirstGradientLate / recurrent.FirstGradientLate;
        var orders = (int)Math.Floor(Math.Log10(ratio));
        return orders < 1
            ? Say($"{subject} was within a factor of 10 of {Subject(attention.Model)}'s (x{1 / ratio:0.00})")
            : Say($"{subject} was {orders} order{(orders == 1 ? string.Empty : "s")} of magnitude below {Subject(attention.Model)}'s (x{1 / ratio:0.0e+00})");
    }

    private string GrowthSentence()
    {
        var (shorter, longer) = (Distances[^2], Distances[^1]);
        var ratio = (double)Length(longer) / Length(shorter);
        var growths = Models.Select(m => Say($"x{Result(m, longer).SecondsPerStep / Result(m, shorter).SecondsPerStep:0.0} for {Subject(m)}")).ToList();
        var exponents = Models.Select(m => Say($"n^{TimeExponent(m):0.00}")).ToList();
        var opening = Say($"From L = {shorter} to L = {longer} the sequences grew from n = {Length(shorter)} to n = {Length(longer)} tokens (x{ratio:0.00}; n² x{ratio * ratio:0.0}) and the time per training step grew {Join(growths)}, that is as {Join(exponents)} (n^1 is linear, n^2 quadratic)");
        if (AttentionModel is null || RecurrentModels.Count == 0)
        {
            return opening + ".";
        }

        return TimeExponent(AttentionModel) > RecurrentModels.Max(TimeExponent) + ExponentGap
            ? opening + Say($": attention's grew faster than every recurrent model's (by more than {ExponentGap} in the exponent), the cost of its n x n scores and weights.")
            : opening + Say($": attention's did not grow faster than every recurrent model's by more than {ExponentGap} in the exponent, so this run does not show its n² cost at these lengths.");
    }

    private string StepTimeSentence()
    {
        var longest = Distances[^1];
        var times = Models.Select(m => Say($"{Result(m, longest).SecondsPerStep * 1e3:0.0} ms for {Subject(m)}")).ToList();
        return Say($"At L = {longest} one training step took {Join(times)}.");
    }

    private string ParameterSentence()
    {
        var counts = Models.Select(m =>
        {
            var (first, last) = (Result(m, Distances[0]).Parameters, Result(m, Distances[^1]).Parameters);
            return first == last && Distances.All(d => Result(m, d).Parameters == first)
                ? Say($"{Subject(m)} {first:N0}")
                : Say($"{Subject(m)} from {first:N0} at L = {Distances[0]} to {last:N0} at L = {Distances[^1]}");
        }).ToList();
        return Say($"Learned parameters: {Join(counts)}.");
    }

    private static void Validate(LongRangeResult result)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(result.Model, nameof(result));
        var at = $"{result.Model} at L = {result.Distance}";
        if (result.Distance < 1 || result.Length <= result.Distance)
        {
            throw new ArgumentException($"{at}: L must be at least 1 and the sequence length n ({result.Length}) longer than L.", nameof(result));
        }

        if (result.Tested < 1 || result.Correct < 0 || result.Correct > result.Tested)
        {
            throw new ArgumentException($"{at}: {result.Correct} right of {result.Tested} tested is impossible: test at least one sequence and count 0 to all of them right.", nameof(result));
        }

        if (result.Parameters < 1)
        {
            throw new ArgumentException($"{at}: {result.Parameters} parameters: a trained model has at least one.", nameof(result));
        }

        if (!(result.SecondsPerStep > 0 && double.IsFinite(result.SecondsPerStep)))
        {
            throw new ArgumentException($"{at}: a step took {result.SecondsPerStep} s: it must be a finite number of seconds above 0; check the measurement.", nameof(result));
        }

        if (!(result.FirstGradientEarly >= 0 && double.IsFinite(result.FirstGradientEarly) && result.FirstGradientLate >= 0 && double.IsFinite(result.FirstGradientLate)))
        {
            throw new ArgumentException($"{at}: a gradient norm is {result.FirstGradientEarly} or {result.FirstGradientLate}: norms are finite and not negative; check the training run.", nameof(result));
        }
    }

    /// <summary>"attention" (names that start in lower case take no article), "the LSTM" (names in capitals do).</summary>
    private static string Subject(string model) => char.IsLower(model[0]) ? model : "the " + model;

    private static string Capital(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    private static string Join(List<string> parts) => parts.Count switch
    {
        0 => string.Empty,
        1 => parts[0],
        2 => $"{parts[0]} and {parts[1]}",
        _ => $"{string.Join(", ", parts.Take(parts.Count - 1))} and {parts[^1]}",
    };

    /// <summary>A share as the report prints it: one decimal, "97.7%".</summary>
    /// <param name="share">A share between 0 and 1.</param>
    public static string Percent(double share) => Say($"{share * 100:0.0}%");

    /// <summary>A gradient norm as the report prints it: "3.1e-05", or "0" when it is exactly 0.</summary>
    /// <param name="value">The norm.</param>
    public static string Scientific(double value) => value == 0 ? "0" : Say($"{value:0.0e+00}");

    private static string Say(FormattableString sentence) => sentence.ToString(CultureInfo.InvariantCulture);
}
