using System.Globalization;
using MathNet.Numerics;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using NotebookAttention.Attention;
using NotebookAttention.Cost;
using NotebookAttention.Tokens;

namespace NotebookAttention.Recurrence;

/// <summary>
/// One seed of one recurrent network of <see cref="GradientComparison"/>: how ||d h_T / d x_t|| changed with the
/// distance T - t, measured after a burn-in, so that the states are in their settled (stationary) regime.
/// </summary>
/// <param name="Seed">The seed of the weights and of the burn-in inputs.</param>
/// <param name="LargestSingularValue">σ_max, the largest singular value of W (its spectral norm, at least the radius).</param>
/// <param name="LargestState">The largest |h| any measured state reached: near 1, tanh is saturated and its slope 1 - h² small.</param>
/// <param name="StartRate">The factor per step over the first <see cref="GradientComparison.StartSteps"/> inputs of a chain started at rest (h = 0, no burn-in).</param>
/// <param name="NearRate">The factor per step over the near half of the distances (0 .. steps/2 - 1), from a least-squares line through ln(norm).</param>
/// <param name="LateRate">The factor per step over the far half of the distances (steps/2 .. steps - 1).</param>
/// <param name="AtDistanceOne">||d h_T / d x_(T-1)||.</param>
public sealed record RecurrentSeedRow(int Seed, double LargestSingularValue, double LargestState, double StartRate, double NearRate, double LateRate, double AtDistanceOne);

/// <summary>One recurrent network of <see cref="GradientComparison"/>, one spectral radius measured at several seeds.</summary>
/// <param name="SpectralRadius">The largest |eigenvalue| ρ of the recurrent matrix W, the same at every seed.</param>
/// <param name="Steps">The number of inputs measured after the burn-in: distances 0 .. Steps - 1.</param>
/// <param name="Seeds">One row per seed.</param>
public sealed record RecurrentGradientRow(double SpectralRadius, int Steps, IReadOnlyList<RecurrentSeedRow> Seeds)
{
    /// <summary>The smallest rate per step, over both stretches and every seed.</summary>
    public double LowestRate => Seeds.Min(s => Math.Min(s.NearRate, s.LateRate));

    /// <summary>The largest rate per step, over both stretches and every seed.</summary>
    public double HighestRate => Seeds.Max(s => Math.Max(s.NearRate, s.LateRate));

    /// <summary>The median over the seeds of the near-stretch rate.</summary>
    public double MedianNearRate => GradientComparison.Median(Seeds.Select(s => s.NearRate));

    /// <summary>The median over the seeds of the late-stretch rate.</summary>
    public double MedianLateRate => GradientComparison.Median(Seeds.Select(s => s.LateRate));

    /// <summary>The median over the seeds of the start-up rate (from h = 0).</summary>
    public double MedianStartRate => GradientComparison.Median(Seeds.Select(s => s.StartRate));

    /// <summary>The largest |h| over every seed.</summary>
    public double LargestState => Seeds.Max(s => s.LargestState);

    /// <summary>The smallest σ_max over the seeds.</summary>
    public double SmallestSingularValue => Seeds.Min(s => s.LargestSingularValue);

    /// <summary>The largest σ_max over the seeds.</summary>
    public double LargestSingularValue => Seeds.Max(s => s.LargestSingularValue);
}

/// <summary>
/// One length of <see cref="GradientComparison"/>: how ||d y_T / d x_t|| of one attention layer (with positions)
/// changed with the distance T - t over the other tokens (t &lt; T), and with the length n.
/// </summary>
/// <param name="N">Sequence length.</param>
/// <param name="RatePerStep">The factor per step of distance over t &lt; T (distances 1 .. n - 1), from a least-squares line through ln(norm).</param>
/// <param name="MeanOtherNorm">The mean norm over the other tokens t &lt; T (falls like 1/n for any weights, since they sum to 1).</param>
/// <param name="LargestOtherNorm">The largest norm over the other tokens t &lt; T.</param>
/// <param name="LargestOtherWeight">The largest attention weight a_t over the other tokens t &lt; T.</param>
/// <param name="SelfNorm">||d y_T / d x_T||: the token's own input, which also moves the query.</param>
/// <param name="AtDistanceOne">||d y_T / d x_(T-1)||.</param>
public sealed record AttentionGradientRow(int N, double RatePerStep, double MeanOtherNorm, double LargestOtherNorm, double LargestOtherWeight, double SelfNorm, double AtDistanceOne)
{
    /// <summary>The fitted change over the other tokens, from distance 1 to n - 1: <see cref="RatePerStep"/>^(n - 2).</summary>
    public double Change => Math.Pow(RatePerStep, N - 2);
}

/// <summary>
/// Notebook 07's gradient comparison: an Elman-style RNN with tanh and one self-attention layer (untrained weights),
/// the same quantity for both, the Frobenius norm of the Jacobian of the last output with respect to input t
/// (d h_T / d x_t for the RNN, d y_T / d x_t for attention), against the distance T - t.
/// Every sentence of <see cref="Conclusions"/> is derived from the rows, so a test can rebuild them from printed numbers.
/// </summary>
/// <remarks>
/// <para>The RNN reads <see cref="BurnIn"/> inputs first, so that its states have settled before the measured inputs
/// (a chain started at h = 0 grows by about ρ per step until tanh saturates: a start-up effect, measured apart as the
/// start rate). Each seed's rate is fitted separately on the near and the far half of the distances; a verdict needs
/// every seed and both halves to agree: every rate below 1 with a median below 1 - <see cref="Band"/> is vanishing,
/// every rate above 1 with a median above 1 + <see cref="Band"/> exploding, every rate within the band holding;
/// otherwise no single verdict is given.</para>
/// <para>Pascanu et al. (2013): for a linear RNN the spectral radius ρ sets the long-run rate (ρ &lt; 1 vanishes; ρ &gt; 1
/// explodes except in degenerate cases). With tanh, whose slope is at most 1, σ_max &lt; 1 is sufficient for vanishing and
/// σ_max &gt; 1 necessary (not sufficient) for exploding; ρ alone decides nothing.</para>
/// <para>Attention is given sinusoidal positions (added to its inputs), so it could depend on distance; without
/// positions one layer cannot. Dilution is judged by the largest gradient to another token and the largest weight,
/// not by the mean (which falls like 1/n for any weights, since they sum to 1).</para>
/// </remarks>
public sealed class GradientComparison
{
    /// <summary>How far from 1 a rate per step must be to count as vanishing (below 1 - Band) or exploding (above 1 + Band).</summary>
    public const double Band = 0.15;

    /// <summary>The fitted exponent of n (for the largest gradient and the largest weight) at or below which attention counts as diluted by length.</summary>
    public const double DilutionExponentLimit = -0.5;

    /// <summary>Inputs the RNN reads before the measured ones, so that its states have settled.</summary>
    public const int BurnIn = 200;

    /// <summary>The first inputs of a chain started at rest over which <see cref="RecurrentSeedRow.StartRate"/> is fitted.</summary>
    public const int StartSteps = 10;

    /// <summary>The seeds <see cref="Measure"/> uses unless told otherwise: 1 to 10.</summary>
    public static IReadOnlyList<int> DefaultSeeds { get; } = [.. Enumerable.Range(1, 10)];

    /// <summary>Checks and keeps the rows and derives the conclusions.</summary>
    /// <param name="recurrent">One row per spectral radius, radius increasing, each with at least one seed.</param>
    /// <param name="attention">One row per length, n increasing (at least two lengths, each at least 3).</param>
    /// <param name="inputScale">The standard deviation of the shared inputs' entries.</param>
    /// <exception cref="ArgumentException">A list is empty or out of order, or a number is not finite and above 0.</exception>
    public GradientComparison(IReadOnlyList<RecurrentGradientRow> recurrent, IReadOnlyList<AttentionGradientRow> attention, double inputScale)
    {
        ArgumentNullException.ThrowIfNull(recurrent);
        ArgumentNullException.ThrowIfNull(attention);
        if (recurrent.Count == 0 || recurrent.Any(r => r is null || r.Seeds is null || r.Seeds.Count == 0 || r.Seeds.Any(s => s is null))
            || recurrent.Zip(recurrent.Skip(1)).Any(p => p.Second.SpectralRadius <= p.First.SpectralRadius))
        {
            throw new ArgumentException("give at least one recurrent row, each with at least one seed, radii increasing from row to row.", nameof(recurrent));
        }

        if (attention.Count < 2 || attention.Any(r => r is null || r.N < 3) || attention.Zip(attention.Skip(1)).Any(p => p.Second.N <= p.First.N))
        {
            throw new ArgumentException("give at least two attention rows of at least 3 tokens each, n increasing: dilution is a change with length.", nameof(attention));
        }

        double[] numbers = [.. recurrent.SelectMany(r => r.Seeds.SelectMany(s => new[] { r.SpectralRadius, s.LargestSingularValue, s.StartRate, s.NearRate, s.LateRate, s.AtDistanceOne })),
            .. attention.SelectMany(r => new[] { r.RatePerStep, r.MeanOtherNorm, r.LargestOtherNorm, r.LargestOtherWeight, r.SelfNorm, r.AtDistanceOne }), inputScale];
        if (numbers.Any(v => !(v > 0 && double.IsFinite(v))) || recurrent.Any(r => r.Steps < 4 || r.Seeds.Any(s => !(s.LargestState is >= 0 and <= 1))))
        {
            throw new ArgumentException("every radius, rate, norm, weight and the input scale must be a finite number above 0, every state within [0, 1] and every chain at least 4 steps: check the measurement.", nameof(recurrent));
        }

        Recurrent = [.. recurrent];
        Attention = [.. attention];
        InputScale = inputScale;
        double[] lengths = [.. Attention.Select(r => (double)r.N)];
        DilutionExponent = PowerLaw.Fit(lengths, [.. Attention.Select(r => r.MeanOtherNorm)]).Exponent;
        LargestGradientExponent = PowerLaw.Fit(lengths, [.. Attention.Select(r => r.LargestOtherNorm)]).Exponent;
        LargestWeightExponent = PowerLaw.Fit(lengths, [.. Attention.Select(r => r.LargestOtherWeight)]).Exponent;
        Conclusions = [.. Recurrent.Select(RecurrentSentence), DistanceSentence(), DilutionSentence(), SizeSentence()];
    }

    /// <summary>The RNN rows, spectral radius increasing.</summary>
    public IReadOnlyList<RecurrentGradientRow> Recurrent { get; }

    /// <summary>The attention rows, n increasing.</summary>
    public IReadOnlyList<AttentionGradientRow> Attention { get; }

    /// <summary>The standard deviation of the inputs' entries (the content both models read).</summary>
    public double InputScale { get; }

    /// <summary>The slope of ln(mean norm over the other tokens) against ln n (near -1 for any weights).</summary>
    public double DilutionExponent { get; }

    /// <summary>The slope of ln(largest norm over the other tokens) against ln n.</summary>
    public double LargestGradientExponent { get; }

    /// <summary>The slope of ln(largest weight over the other tokens) against ln n.</summary>
    public double LargestWeightExponent { get; }

    /// <summary>What the numbers show, one sentence each: one per RNN, attention against distance, against length, and sizes.</summary>
    public IReadOnlyList<string> Conclusions { get; }

    /// <summary>The gradient norms against distance, for the first seed, that the rows summarize (empty for a comparison rebuilt from rows).</summary>
    public IReadOnlyList<(string Name, IReadOnlyList<double> Norms)> Curves { get; private init; } = [];

    /// <summary>
    /// The shared inputs: entries drawn from N(0, scale²), seeded; a longer sequence starts with the rows of a shorter one.
    /// </summary>
    /// <param name="n">Rows (tokens or time steps).</param>
    /// <param name="width">Entries per row.</param>
    /// <param name="scale">Standard deviation of the entries.</param>
    /// <param name="seed">Seed.</param>
    /// <returns>X, [n x width].</returns>
    public static Matrix<double> Inputs(int n, int width, double scale, int seed)
    {
        Check.AtLeast(n, 1, "sequence length n", nameof(n));
        Check.AtLeast(width, 1, "input width", nameof(width));
        if (!(scale > 0 && double.IsFinite(scale)))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"the input scale is {scale}: it must be a finite number above 0, such as 0.1 or 1.");
        }

        var normal = new Normal(0, scale, new Xoshiro256StarStar(seed, threadSafe: false));
        var entries = normal.Samples().Take(n * width).ToArray();
        return Matrix<double>.Build.Dense(n, width, (row, column) => entries[(row * width) + column]);
    }

    /// <summary>
    /// Measures both models (width 8): per spectral radius and seed, an Elman-style RNN with tanh (16 hidden units,
    /// untrained) that reads <see cref="BurnIn"/> inputs and then the shared inputs (<see cref="Inputs"/>, the
    /// <paramref name="steps"/> measured), and per length one attention layer (d_k = d_v = 8, untrained, the first
    /// seed) reading the shared inputs with sinusoidal positions added.
    /// </summary>
    /// <param name="steps">The number of inputs measured after the burn-in, at least 4 (distances 0 .. steps - 1).</param>
    /// <param name="radii">Spectral radii of the RNN's W, increasing.</param>
    /// <param name="lengths">Lengths for attention, increasing (include <paramref name="steps"/> to compare sizes).</param>
    /// <param name="inputScale">Standard deviation of the inputs' entries.</param>
    /// <param name="seeds">Seeds of inputs and weights (default <see cref="DefaultSeeds"/>); the curves and attention use the first.</param>
    /// <param name="queryScale">A factor on attention's W_Q: above 1 the weights become more peaked (1 leaves them as initialized).</param>
    /// <returns>The comparison, with the curves of the first seed.</returns>
    public static GradientComparison Measure(int steps, IReadOnlyList<double> radii, IReadOnlyList<int> lengths, double inputScale, IReadOnlyList<int>? seeds = null, double queryScale = 1)
    {
        ArgumentNullException.ThrowIfNull(radii);
        ArgumentNullException.ThrowIfNull(lengths);
        Check.AtLeast(steps, 4, "steps", nameof(steps));
        seeds ??= DefaultSeeds;
        if (seeds.Count == 0 || seeds.Distinct().Count() != seeds.Count)
        {
            throw new ArgumentException("give at least one seed, each once, such as [1, 2, 3].", nameof(seeds));
        }

        if (!(queryScale > 0 && double.IsFinite(queryScale)))
        {
            throw new ArgumentOutOfRangeException(nameof(queryScale), queryScale, $"the query scale is {queryScale}: it must be a finite number above 0 (1 leaves W_Q as initialized).");
        }

        const int width = 8;
        var curves = new List<(string, IReadOnlyList<double>)>();
        var recurrent = new List<RecurrentGradientRow>();
        foreach (var radius in radii)
        {
            var rows = new List<RecurrentSeedRow>();
            foreach (var seed in seeds)
            {
                var (row, norms) = MeasureRecurrent(steps, radius, width, inputScale, seed);
                rows.Add(row);
                if (seed == seeds[0])
                {
                    curves.Add((Invariant($"RNN, spectral radius {radius}"), norms));
                }
            }

            recurrent.Add(new RecurrentGradientRow(radius, steps, rows));
        }

        var original = QkvProjections.Create(width, width, width, seeds[0]);
        var projections = new QkvProjections(new LinearProjection(original.Query.Weight * queryScale), original.Key, original.Value);
        var attention = new List<AttentionGradientRow>();
        foreach (var n in lengths)
        {
            Check.AtLeast(n, 3, "attention length n", nameof(lengths));
            var x = PositionalEncoding.AddTo(Inputs(n, width, inputScale, seeds[0]));
            var norms = AttentionGradients.GradientNorms(projections, x);
            var others = norms[..^1];
            var weights = LastWeights(projections, x);
            attention.Add(new AttentionGradientRow(n, GradientFlow.RatePerStep(others), others.Average(), others.Max(), weights.Take(n - 1).Max(), norms[^1], norms[^2]));
            if (n == steps)
            {
                curves.Add(("attention, with positions", Reversed(norms)));
            }
        }

        return new GradientComparison(recurrent, attention, inputScale) { Curves = curves };
    }

    /// <summary>The median of some numbers (the mean of the middle two for an even count).</summary>
    /// <param name="values">The numbers, at least one.</param>
    public static double Median(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("a median needs at least one number.", nameof(values));
        }

        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The factor per step fitted to ln(norm) over the distances from .. to (inclusive).</summary>
    /// <param name="byDistance">Norms indexed by distance.</param>
    /// <param name="from">First distance.</param>
    /// <param name="to">Last distance.</param>
    /// <returns>exp(slope).</returns>
    public static double RateOver(IReadOnlyList<double> byDistance, int from, int to)
    {
        ArgumentNullException.ThrowIfNull(byDistance);
        if (from < 0 || to >= byDistance.Count || to - from < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(to), to, $"the stretch {from} .. {to} must lie within 0 .. {byDistance.Count - 1} and hold at least two distances.");
        }

        return GradientFlow.RatePerStep([.. Enumerable.Range(from, to - from + 1).Reverse().Select(d => byDistance[d])]);
    }

    private static (RecurrentSeedRow Row, double[] ByDistance) MeasureRecurrent(int steps, double radius, int width, double inputScale, int seed)
    {
        var rnn = ElmanRnn.WithSpectralRadius(16, width, radius, seed);
        var shared = Inputs(steps, width, inputScale, seed);
        var burnIn = Inputs(BurnIn, width, inputScale, seed + 1_000_000);
        var x = Matrix<double>.Build.DenseOfMatrixArray(new[,] { { burnIn }, { shared } });
        var byDistance = Reversed(rnn.GradientNorms(x))[..steps];       // index = distance T - t, measured inputs only
        var largestState = rnn.Forward(x).SubMatrix(BurnIn, steps, 0, 16).Enumerate().Max(Math.Abs);
        var atRest = Reversed(rnn.GradientNorms(shared));                // a chain started at h = 0, no burn-in
        var start = Math.Min(StartSteps, steps);
        var half = steps / 2;
        var row = new RecurrentSeedRow(seed, rnn.Recurrent.L2Norm(), largestState, RateOver(atRest, steps - start, steps - 1),
            RateOver(byDistance, 0, half - 1), RateOver(byDistance, half, steps - 1), byDistance[1]);
        return (row, byDistance);
    }

    private static double[] LastWeights(QkvProjections projections, Matrix<double> inputs)
    {
        var (queries, keys, _) = projections.Project(inputs);
        return [.. Softmax.Stable(keys * queries.Row(inputs.RowCount - 1) * Scores.ScaleFactor(projections.DK))];
    }

    private static double[] Reversed(double[] norms) => [.. norms.Reverse()];   // index = distance T - t

    private string RecurrentSentence(RecurrentGradientRow row)
    {
        var count = row.Seeds.Count;
        var head = Invariant($"RNN, ρ = {row.SpectralRadius:0.##} (σ_max {row.SmallestSingularValue:0.00} to {row.LargestSingularValue:0.00}), {count} seeds, after a burn-in: x{row.LowestRate:0.00} to x{row.HighestRate:0.00} per step over both stretches, ");
        var median = Median(row.Seeds.SelectMany(s => new[] { s.NearRate, s.LateRate }));
        string verdict;
        if (row.HighestRate < 1 && median < 1 - Band)
        {
            verdict = Invariant($"so the gradient vanished with distance: every rate is below 1, at every seed and in both stretches, and their median x{median:0.00} is below x{1 - Band:0.00}.");
        }
        else if (row.LowestRate > 1 && median > 1 + Band)
        {
            verdict = Invariant($"so the gradient exploded with distance: every rate is above 1, at every seed and in both stretches, and their median x{median:0.00} is above x{1 + Band:0.00}.");
        }
        else if (row.LowestRate >= 1 - Band && row.HighestRate <= 1 + Band)
        {
            verdict = Invariant($"so the gradient held at every seed (within x{1 - Band:0.00} to x{1 + Band:0.00} per step).");
        }
        else
        {
            verdict = "no single verdict: the rates differ too much between seeds or stretches, so what the gradient does depends on the weights, not on ρ alone.";
        }

        var parts = new List<string> { head + verdict };
        if (row.LargestState >= 0.5)
        {
            parts.Add(Invariant($"The states reached |h| = {row.LargestState:0.00}, where tanh's slope 1 − h² is small: saturation, not ρ alone, sets the rate."));
        }
        else
        {
            parts.Add(Invariant($"The states stayed small (|h| ≤ {row.LargestState:0.00}), so tanh is nearly linear")
                + (Math.Abs(row.MedianLateRate - row.SpectralRadius) <= 0.1 * row.SpectralRadius
                    ? Invariant($" and the far-half rate (median x{row.MedianLateRate:0.00}) is close to ρ, as in a linear RNN, where ρ sets the long-run rate.")
                    : Invariant($", yet the far-half rate (median x{row.MedianLateRate:0.00}) is not within 10% of ρ: this chain does not reach the long-run rate.")));
        }

        if (row.LargestSingularValue < 1)
        {
            parts.Add("σ_max < 1 at every seed, which with tanh is sufficient for vanishing (Pascanu et al. 2013).");
        }
        else if (row.SmallestSingularValue > 1)
        {
            parts.Add(row.SpectralRadius < 1
                ? "ρ < 1 but σ_max > 1 at every seed: no guarantee applies with tanh, so the rate is measured, not predicted."
                : "σ_max > 1 at every seed: necessary for exploding with tanh, not sufficient (Pascanu et al. 2013).");
        }
        else
        {
            parts.Add("σ_max is below 1 at some seeds (sufficient for vanishing there, Pascanu et al. 2013) and above 1 at others, where no guarantee applies.");
        }

        if (row.SpectralRadius > 1 && row.MedianStartRate > row.HighestRate)
        {
            parts.Add(Invariant($"Started at rest (h = 0) instead, the first {StartSteps} steps grew by x{row.MedianStartRate:0.00} per step (median): a start-up effect, before the states settle."));
        }

        return string.Join(" ", parts);
    }

    private string DistanceSentence()
    {
        var longest = Attention[^1];
        var verdict = longest.Change < 0.1 ? "it vanished with distance"
            : longest.Change > 10 ? "it grew with distance"
            : "it did not vanish with distance (within x10)";
        return Invariant($"Attention, one layer with positions, n = {longest.N:N0}: x{longest.RatePerStep:0.0000} per step of distance over the other tokens, x{longest.Change:0.##} from distance 1 to {longest.N - 1:N0}: {verdict}. Every input is one step from the output; positions let the weights, not the path, depend on distance.");
    }

    private string DilutionSentence()
    {
        var (first, last) = (Attention[0], Attention[^1]);
        var head = Invariant($"Attention against length: from n = {first.N:N0} to {last.N:N0} the largest gradient to another token went from {first.LargestOtherNorm:0.####} to {last.LargestOtherNorm:0.####} (as n^{LargestGradientExponent:0.00}) and the largest weight from {first.LargestOtherWeight:0.###} to {last.LargestOtherWeight:0.###} (as n^{LargestWeightExponent:0.00}): ");
        string verdict;
        if (LargestGradientExponent <= DilutionExponentLimit && LargestWeightExponent <= DilutionExponentLimit)
        {
            verdict = "diluted by length: these untrained weights spread over the tokens, so even the most-attended input gets a shrinking share, whatever its distance. A trained head that focuses on one token would keep that token's gradient near ||W_V|| at any n.";
        }
        else if (LargestGradientExponent > DilutionExponentLimit)
        {
            verdict = Invariant($"not diluted (both must fall at least as n^{DilutionExponentLimit:0.0}): the weights concentrate on a few tokens, which keep their gradient as n grows.");
        }
        else
        {
            verdict = "the largest gradient fell but the largest weight did not: no verdict on dilution.";
        }

        return head + verdict + Invariant($" (The mean over the other tokens {(DilutionExponent < 0 ? "fell" : "rose")} as n^{DilutionExponent:0.00}, but a mean of weights that sum to 1 falls like 1/n for any weights, so it cannot tell spread from concentrated.)");
    }

    private string SizeSentence()
    {
        var rnn = Recurrent.MinBy(r => Math.Abs(Math.Log(r.SpectralRadius)))!;
        var attention = Attention.FirstOrDefault(r => r.N == rnn.Steps);
        var seed = rnn.Seeds[0];
        return attention is null
            ? Invariant($"Sizes: no attention length equals the RNN's {rnn.Steps} steps, so their sizes are not compared; they depend on the scales of the untrained weights anyway.")
            : Invariant($"Sizes (seed {seed.Seed}): at distance 1 the RNN with ρ = {rnn.SpectralRadius:0.##} has a gradient x{seed.AtDistanceOne / attention.AtDistanceOne:0.#} attention's ({seed.AtDistanceOne:0.####} against {attention.AtDistanceOne:0.####}, n = {attention.N}). Sizes follow the scales of the untrained weights (and the RNN has 16 outputs, attention 8), so what is compared is how each changes with distance and length, not which is larger.");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
