using System.Globalization;
using MathNet.Numerics;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using NotebookAttention.Attention;
using NotebookAttention.Tokens;

namespace NotebookAttention.Recurrence;

/// <summary>
/// One recurrent network of <see cref="GradientComparison"/>: how ||d h_T / d x_t|| changed with the distance T - t.
/// </summary>
/// <param name="SpectralRadius">The largest |eigenvalue| of the recurrent matrix W.</param>
/// <param name="LargestSingularValue">The largest singular value of W (its spectral norm, at least the radius).</param>
/// <param name="LargestState">The largest |h| any state reached: near 1, tanh is saturated and its slope 1 - h² small.</param>
/// <param name="RatePerStep">The factor per step of distance, from a least-squares line through ln(norm) against distance.</param>
/// <param name="Steps">The longest distance T - 0 measured.</param>
/// <param name="AtDistanceOne">||d h_T / d x_(T-1)||.</param>
public sealed record RecurrentGradientRow(double SpectralRadius, double LargestSingularValue, double LargestState, double RatePerStep, int Steps, double AtDistanceOne)
{
    /// <summary>The fitted change of the norm over the whole chain: <see cref="RatePerStep"/> to the power <see cref="Steps"/>.</summary>
    public double Change => Math.Pow(RatePerStep, Steps);
}

/// <summary>
/// One length of <see cref="GradientComparison"/>: how ||d y_T / d x_t|| of one attention layer (with positions)
/// changed with the distance T - t over the other tokens (t &lt; T), and its size.
/// </summary>
/// <param name="N">Sequence length.</param>
/// <param name="RatePerStep">The factor per step of distance over t &lt; T (distances 1 .. n - 1), from a least-squares line through ln(norm).</param>
/// <param name="MeanOtherNorm">The mean norm over the other tokens t &lt; T.</param>
/// <param name="SelfNorm">||d y_T / d x_T||: the token's own input, which also moves the query.</param>
/// <param name="AtDistanceOne">||d y_T / d x_(T-1)||.</param>
public sealed record AttentionGradientRow(int N, double RatePerStep, double MeanOtherNorm, double SelfNorm, double AtDistanceOne)
{
    /// <summary>The fitted change over the other tokens, from distance 1 to n - 1: <see cref="RatePerStep"/>^(n - 2).</summary>
    public double Change => Math.Pow(RatePerStep, N - 2);
}

/// <summary>
/// Notebook 07's gradient comparison: an Elman RNN and one self-attention layer (untrained weights) read the same
/// inputs, and the quantity compared is the same for both, the Frobenius norm of the Jacobian of the last output
/// with respect to input t (d h_T / d x_t for the RNN, d y_T / d x_t for attention), against the distance T - t.
/// Every sentence of <see cref="Conclusions"/> is derived from the rows, so a test can rebuild them from printed numbers.
/// </summary>
/// <remarks>
/// A change of more than <see cref="Decisive"/> times over the chain counts as vanishing or exploding; less, as holding.
/// Attention is given sinusoidal positions (added to its inputs), so it could depend on distance: without positions one
/// layer cannot, since permuting the earlier tokens permutes their gradients. What changes with length is dilution:
/// every input gets a share a_t ≈ 1/n of the output, so the mean gradient falls like n^slope with slope near -1.
/// Pascanu et al. (2013): in a linear RNN a spectral radius below 1 is sufficient for vanishing and one above 1
/// necessary (not sufficient) for exploding; with tanh (slope at most 1) the same holds for the largest singular value.
/// </remarks>
public sealed class GradientComparison
{
    /// <summary>The change over the whole chain that counts as vanishing (below 1 / Decisive) or exploding (above Decisive).</summary>
    public const double Decisive = 10;

    /// <summary>The band of fitted exponents (around -1) that counts as dilution like 1/n.</summary>
    public const double DilutionTolerance = 0.2;

    /// <summary>Checks and keeps the rows and derives the conclusions.</summary>
    /// <param name="recurrent">One row per spectral radius, radius increasing.</param>
    /// <param name="attention">One row per length, n increasing (at least two lengths, each at least 3).</param>
    /// <param name="inputScale">The standard deviation of the shared inputs' entries.</param>
    /// <exception cref="ArgumentException">A list is empty or out of order, or a number is not finite and above 0.</exception>
    public GradientComparison(IReadOnlyList<RecurrentGradientRow> recurrent, IReadOnlyList<AttentionGradientRow> attention, double inputScale)
    {
        ArgumentNullException.ThrowIfNull(recurrent);
        ArgumentNullException.ThrowIfNull(attention);
        if (recurrent.Count == 0 || recurrent.Any(r => r is null) || recurrent.Zip(recurrent.Skip(1)).Any(p => p.Second.SpectralRadius <= p.First.SpectralRadius))
        {
            throw new ArgumentException("give at least one recurrent row, radii increasing from row to row.", nameof(recurrent));
        }

        if (attention.Count < 2 || attention.Any(r => r is null || r.N < 3) || attention.Zip(attention.Skip(1)).Any(p => p.Second.N <= p.First.N))
        {
            throw new ArgumentException("give at least two attention rows of at least 3 tokens each, n increasing: dilution is a change with length.", nameof(attention));
        }

        double[] numbers = [.. recurrent.SelectMany(r => new[] { r.SpectralRadius, r.LargestSingularValue, r.RatePerStep, r.AtDistanceOne }),
            .. attention.SelectMany(r => new[] { r.RatePerStep, r.MeanOtherNorm, r.SelfNorm, r.AtDistanceOne }), inputScale];
        if (numbers.Any(v => !(v > 0 && double.IsFinite(v))) || recurrent.Any(r => r.Steps < 1 || !(r.LargestState is >= 0 and <= 1)))
        {
            throw new ArgumentException("every radius, rate, norm and the input scale must be a finite number above 0, every state within [0, 1] and every chain at least 1 step: check the measurement.", nameof(recurrent));
        }

        Recurrent = [.. recurrent];
        Attention = [.. attention];
        InputScale = inputScale;
        (_, var slope) = Fit.Line([.. Attention.Select(r => Math.Log(r.N))], [.. Attention.Select(r => Math.Log(r.MeanOtherNorm))]);
        DilutionExponent = slope;
        Conclusions = [.. Recurrent.Select(RecurrentSentence), DistanceSentence(), DilutionSentence(), SizeSentence()];
    }

    /// <summary>The RNN rows, spectral radius increasing.</summary>
    public IReadOnlyList<RecurrentGradientRow> Recurrent { get; }

    /// <summary>The attention rows, n increasing.</summary>
    public IReadOnlyList<AttentionGradientRow> Attention { get; }

    /// <summary>The standard deviation of the inputs' entries, the same for both models.</summary>
    public double InputScale { get; }

    /// <summary>The slope of ln(mean norm over the other tokens) against ln n: -1 is dilution like 1/n.</summary>
    public double DilutionExponent { get; }

    /// <summary>What the numbers show, one sentence each: one per RNN, attention against distance, against length, and sizes.</summary>
    public IReadOnlyList<string> Conclusions { get; }

    /// <summary>The gradient norms against distance that the rows summarize (empty for a comparison rebuilt from rows).</summary>
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
    /// Measures both models on the same inputs (<see cref="Inputs"/>, width 8): an Elman RNN (16 hidden units, untrained)
    /// per spectral radius over <paramref name="steps"/> steps, and one attention layer (d_k = d_v = 8, untrained,
    /// sinusoidal positions added) at each of <paramref name="lengths"/>.
    /// </summary>
    /// <param name="steps">Length of the sequence both models read for the curves, at least 3.</param>
    /// <param name="radii">Spectral radii of the RNN's W, increasing.</param>
    /// <param name="lengths">Lengths for attention, increasing (include <paramref name="steps"/> to compare sizes).</param>
    /// <param name="inputScale">Standard deviation of the inputs' entries.</param>
    /// <param name="seed">Seed of inputs and weights.</param>
    /// <returns>The comparison, with the curves at <paramref name="steps"/>.</returns>
    public static GradientComparison Measure(int steps, IReadOnlyList<double> radii, IReadOnlyList<int> lengths, double inputScale, int seed = 7)
    {
        ArgumentNullException.ThrowIfNull(radii);
        ArgumentNullException.ThrowIfNull(lengths);
        Check.AtLeast(steps, 3, "steps", nameof(steps));
        const int width = 8;
        var x = Inputs(steps, width, inputScale, seed);
        var curves = new List<(string, IReadOnlyList<double>)>();
        var recurrent = new List<RecurrentGradientRow>();
        foreach (var radius in radii)
        {
            var rnn = ElmanRnn.WithSpectralRadius(16, width, radius, seed);
            var norms = rnn.GradientNorms(x);
            var states = rnn.Forward(x);
            var largestState = states.Enumerate().Max(Math.Abs);
            recurrent.Add(new RecurrentGradientRow(radius, rnn.Recurrent.L2Norm(), largestState, GradientFlow.RatePerStep(norms), steps - 1, norms[^2]));
            curves.Add((Invariant($"RNN, spectral radius {radius}"), Reversed(norms)));
        }

        var projections = QkvProjections.Create(width, width, width, seed);
        var attention = new List<AttentionGradientRow>();
        foreach (var n in lengths)
        {
            Check.AtLeast(n, 3, "attention length n", nameof(lengths));
            var norms = AttentionGradients.GradientNorms(projections, PositionalEncoding.AddTo(Inputs(n, width, inputScale, seed)));
            var others = norms[..^1];
            attention.Add(new AttentionGradientRow(n, GradientFlow.RatePerStep(others), others.Average(), norms[^1], norms[^2]));
            if (n == steps)
            {
                curves.Add(("attention, with positions", Reversed(norms)));
            }
        }

        return new GradientComparison(recurrent, attention, inputScale) { Curves = curves };
    }

    private static double[] Reversed(double[] norms) => [.. norms.Reverse()];   // index = distance T - t

    private string RecurrentSentence(RecurrentGradientRow row)
    {
        var head = Invariant($"RNN, spectral radius {row.SpectralRadius:0.##} (largest singular value {row.LargestSingularValue:0.00}): x{row.RatePerStep:0.000} per step of distance, x{row.Change:0.##E+0} over {row.Steps} steps, ");
        var saturation = Invariant($"the states reached |h| = {row.LargestState:0.00}");
        if (row.Change < 1 / Decisive)
        {
            var why = row.SpectralRadius < 1
                ? "a radius below 1 is enough for that in a linear RNN (Pascanu et al. 2013), and tanh's slope, at most 1, only speeds it up."
                : Invariant($"{saturation}, where tanh's slope 1 - h² shrinks every step.")
                    + (row.SpectralRadius > 1 ? " A radius above 1 is necessary for exploding, not sufficient (Pascanu et al. 2013)." : string.Empty);
            return head + "so the gradient vanished: " + why;
        }

        if (row.Change > Decisive)
        {
            var below = row.RatePerStep < row.SpectralRadius
                ? Invariant($" Its rate is below the radius: {saturation}, and tanh's slope 1 - h² < 1 takes a share of every step.")
                : string.Empty;
            return head + "so the gradient exploded." + below;
        }

        var held = row.SpectralRadius > 1
            ? Invariant($" The radius is above 1, yet {saturation}: a radius above 1 is necessary for exploding, not sufficient (Pascanu et al. 2013).")
            : string.Empty;
        return head + Invariant($"so the gradient held (within x{Decisive:0} over the chain).") + held;
    }

    private string DistanceSentence()
    {
        var longest = Attention[^1];
        var verdict = longest.Change < 1 / Decisive ? "it vanished with distance"
            : longest.Change > Decisive ? "it grew with distance"
            : Invariant($"it did not vanish with distance (within x{Decisive:0})");
        return Invariant($"Attention, one layer with positions, n = {longest.N:N0}: x{longest.RatePerStep:0.0000} per step of distance over the other tokens, x{longest.Change:0.##} from distance 1 to {longest.N - 1:N0}: {verdict}. Every input is one step from the output; positions let the weights, not the path, depend on distance.");
    }

    private string DilutionSentence()
    {
        var (first, last) = (Attention[0], Attention[^1]);
        var verdict = Math.Abs(DilutionExponent + 1) <= DilutionTolerance
            ? "close to 1/n: each input gets a share of about 1/n of the attention, so the gradient to any one input is diluted by length, whatever its distance."
            : Invariant($"not 1/n (more than {DilutionTolerance} from -1): these weights do not spread evenly over the tokens.");
        return Invariant($"Attention against length: the mean gradient to another token went from {first.MeanOtherNorm:0.####} at n = {first.N:N0} to {last.MeanOtherNorm:0.######} at n = {last.N:N0}, as n^{DilutionExponent:0.00}: {verdict}");
    }

    private string SizeSentence()
    {
        var rnn = Recurrent.MinBy(r => Math.Abs(Math.Log(r.SpectralRadius)))!;
        var steps = rnn.Steps + 1;
        var attention = Attention.FirstOrDefault(r => r.N == steps);
        return attention is null
            ? Invariant($"Sizes: no attention length equals the RNN's {steps} steps, so their sizes are not compared; they depend on the scales of the untrained weights anyway.")
            : Invariant($"Sizes: at distance 1 the RNN with radius {rnn.SpectralRadius:0.##} has a gradient x{rnn.AtDistanceOne / attention.AtDistanceOne:0.#} attention's ({rnn.AtDistanceOne:0.####} against {attention.AtDistanceOne:0.####}, n = {steps}). Sizes follow the scales of the untrained weights (and the RNN has 16 outputs, attention 8), so what is compared is how each changes with distance and length, not which is larger.");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
