using System.Globalization;
using System.Text;

namespace NotebookAttention.Analysis;

/// <summary>
/// The four weight maps of the d_k demonstration, measured (a small and a large d_k, each without and with the
/// 1/sqrt(d_k) scale), and the sentence those numbers support. The sentence is computed from the numbers with the
/// thresholds of <see cref="WeightSpread"/>, so it cannot claim what the numbers do not show.
/// </summary>
public sealed class ScalingMeasurement
{
    /// <summary>The longest line of <see cref="Report"/>, in characters, so it fits a notebook page without scrolling.</summary>
    public const int ReportWidth = 110;

    /// <summary>Collects the four measured maps and concludes from them.</summary>
    /// <param name="smallDk">The small d_k, at least 1.</param>
    /// <param name="largeDk">The large d_k, above <paramref name="smallDk"/>.</param>
    /// <param name="smallUnscaled">The map at the small d_k without the scale.</param>
    /// <param name="smallScaled">The map at the small d_k with the scale.</param>
    /// <param name="largeUnscaled">The map at the large d_k without the scale.</param>
    /// <param name="largeScaled">The map at the large d_k with the scale.</param>
    /// <exception cref="ArgumentException">The maps do not all have the same number of keys.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The d_k values are not 1 &lt;= small &lt; large.</exception>
    public ScalingMeasurement(int smallDk, int largeDk, WeightSpread smallUnscaled, WeightSpread smallScaled, WeightSpread largeUnscaled, WeightSpread largeScaled)
    {
        Check.AtLeast(smallDk, 1, "the small d_k", nameof(smallDk));
        Check.AtLeast(largeDk, smallDk + 1, $"the large d_k (the small one is {smallDk})", nameof(largeDk));
        ArgumentNullException.ThrowIfNull(smallUnscaled);
        ArgumentNullException.ThrowIfNull(smallScaled);
        ArgumentNullException.ThrowIfNull(largeUnscaled);
        ArgumentNullException.ThrowIfNull(largeScaled);
        if (new[] { smallScaled, largeUnscaled, largeScaled }.Any(map => map.Keys != smallUnscaled.Keys))
        {
            throw new ArgumentException(
                $"the maps have {smallUnscaled.Keys}, {smallScaled.Keys}, {largeUnscaled.Keys} and {largeScaled.Keys} keys: measure all four on the same tokens.",
                nameof(largeScaled));
        }

        SmallDk = smallDk;
        LargeDk = largeDk;
        SmallUnscaled = smallUnscaled;
        SmallScaled = smallScaled;
        LargeUnscaled = largeUnscaled;
        LargeScaled = largeScaled;
        Conclusion = Conclude();
    }

    /// <summary>The small d_k.</summary>
    public int SmallDk { get; }

    /// <summary>The large d_k.</summary>
    public int LargeDk { get; }

    /// <summary>The map at the small d_k without the scale.</summary>
    public WeightSpread SmallUnscaled { get; }

    /// <summary>The map at the small d_k with the scale.</summary>
    public WeightSpread SmallScaled { get; }

    /// <summary>The map at the large d_k without the scale.</summary>
    public WeightSpread LargeUnscaled { get; }

    /// <summary>The map at the large d_k with the scale.</summary>
    public WeightSpread LargeScaled { get; }

    /// <summary>Tokens (keys per row) of every map.</summary>
    public int Tokens => SmallUnscaled.Keys;

    /// <summary>Without the scale, the large-d_k map is more peaked than the small-d_k one (<see cref="WeightSpread.IsMorePeakedThan"/>).</summary>
    public bool UnscaledGetsMorePeaked => LargeUnscaled.IsMorePeakedThan(SmallUnscaled);

    /// <summary>With the scale, the large-d_k map is neither more peaked than the small-d_k one nor near one-hot.</summary>
    public bool ScaledStaysSpread => !LargeScaled.IsMorePeakedThan(SmallScaled) && !LargeScaled.IsNearOneHot;

    /// <summary>What the numbers show, in words; every comparison in it follows the thresholds of <see cref="WeightSpread"/>.</summary>
    public string Conclusion { get; }

    /// <summary>
    /// The numbers of the four maps as a small text table, the thresholds, and <see cref="Conclusion"/>, each line at
    /// most <see cref="ReportWidth"/> characters (long sentences are wrapped between words).
    /// </summary>
    /// <returns>Several lines of text.</returns>
    public string Report()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"map",-24}{"mean max weight",16}{"mean entropy (nats)",22}");
        foreach (var (name, map) in new[]
        {
            ($"d_k = {SmallDk}, no scale", SmallUnscaled),
            ($"d_k = {SmallDk}, scaled", SmallScaled),
            ($"d_k = {LargeDk}, no scale", LargeUnscaled),
            ($"d_k = {LargeDk}, scaled", LargeScaled),
        })
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{name,-24}{map.MeanMaxWeight,16:0.000}{map.MeanEntropy,22:0.000}");
        }

        text.AppendLine(Wrap(string.Create(CultureInfo.InvariantCulture, $"{Tokens} {(Tokens == 1 ? "token" : "tokens")}: uniform rows give max weight {1.0 / Tokens:G3} and entropy ln {Tokens} = {Math.Log(Tokens):0.000}; one-hot rows give 1 and 0.")));
        text.AppendLine(Wrap(string.Create(CultureInfo.InvariantCulture, $"Thresholds: a map is more peaked than another when its mean max weight is at least {WeightSpread.MaxWeightMargin} higher and its mean entropy at least {WeightSpread.EntropyMargin} nats lower; near one-hot when its mean max weight is at least {WeightSpread.NearOneHotWeight}.")));
        return text.Append(Wrap(Conclusion)).ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Conclusion;

    private string Conclude()
    {
        if (Tokens == 1)
        {
            return "With one token every weight is 1 at any d_k, scaled or not: there is nothing to spread. Type a sentence of two or more tokens to see what d_k does.";
        }

        var small = $"the d_k = {SmallDk} map";
        var large = $"the d_k = {LargeDk} map";
        var unscaled = UnscaledGetsMorePeaked
            ? $"Without the scale, {large} is more peaked than {small}{OneHot(LargeUnscaled)} ({Numbers(LargeUnscaled, SmallUnscaled)})."
            : SmallUnscaled.IsMorePeakedThan(LargeUnscaled)
                ? $"Without the scale, {large} is not more peaked than {small}; it is less peaked ({Numbers(LargeUnscaled, SmallUnscaled)})."
                : $"Without the scale, {large} is not clearly more peaked than {small} ({Numbers(LargeUnscaled, SmallUnscaled)}).";
        var scaled = LargeScaled.IsMorePeakedThan(SmallScaled)
            ? $"With 1/√d_k, {large} is still more peaked than {small}{OneHot(LargeScaled)} ({Numbers(LargeScaled, SmallScaled)})."
            : LargeScaled.IsNearOneHot
                ? $"With 1/√d_k, {large} is near one-hot, though not more peaked than {small} ({Numbers(LargeScaled, SmallScaled)})."
                : SmallScaled.IsMorePeakedThan(LargeScaled)
                    ? $"With 1/√d_k, {large} is more spread than {small} ({Numbers(LargeScaled, SmallScaled)})."
                    : WithinMargins(LargeScaled, SmallScaled)
                        ? $"With 1/√d_k, {large} stays about as spread as {small} ({Numbers(LargeScaled, SmallScaled)})."
                        : $"With 1/√d_k, {large} is not clearly more peaked than {small} ({Numbers(LargeScaled, SmallScaled)}).";
        var verdict = UnscaledGetsMorePeaked && ScaledStaysSpread
            ? "So the scale removes the growth of the weights' peakedness with d_k, as the variance measurement above predicts."
            : "So this run does not show what the variance measurement above predicts (one seeded draw, all the more over few tokens, can stray from the average).";
        return $"{unscaled} {scaled} {verdict}";
    }

    /// <summary>Breaks a sentence into lines of at most <see cref="ReportWidth"/> characters, between words.</summary>
    /// <param name="sentence">One line of text.</param>
    /// <returns>The same words, lines joined with <see cref="Environment.NewLine"/>.</returns>
    internal static string Wrap(string sentence)
    {
        var lines = new List<StringBuilder> { new() };
        foreach (var word in sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (lines[^1].Length > 0 && lines[^1].Length + 1 + word.Length > ReportWidth)
            {
                lines.Add(new StringBuilder());
            }

            lines[^1].Append(lines[^1].Length > 0 ? " " : string.Empty).Append(word);
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static bool WithinMargins(WeightSpread one, WeightSpread other) =>
        Math.Abs(one.MeanMaxWeight - other.MeanMaxWeight) < WeightSpread.MaxWeightMargin && Math.Abs(one.MeanEntropy - other.MeanEntropy) < WeightSpread.EntropyMargin;

    private static string OneHot(WeightSpread map) => map.IsNearOneHot ? ", near one-hot" : string.Empty;

    private static string Numbers(WeightSpread large, WeightSpread small) => string.Create(
        CultureInfo.InvariantCulture,
        $"mean max weight {large.MeanMaxWeight:0.000} against {small.MeanMaxWeight:0.000}, mean entropy {large.MeanEntropy:0.000} against {small.MeanEntropy:0.000} nats");
}
