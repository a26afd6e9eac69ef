using System.Globalization;
using System.Text;

namespace NotebookAttention.Pretrained;

/// <summary>One layer of a <see cref="ReferentProbe"/>: the head chosen once, and its weights in both sentences.</summary>
/// <param name="Layer">Layer, 0 = first.</param>
/// <param name="Head">The head chosen by the probe's rule (the same head is read in both sentences).</param>
/// <param name="FirstToA">Its weight from the pronoun to candidate A in the first sentence.</param>
/// <param name="FirstToB">Its weight from the pronoun to candidate B in the first sentence.</param>
/// <param name="SecondToA">Its weight from the pronoun to candidate A in the second sentence.</param>
/// <param name="SecondToB">Its weight from the pronoun to candidate B in the second sentence.</param>
public sealed record ReferentProbeRow(int Layer, int Head, double FirstToA, double FirstToB, double SecondToA, double SecondToB)
{
    /// <summary>How much more weight the head sends to A in the first sentence than in the second.</summary>
    public double DropToA => FirstToA - SecondToA;
}

/// <summary>
/// Where a pronoun looks in two sentences that differ in what it refers to ("... it was too tired" / "... too
/// wide"), read from ONE head per layer in both sentences: the head is chosen once, in the first sentence (the
/// head that sends the pronoun the most weight to candidate A there), so the two sentences are compared on the same
/// head, never on the strongest head of each sentence separately.
/// </summary>
public sealed class ReferentProbe
{
    /// <summary>A weight at least this large on the same candidate in both sentences counts as "looks there in both".</summary>
    public const double BothThreshold = 0.5;

    private ReferentProbe(string pronoun, string candidateA, string candidateB, string firstLabel, string secondLabel, IReadOnlyList<ReferentProbeRow> rows)
    {
        Pronoun = pronoun;
        CandidateA = candidateA;
        CandidateB = candidateB;
        FirstLabel = firstLabel;
        SecondLabel = secondLabel;
        Rows = rows;
    }

    /// <summary>The pronoun (a word piece).</summary>
    public string Pronoun { get; }

    /// <summary>Candidate A: what the pronoun means in the first sentence.</summary>
    public string CandidateA { get; }

    /// <summary>Candidate B: what the pronoun means in the second sentence.</summary>
    public string CandidateB { get; }

    /// <summary>A short name for the first sentence, e.g. "tired".</summary>
    public string FirstLabel { get; }

    /// <summary>A short name for the second sentence, e.g. "wide".</summary>
    public string SecondLabel { get; }

    /// <summary>One row per layer.</summary>
    public IReadOnlyList<ReferentProbeRow> Rows { get; }

    /// <summary>How the head of each layer was chosen.</summary>
    public string Rule => $"in each layer, the head that sends \"{Pronoun}\" the most weight to \"{CandidateA}\" in the {FirstLabel} sentence, read in both sentences";

    /// <summary>Runs the probe.</summary>
    /// <param name="first">The sentence where the pronoun means <paramref name="candidateA"/>.</param>
    /// <param name="second">The sentence where it means <paramref name="candidateB"/>, with the same layers and heads.</param>
    /// <param name="pronoun">The pronoun's word piece (its first occurrence is used).</param>
    /// <param name="candidateA">The first candidate's word piece.</param>
    /// <param name="candidateB">The second candidate's word piece.</param>
    /// <param name="firstLabel">A short name for the first sentence.</param>
    /// <param name="secondLabel">A short name for the second sentence.</param>
    /// <returns>The probe.</returns>
    /// <exception cref="ArgumentException">A piece is missing from a sentence (the message lists the pieces), or the two results have different layers or heads.</exception>
    public static ReferentProbe Run(EncoderResult first, EncoderResult second, string pronoun, string candidateA, string candidateB, string firstLabel, string secondLabel)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(firstLabel);
        ArgumentNullException.ThrowIfNull(secondLabel);
        if (first.Layers != second.Layers || first.Heads != second.Heads)
        {
            throw new ArgumentException(
                $"the sentences come from models of {first.Layers} x {first.Heads} and {second.Layers} x {second.Heads} heads: encode both with the same model.", nameof(second));
        }

        var (q1, a1, b1) = (first.Position(pronoun), first.Position(candidateA), first.Position(candidateB));
        var (q2, a2, b2) = (second.Position(pronoun), second.Position(candidateA), second.Position(candidateB));
        var rows = new List<ReferentProbeRow>();
        for (var layer = 0; layer < first.Layers; layer++)
        {
            var head = Enumerable.Range(0, first.Heads).MaxBy(h => first.Head(layer, h).Weights[q1, a1]);
            var w1 = first.Head(layer, head).Weights;
            var w2 = second.Head(layer, head).Weights;
            rows.Add(new ReferentProbeRow(layer, head, w1[q1, a1], w1[q1, b1], w2[q2, a2], w2[q2, b2]));
        }

        return new ReferentProbe(pronoun, candidateA, candidateB, firstLabel, secondLabel, rows);
    }

    /// <summary>The four curves for a line chart, one value per layer.</summary>
    /// <returns>(name, values) pairs: pronoun to A and to B in each sentence.</returns>
    public IReadOnlyList<(string Name, IReadOnlyList<double> Y)> Curves() =>
    [
        ($"{FirstLabel}: {Pronoun} → {CandidateA}", [.. Rows.Select(r => r.FirstToA)]),
        ($"{FirstLabel}: {Pronoun} → {CandidateB}", [.. Rows.Select(r => r.FirstToB)]),
        ($"{SecondLabel}: {Pronoun} → {CandidateA}", [.. Rows.Select(r => r.SecondToA)]),
        ($"{SecondLabel}: {Pronoun} → {CandidateB}", [.. Rows.Select(r => r.SecondToB)]),
    ];

    /// <summary>
    /// What the numbers show, each sentence computed from <see cref="Rows"/>: the layer whose head drops the most
    /// between the sentences, whether any head sends more to B than to A in the second sentence, and which heads
    /// send at least <see cref="BothThreshold"/> to A in both.
    /// </summary>
    /// <returns>One sentence per finding.</returns>
    public IReadOnlyList<string> Findings()
    {
        var findings = new List<string>();
        var largest = Rows.MaxBy(r => r.DropToA)!;
        findings.Add(largest.DropToA > 0
            ? F($"Largest difference: layer {largest.Layer}, head {largest.Head} sends \"{Pronoun}\" {largest.FirstToA:0.00} to \"{CandidateA}\" in the {FirstLabel} sentence and {largest.SecondToA:0.00} in the {SecondLabel} one.")
            : F($"No chosen head sends \"{Pronoun}\" less weight to \"{CandidateA}\" in the {SecondLabel} sentence than in the {FirstLabel} one."));
        var switched = Rows.Where(r => r.SecondToB > r.SecondToA).ToList();
        findings.Add(switched.Count == 0
            ? F($"In no layer does the chosen head send more to \"{CandidateB}\" than to \"{CandidateA}\" in the {SecondLabel} sentence: none switches over.")
            : F($"In the {SecondLabel} sentence the chosen head sends more to \"{CandidateB}\" than to \"{CandidateA}\" in layer(s) {string.Join(", ", switched.Select(r => r.Layer))}."));
        foreach (var both in Rows.Where(r => r.FirstToA >= BothThreshold && r.SecondToA >= BothThreshold))
        {
            findings.Add(F($"Layer {both.Layer}, head {both.Head} sends {both.FirstToA:0.00} / {both.SecondToA:0.00} to \"{CandidateA}\" in both sentences: it looks at \"{CandidateA}\" whichever noun \"{Pronoun}\" means."));
        }

        return findings;
    }

    /// <summary>The rule, a table of every layer's chosen head and weights, and the findings, as text.</summary>
    /// <returns>The report.</returns>
    public string Report()
    {
        var text = new StringBuilder();
        text.AppendLine(F($"Same head in both sentences: {Rule}."));
        string[] names = [$"{FirstLabel}→{CandidateA}", $"{FirstLabel}→{CandidateB}", $"{SecondLabel}→{CandidateA}", $"{SecondLabel}→{CandidateB}"];
        var width = Math.Max(6, names.Max(n => n.Length));
        text.AppendLine(CultureInfo.InvariantCulture, $"layer  head  {string.Join("  ", names.Select(n => n.PadLeft(width)))}");
        foreach (var r in Rows)
        {
            double[] values = [r.FirstToA, r.FirstToB, r.SecondToA, r.SecondToB];
            text.AppendLine(F($"{r.Layer,5}  {r.Head,4}  {string.Join("  ", values.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture).PadLeft(width)))}"));
        }

        foreach (var finding in Findings())
        {
            text.AppendLine(finding);
        }

        return text.ToString().TrimEnd();
    }

    /// <inheritdoc />
    public override string ToString() => Report();

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
