using System.Globalization;
using System.Text;

namespace NotebookAttention.Pretrained;

/// <summary>One head of a <see cref="ReferentProbe"/>: its weights from the pronoun to both candidates in both sentences.</summary>
/// <param name="Layer">Layer, 0 = first.</param>
/// <param name="Head">Head within the layer (the same head is read in both sentences).</param>
/// <param name="FirstToA">Its weight from the pronoun to candidate A in the first sentence.</param>
/// <param name="FirstToB">Its weight from the pronoun to candidate B in the first sentence.</param>
/// <param name="SecondToA">Its weight from the pronoun to candidate A in the second sentence.</param>
/// <param name="SecondToB">Its weight from the pronoun to candidate B in the second sentence.</param>
public sealed record ReferentProbeRow(int Layer, int Head, double FirstToA, double FirstToB, double SecondToA, double SecondToB)
{
    /// <summary>How much more weight the head sends to A in the first sentence than in the second.</summary>
    public double DropToA => FirstToA - SecondToA;

    /// <summary>How much more weight the head sends to B in the second sentence than in the first.</summary>
    public double RiseToB => SecondToB - FirstToB;

    /// <summary>Whether the head's preference flips with the meaning: more to A than to B in the first sentence, more to B than to A in the second.</summary>
    public bool Flips => FirstToA > FirstToB && SecondToB > SecondToA;

    /// <summary>
    /// The rule fixed in advance: the preference flips (<see cref="Flips"/>) and the weight on the preferred candidate
    /// is at least <see cref="ReferentProbe.MinimumWeight"/> in each sentence, so that a flip between two weights
    /// near 0 does not count.
    /// </summary>
    public bool FollowsReferent => Flips && FirstToA >= ReferentProbe.MinimumWeight && SecondToB >= ReferentProbe.MinimumWeight;
}

/// <summary>
/// Where a pronoun looks in two sentences that differ in what it refers to ("... it was too tired" / "... too
/// wide"). It reads every head in both sentences and applies one rule fixed before looking: a head follows the
/// referent when it sends the pronoun more weight to candidate A than to B in the first sentence, more to B than to
/// A in the second, and the preferred weight is at least <see cref="MinimumWeight"/> in each. It also reads one head
/// per layer chosen two ways: in the first sentence by its weight to A, and (the mirror rule) in the second by its
/// weight to B, each read in both sentences, so no comparison mixes heads.
/// </summary>
public sealed class ReferentProbe
{
    /// <summary>A weight at least this large on the same candidate in both sentences counts as "looks there in both".</summary>
    public const double BothThreshold = 0.5;

    /// <summary>The least weight on the preferred candidate, in each sentence, for a flip to count (<see cref="ReferentProbeRow.FollowsReferent"/>).</summary>
    public const double MinimumWeight = 0.05;

    private ReferentProbe(string pronoun, string candidateA, string candidateB, string firstLabel, string secondLabel, IReadOnlyList<ReferentProbeRow> heads, int headsPerLayer)
    {
        Pronoun = pronoun;
        CandidateA = candidateA;
        CandidateB = candidateB;
        FirstLabel = firstLabel;
        SecondLabel = secondLabel;
        AllHeads = heads;
        Rows = [.. heads.GroupBy(r => r.Layer).Select(layer => layer.MaxBy(r => r.FirstToA)!)];
        MirrorRows = [.. heads.GroupBy(r => r.Layer).Select(layer => layer.MaxBy(r => r.SecondToB)!)];
        HeadsPerLayer = headsPerLayer;
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

    /// <summary>Every head of every layer, layer by layer.</summary>
    public IReadOnlyList<ReferentProbeRow> AllHeads { get; }

    /// <summary>Heads per layer.</summary>
    public int HeadsPerLayer { get; }

    /// <summary>One row per layer: the head that sends the pronoun the most weight to A in the first sentence.</summary>
    public IReadOnlyList<ReferentProbeRow> Rows { get; }

    /// <summary>One row per layer, the mirror rule: the head that sends the pronoun the most weight to B in the second sentence.</summary>
    public IReadOnlyList<ReferentProbeRow> MirrorRows { get; }

    /// <summary>The heads that follow the referent by the rule fixed in advance (<see cref="ReferentProbeRow.FollowsReferent"/>).</summary>
    public IReadOnlyList<ReferentProbeRow> Followers => [.. AllHeads.Where(r => r.FollowsReferent)];

    /// <summary>How the head of each layer of <see cref="Rows"/> was chosen.</summary>
    public string Rule => $"in each layer, the head that sends \"{Pronoun}\" the most weight to \"{CandidateA}\" in the {FirstLabel} sentence, read in both sentences";

    /// <summary>How the head of each layer of <see cref="MirrorRows"/> was chosen.</summary>
    public string MirrorRule => $"in each layer, the head that sends \"{Pronoun}\" the most weight to \"{CandidateB}\" in the {SecondLabel} sentence, read in both sentences";

    /// <summary>The rule applied to every head, in words.</summary>
    public string FollowRule => F($"a head follows the referent when \"{Pronoun}\" sends more weight to \"{CandidateA}\" than to \"{CandidateB}\" in the {FirstLabel} sentence, more to \"{CandidateB}\" than to \"{CandidateA}\" in the {SecondLabel} sentence, and the larger weight is at least {MinimumWeight:0.00} in each");

    /// <summary>Runs the probe.</summary>
    /// <param name="first">The sentence where the pronoun means <paramref name="candidateA"/>.</param>
    /// <param name="second">The sentence where it means <paramref name="candidateB"/>, with the same layers and heads.</param>
    /// <param name="pronoun">The pronoun's word piece (its first occurrence is used).</param>
    /// <param name="candidateA">The first candidate's word piece.</param>
    /// <param name="candidateB">The second candidate's word piece.</param>
    /// <param name="firstLabel">A short name for the first sentence.</param>
    /// <param name="secondLabel">A short name for the second sentence.</param>
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
        var heads = new List<ReferentProbeRow>();
        for (var layer = 0; layer < first.Layers; layer++)
        {
            for (var head = 0; head < first.Heads; head++)
            {
                var w1 = first.Head(layer, head).Weights;
                var w2 = second.Head(layer, head).Weights;
                heads.Add(new ReferentProbeRow(layer, head, w1[q1, a1], w1[q1, b1], w2[q2, a2], w2[q2, b2]));
            }
        }

        return new ReferentProbe(pronoun, candidateA, candidateB, firstLabel, secondLabel, heads, first.Heads);
    }

    /// <summary>
    /// Where the pronoun looks on average over the heads, layer by layer, in one sentence: the piece with the largest
    /// mean weight in each layer, and the largest mean weight it sends to each candidate.
    /// </summary>
    /// <param name="result">The encoded sentence.</param>
    /// <param name="pronoun">The pronoun's word piece.</param>
    /// <param name="candidateA">The first candidate's word piece.</param>
    /// <param name="candidateB">The second candidate's word piece.</param>
    /// <param name="label">A short name for the sentence.</param>
    /// <returns>One sentence, computed from the mean weights.</returns>
    /// <exception cref="ArgumentException">A piece is missing from the sentence.</exception>
    public static string MeanSummary(EncoderResult result, string pronoun, string candidateA, string candidateB, string label)
    {
        ArgumentNullException.ThrowIfNull(result);
        var means = result.AttentionFrom(result.Position(pronoun));
        var (a, b) = (result.Position(candidateA), result.Position(candidateB));
        var top = Enumerable.Range(0, means.RowCount).Select(layer =>
        {
            var key = Enumerable.Range(0, means.ColumnCount).MaxBy(k => means[layer, k]);
            return F($"{layer} {result.Tokens[key]} {means[layer, key]:0.00}");
        });
        var maxA = Enumerable.Range(0, means.RowCount).Max(layer => means[layer, a]);
        var maxB = Enumerable.Range(0, means.RowCount).Max(layer => means[layer, b]);
        return F($"{label}: mean over the {result.Heads} heads, the piece \"{pronoun}\" sends the most weight to, by layer: {string.Join(", ", top)}; its mean weight to \"{candidateA}\" is at most {maxA:0.000} and to \"{candidateB}\" at most {maxB:0.000} in any layer.");
    }

    /// <summary>The four curves for a line chart, one value per layer, read from <see cref="Rows"/>.</summary>
    /// <returns>(name, values) pairs: pronoun to A and to B in each sentence.</returns>
    public IReadOnlyList<(string Name, IReadOnlyList<double> Y)> Curves() =>
    [
        ($"{FirstLabel}: {Pronoun} → {CandidateA}", [.. Rows.Select(r => r.FirstToA)]),
        ($"{FirstLabel}: {Pronoun} → {CandidateB}", [.. Rows.Select(r => r.FirstToB)]),
        ($"{SecondLabel}: {Pronoun} → {CandidateA}", [.. Rows.Select(r => r.SecondToA)]),
        ($"{SecondLabel}: {Pronoun} → {CandidateB}", [.. Rows.Select(r => r.SecondToB)]),
    ];

    /// <summary>
    /// The scan of every head: how many flip, which of them follow the referent by the rule, as sentences computed
    /// from <see cref="AllHeads"/>.
    /// </summary>
    /// <returns>One sentence per finding.</returns>
    public IReadOnlyList<string> ScanFindings()
    {
        var flips = AllHeads.Where(r => r.Flips).ToList();
        var followers = Followers;
        return
        [
            F($"{flips.Count} of {AllHeads.Count} heads flip their preference between the sentences; by the rule, {followers.Count} of them {(followers.Count == 1 ? "follows" : "follow")} the referent."),
            followers.Count == 0
                ? F($"No head follows the referent by this rule: in this pair no head sends \"{Pronoun}\" clearly more to the noun it means in both sentences.")
                : F($"Following the referent: {string.Join("; ", followers.Select(r => $"layer {r.Layer}, head {r.Head}"))}."),
        ];
    }

    /// <summary>What one per-layer table shows, each sentence computed from its rows.</summary>
    /// <param name="mirror">False for <see cref="Rows"/> (chosen by the weight to A in the first sentence), true for <see cref="MirrorRows"/>.</param>
    /// <returns>One sentence per finding.</returns>
    public IReadOnlyList<string> Findings(bool mirror = false)
    {
        var rows = mirror ? MirrorRows : Rows;
        var findings = new List<string>();
        if (!mirror)
        {
            var largest = rows.MaxBy(r => r.DropToA)!;
            findings.Add(largest.DropToA > 0
                ? F($"Largest drop: layer {largest.Layer}, head {largest.Head} sends \"{Pronoun}\" {largest.FirstToA:0.00} to \"{CandidateA}\" in the {FirstLabel} sentence and {largest.SecondToA:0.00} in the {SecondLabel} one.")
                : F($"No chosen head sends \"{Pronoun}\" less weight to \"{CandidateA}\" in the {SecondLabel} sentence than in the {FirstLabel} one."));
        }
        else
        {
            var largest = rows.MaxBy(r => r.RiseToB)!;
            findings.Add(largest.RiseToB > 0
                ? F($"Largest rise: layer {largest.Layer}, head {largest.Head} sends \"{Pronoun}\" {largest.FirstToB:0.00} to \"{CandidateB}\" in the {FirstLabel} sentence and {largest.SecondToB:0.00} in the {SecondLabel} one.")
                : F($"No chosen head sends \"{Pronoun}\" more weight to \"{CandidateB}\" in the {SecondLabel} sentence than in the {FirstLabel} one."));
        }

        var flipped = rows.Where(r => r.Flips).ToList();
        findings.Add(flipped.Count == 0
            ? "In no layer does the chosen head's preference flip between the sentences."
            : F($"The chosen head's preference flips between the sentences in layer(s) {string.Join(", ", flipped.Select(r => r.Layer))}."));
        foreach (var both in rows.Where(r => r.FirstToA >= BothThreshold && r.SecondToA >= BothThreshold))
        {
            findings.Add(F($"Layer {both.Layer}, head {both.Head} sends {both.FirstToA:0.00} / {both.SecondToA:0.00} to \"{CandidateA}\" in both sentences: it looks at \"{CandidateA}\" whichever noun \"{Pronoun}\" means."));
        }

        foreach (var both in rows.Where(r => r.FirstToB >= BothThreshold && r.SecondToB >= BothThreshold))
        {
            findings.Add(F($"Layer {both.Layer}, head {both.Head} sends {both.FirstToB:0.00} / {both.SecondToB:0.00} to \"{CandidateB}\" in both sentences: it looks at \"{CandidateB}\" whichever noun \"{Pronoun}\" means."));
        }

        return findings;
    }

    /// <summary>The scan of all heads (every head that flips, with its weights), then both per-layer tables with their findings, as text.</summary>
    public string Report()
    {
        var text = new StringBuilder();
        string[] names = [$"{FirstLabel}→{CandidateA}", $"{FirstLabel}→{CandidateB}", $"{SecondLabel}→{CandidateA}", $"{SecondLabel}→{CandidateB}"];
        var width = Math.Max(6, names.Max(n => n.Length));
        var header = $"layer  head  {string.Join("  ", names.Select(n => n.PadLeft(width)))}";
        string Line(ReferentProbeRow r) =>
            F($"{r.Layer,5}  {r.Head,4}  {string.Join("  ", new[] { r.FirstToA, r.FirstToB, r.SecondToA, r.SecondToB }.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture).PadLeft(width)))}");

        text.AppendLine(F($"All {AllHeads.Count} heads, one rule fixed in advance: {FollowRule}."));
        text.AppendLine("Heads whose preference flips:");
        text.AppendLine(header + "  follows?");
        foreach (var r in AllHeads.Where(r => r.Flips))
        {
            text.AppendLine(Line(r) + (r.FollowsReferent ? "  yes" : F($"  no (below {MinimumWeight:0.00})")));
        }

        foreach (var finding in ScanFindings())
        {
            text.AppendLine(finding);
        }

        foreach (var mirror in new[] { false, true })
        {
            text.AppendLine();
            text.AppendLine(F($"{(mirror ? "Mirror rule" : "Same head in both sentences")}: {(mirror ? MirrorRule : Rule)}."));
            text.AppendLine(header);
            foreach (var r in mirror ? MirrorRows : Rows)
            {
                text.AppendLine(Line(r));
            }

            foreach (var finding in Findings(mirror))
            {
                text.AppendLine(finding);
            }
        }

        return text.ToString().TrimEnd();
    }

    /// <inheritdoc />
    public override string ToString() => Report();

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
