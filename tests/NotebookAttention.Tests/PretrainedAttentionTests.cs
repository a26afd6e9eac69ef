using NotebookAttention.Analysis;
using NotebookAttention.Pretrained;

namespace NotebookAttention.Tests;

/// <summary>What notebook 08 reads from the real model: pieces, heads, probes and traits.</summary>
public sealed class PretrainedAttentionTests
{
    private const string Tired = "The animal didn't cross the street because it was too tired.";
    private static readonly Lazy<MiniLm> Model = new(MiniLm.Load);

    [Fact]
    public void Every_layer_and_head_of_the_real_model_gives_rows_that_sum_to_one()
    {
        var result = Model.Value.Encode(Tired);
        Assert.Equal((6, 12), (result.Layers, result.Heads));
        Assert.Equal(16, result.ValidLength);
        Assert.Equal([0, 15], result.SpecialPositions);
        for (var layer = 0; layer < result.Layers; layer++)
        {
            for (var head = 0; head < result.Heads; head++)
            {
                var weights = result.Head(layer, head).Weights;
                Assert.All(weights.EnumerateRows(), row => Assert.Equal(1.0, row.Sum(), 9));
            }
        }

        var probe = result.AttentionFrom(result.Position("it"));
        Assert.Equal((6, 16), (probe.RowCount, probe.ColumnCount));
        Assert.All(probe.EnumerateRows(), row => Assert.Equal(1.0, row.Sum(), 9));
        // The probe against the heads read one by one: "it" is piece 10 and "animal" piece 2 of
        // [CLS] the animal didn ' t cross the street because it was too tired . [SEP].
        var (it, animal) = (result.Position("it"), result.Position("animal"));
        Assert.Equal((10, 2), (it, animal));
        var perHead = Enumerable.Range(0, 6).Select(layer => Enumerable.Range(0, 12).Select(head => result.Head(layer, head).Weights[it, animal]).ToList()).ToList();
        Assert.Equal(perHead.Select(heads => heads.Average()), result.Weight("it", "animal"), (a, b) => Math.Abs(a - b) < 1e-15);
        Assert.Equal(perHead.Select(heads => heads.Max()), result.Weight("it", "animal", strongestHead: true));
    }

    [Theory]
    [InlineData("The animal didn't cross the street because it was too tired.")]
    [InlineData("Увага да сябе дазваляе мадэлі ўзважваць словы")]
    [InlineData("увага")]
    public void Layer_0_head_2_looks_at_the_previous_piece_in_any_language(string text)
    {
        // The claim notebook 08 makes and its exercise 2 checks.
        var result = Model.Value.Encode(text);
        var traits = result.HeadTraits();
        Assert.Equal(72, traits.Count);
        var strongest = traits.MaxBy(t => t.PreviousToken)!;
        Assert.Equal((0, 2), (strongest.Layer, strongest.Head));
        // At most (n - 2)/n: query 0 has no previous piece, and query 1's previous piece is [CLS], counted as [CLS].
        var n = result.ValidLength;
        Assert.True(strongest.PreviousToken > 0.95 * (n - 2) / n, $"previous-token share {strongest.PreviousToken} of at most {(n - 2.0) / n}");
    }

    [Fact]
    public void The_referent_probe_reads_one_head_per_layer_chosen_in_the_first_sentence_in_both_sentences()
    {
        var tired = Model.Value.Encode(Tired);
        var wide = Model.Value.Encode(Tired.Replace("tired", "wide", StringComparison.Ordinal));
        var probe = ReferentProbe.Run(tired, wide, "it", "animal", "street", "tired", "wide");
        var (it, animal, street) = (tired.Position("it"), tired.Position("animal"), tired.Position("street"));
        Assert.Equal(6, probe.Rows.Count);
        Assert.Equal(72, probe.AllHeads.Count);
        foreach (var row in probe.Rows)
        {
            var firstWeights = Enumerable.Range(0, 12).Select(h => tired.Head(row.Layer, h).Weights[it, animal]).ToList();
            Assert.Equal(firstWeights.Max(), row.FirstToA);
            Assert.Equal(firstWeights.IndexOf(firstWeights.Max()), row.Head);
            Assert.Equal(tired.Head(row.Layer, row.Head).Weights[it, street], row.FirstToB);
            Assert.Equal(wide.Head(row.Layer, row.Head).Weights[it, animal], row.SecondToA);
            Assert.Equal(wide.Head(row.Layer, row.Head).Weights[it, street], row.SecondToB);
        }

        foreach (var row in probe.MirrorRows)
        {
            var secondWeights = Enumerable.Range(0, 12).Select(h => wide.Head(row.Layer, h).Weights[it, street]).ToList();
            Assert.Equal(secondWeights.IndexOf(secondWeights.Max()), row.Head);
            Assert.Equal(tired.Head(row.Layer, row.Head).Weights[it, animal], row.FirstToA);
        }

        // The scan: every head, and the followers are exactly the heads that pass the rule fixed in advance.
        var expected = Enumerable.Range(0, 72).Select(k => (Layer: k / 12, Head: k % 12)).Where(h =>
        {
            var (t, w) = (tired.Head(h.Layer, h.Head).Weights, wide.Head(h.Layer, h.Head).Weights);
            return t[it, animal] > t[it, street] && w[it, street] > w[it, animal] && t[it, animal] >= 0.05 && w[it, street] >= 0.05;
        });
        Assert.Equal(expected, probe.Followers.Select(r => (r.Layer, r.Head)));
        var report = probe.Report();
        Assert.Contains(probe.Rule, report, StringComparison.Ordinal);
        Assert.Contains(probe.MirrorRule, report, StringComparison.Ordinal);
        Assert.Contains(probe.FollowRule, report, StringComparison.Ordinal);
        Assert.All(probe.ScanFindings().Concat(probe.Findings()).Concat(probe.Findings(mirror: true)), finding => Assert.Contains(finding, report, StringComparison.Ordinal));
        var largest = probe.Rows.MaxBy(r => r.DropToA)!;
        Assert.Contains($"layer {largest.Layer}, head {largest.Head}", probe.Findings()[0], StringComparison.Ordinal);
        Console.WriteLine(ReferentProbe.MeanSummary(tired, "it", "animal", "street", "tired"));
        Console.WriteLine(ReferentProbe.MeanSummary(wide, "it", "animal", "street", "wide"));
        var both = probe.Rows.Where(r => r.FirstToA >= 0.5 && r.SecondToA >= 0.5).Select(r => $"Layer {r.Layer}, head {r.Head} sends").ToList();
        Assert.Equal(both.Count, probe.Findings().Count(f => f.Contains("in both sentences", StringComparison.Ordinal)));
        Assert.All(both, start => Assert.Contains(probe.Findings(), f => f.StartsWith(start, StringComparison.Ordinal)));
        Console.WriteLine(report);
    }

    [Theory]
    [InlineData("snow☃man is here", "[CLS] [UNK] is here [SEP]")]
    [InlineData("a ☃ b", "[CLS] a [UNK] b [SEP]")]
    public void A_word_the_vocabulary_cannot_build_becomes_one_unknown_piece(string text, string pieces)
    {
        // Notebook 08 says so: WordPiece gives up on the whole word, not just on the character it lacks.
        Assert.Equal(pieces, string.Join(' ', Model.Value.Tokenizer.Encode(text).Tokens));
        foreach (var word in new[] { "attention", "tokenization", "headphones", "embeddings", "transformers" })
        {
            Console.WriteLine(string.Join(' ', Model.Value.Tokenizer.Encode(word).Tokens));
        }
    }

    [Fact]
    public void The_referent_probe_refuses_a_missing_piece_with_the_pieces_listed()
    {
        var tired = Model.Value.Encode(Tired);
        var error = Assert.Throws<ArgumentException>(() => ReferentProbe.Run(tired, tired, "it", "animal", "road", "a", "b"));
        Assert.Contains("\"road\" occurs 0 time(s)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_real_head_shares_out_its_mass_once_and_the_cls_column_is_the_weight_on_cls_beyond_its_neighbours()
    {
        var result = Model.Value.Encode(Tired);
        var n = result.ValidLength;
        var traits = result.HeadTraits();
        foreach (var t in traits)
        {
            Assert.Equal(1.0, t.Shares.Sum(), 12);
            var weights = result.Head(t.Layer, t.Head).Weights;
            // [CLS] is piece 0 and [SEP] piece n - 1; the special columns come first, so every query's weight on them
            // counts there, neighbours and the pieces themselves included. Mass: n rows of 1.
            Assert.Equal(Enumerable.Range(0, n).Sum(i => weights[i, 0]) / n, t.Classifier, 9);
            Assert.Equal(Enumerable.Range(0, n).Sum(i => weights[i, n - 1]) / n, t.Separator, 9);
        }

        var summary = HeadTraits.SpecialTokenSummary(traits);
        Assert.StartsWith("Of 72 heads, ", summary, StringComparison.Ordinal);
        Console.WriteLine(summary);
    }

    [Fact]
    public void Missing_pieces_and_bad_positions_get_clear_errors()
    {
        var result = Model.Value.Encode("Attention is all you need");
        var missing = Assert.Throws<ArgumentException>(() => result.Position("it"));
        Assert.Contains("\"it\" occurs 0 time(s)", missing.Message, StringComparison.Ordinal);
        Assert.Contains("[CLS] attention is all you need [SEP]", missing.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => result.Head(6, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => result.Head(0, 12));
        Assert.Throws<ArgumentOutOfRangeException>(() => result.AttentionFrom(7));
    }

    [Fact]
    public void A_cut_text_says_so_and_a_padded_one_counts_only_real_pieces()
    {
        var longText = string.Join(' ', Enumerable.Repeat("attention", 600));
        var cut = Model.Value.Encoder.Forward(Model.Value.Tokenizer.Encode(longText, truncate: true)) with { Text = longText };
        Assert.True(cut.Truncated);
        Assert.Equal(MiniLmTokenizer.MaxTokens, cut.ValidLength);
        Assert.Contains("CUT to its first 256 pieces (Sentence Transformers cuts this model's input at 256)", cut.Summary, StringComparison.Ordinal);
        Assert.Contains(" ...", cut.Summary, StringComparison.Ordinal);
        var pieces = Model.Value.Tokenizer.Encode("hello there");
        var padded = Model.Value.Encoder.Forward([.. pieces.Ids, 0, 0], pieces.Ids.Length, [.. pieces.Tokens, "[PAD]", "[PAD]"]);
        Assert.Equal(4, padded.ValidLength);
        Assert.Contains("(+2 padding)", padded.Summary, StringComparison.Ordinal);
        Assert.Equal([0, 3], padded.SpecialPositions);
        Assert.All(padded.HeadTraits(), t => Assert.InRange(t.Entropy, 0, 2 + 1e-9));
        var bad = Assert.Throws<ArgumentException>(() => Model.Value.Encoder.Forward(pieces.Ids, 0));
        Assert.Contains("give 1 to 4 real tokens", bad.Message, StringComparison.Ordinal);
    }
}
