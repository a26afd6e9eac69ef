using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NotebookAttention.Attention;
using NotebookAttention.Pretrained;
using NotebookAttention.Tests.Support;
using Xunit.Abstractions;

namespace NotebookAttention.Tests;

/// <summary>The library's encoder on the real all-MiniLM-L6-v2 weights agrees with ONNX Runtime on the same model.</summary>
public sealed class PretrainedTests(ITestOutputHelper output)
{
    private static readonly Lazy<(MiniLmWeights Weights, MiniLmEncoder Encoder, MiniLmTokenizer Tokenizer, InferenceSession Session)> Model = new(() =>
    {
        var weights = MiniLmWeights.Load();
        return (weights, new MiniLmEncoder(weights), MiniLmTokenizer.Load(), new InferenceSession(weights.ModelBytes));
    });

    /// <summary>
    /// How far two encoders of this model may disagree, from fp32's rounding: u = 2^-24 per operation, the deepest
    /// accumulation a layer has (the feed-forward's second product, 1,536 terms), L = 6 layers, and M the largest
    /// |entry| of the state (about 6 here). Rounding errors behave like independent random terms (Higham and Mary,
    /// "A new approach to probabilistic rounding error analysis", 2019): a sum of n terms is off by about
    /// sqrt(n) u M rather than the worst case n u M, and errors of the L layers add the same way, so one fp32
    /// encoder is off by about sqrt(L 1536) u M = 96 u M ≈ 3.4e-5 at M = 6. Our reference encoder is fp64 (its
    /// error is negligible); ONNX Runtime and the fast encoder are fp32 each, so a comparison allows that once per
    /// fp32 encoder involved. Measured on these sentences: 1.0e-6 to 2.0e-6 (fp64 vs ONNX Runtime), 2.3e-6 to
    /// 4.2e-6 (fast fp32 vs ONNX Runtime), about 1/16 of the bound.
    /// </summary>
    private static double Tolerance(int fp32Encoders, double largestEntry) =>
        fp32Encoders * Math.Sqrt(6 * 1536) * Fp32Error.UnitRoundoff * largestEntry;

    private static double Largest(Matrix<double> state) => state.Enumerate().Max(Math.Abs);

    public static TheoryData<string> Sentences()
    {
        var data = new TheoryData<string>();
        foreach (var file in new[] { "sentences.en.txt", "sentences.be.txt", "paragraph.en.txt" })
        {
            foreach (var line in File.ReadAllLines(Repository.PathOf("data", file)))
            {
                data.Add(line);
            }
        }

        data.Add("attention");
        data.Add("Увага");
        data.Add("I ❤️ attention 🐈 42 — ≈ ∑ 中文 testing");
        return data;
    }

    [Theory]
    [MemberData(nameof(Sentences))]
    public void Last_hidden_state_matches_onnx_runtime(string sentence)
    {
        var (_, encoder, tokenizer, session) = Model.Value;
        var pieces = tokenizer.Encode(sentence);
        var ours = encoder.Forward(pieces).LastHiddenState;
        var theirs = Run(session, [pieces.Ids], pieces.Ids.Length)[0];
        var difference = Differences.Largest(ours, theirs);
        var tolerance = Tolerance(1, Largest(theirs));
        output.WriteLine($"{pieces.Ids.Length} pieces, max |difference| {difference:E2} (bound {tolerance:E2}): {sentence}");
        Assert.True(difference <= tolerance, $"max |difference| {difference:E2} for \"{sentence}\" exceeds {tolerance:E2}");
    }

    [Fact]
    public void A_256_piece_text_matches_onnx_runtime()
    {
        var (_, encoder, tokenizer, session) = Model.Value;
        var paragraph = File.ReadAllText(Repository.PathOf("data", "paragraph.en.txt"));
        var text = string.Join(' ', Enumerable.Repeat(paragraph, 5));
        var pieces = tokenizer.Encode(text, truncate: true, maxTokens: MiniLmTokenizer.PositionLimit);
        var cut = tokenizer.Encode(text, truncate: true);                       // the default limit, 256
        Assert.True(cut.Truncated);
        Assert.Equal([.. pieces.Ids.Take(255), pieces.Ids[^1]], cut.Ids);      // [CLS], the first 254 pieces, [SEP]
        Assert.Equal(256, cut.Ids.Length);
        var theirs = Run(session, [cut.Ids], 256)[0];
        var difference = Differences.Largest(encoder.Forward(cut).LastHiddenState, theirs);
        var tolerance = Tolerance(1, Largest(theirs));
        output.WriteLine($"256 pieces: max |difference| {difference:E2} (bound {tolerance:E2})");
        Assert.True(difference <= tolerance, $"max |difference| {difference:E2} exceeds {tolerance:E2}");
    }

    [Fact]
    public void A_padded_batch_matches_onnx_runtime_on_the_real_tokens()
    {
        var (_, encoder, tokenizer, session) = Model.Value;
        var (pieces, _, length, theirs) = PaddedBatch(tokenizer, session, ["The cat sat on the mat.", "Увага да сябе дазваляе мадэлі ўзважваць словы", "Hi"]);
        var batch = encoder.Forward(pieces);
        for (var s = 0; s < pieces.Count; s++)
        {
            var valid = pieces[s].Ids.Length;
            Assert.Equal((length, valid), (batch[s].Tokens.Count, batch[s].ValidLength));
            Assert.All(batch[s].Tokens.Skip(valid), token => Assert.Equal(MiniLmTokenizer.Padding, token));
            Assert.All(batch[s].Attention, layer => Assert.All(layer.Heads, head =>
                Assert.Equal(0.0, Enumerable.Range(0, length).Sum(q => Enumerable.Range(valid, length - valid).Sum(k => head.Weights[q, k])))));
            var ours = batch[s].LastHiddenState.SubMatrix(0, valid, 0, 384);
            var real = theirs[s].SubMatrix(0, valid, 0, 384);
            var difference = Differences.Largest(ours, real);
            var tolerance = Tolerance(1, Largest(real));
            output.WriteLine($"batch sentence {s}: {valid} of {length} real, max |difference| {difference:E2} (bound {tolerance:E2})");
            Assert.True(difference <= tolerance, $"sentence {s}: max |difference| {difference:E2} exceeds {tolerance:E2}");
        }
    }

    [Fact]
    public void Fast_fp32_encoder_matches_onnx_runtime_padded_and_long()
    {
        var (weights, _, tokenizer, session) = Model.Value;
        var fast = new FastMiniLmEncoder(weights);
        var (pieces, padded, _, theirs) = PaddedBatch(tokenizer, session, ["The animal didn't cross the street because it was too tired.", "Увага да сябе дазваляе мадэлі ўзважваць словы", "Hi"]);
        for (var s = 0; s < pieces.Count; s++)
        {
            var valid = pieces[s].Ids.Length;
            var ours = fast.Forward(padded[s], valid);
            var difference = Enumerable.Range(0, valid * 384).Max(i => Math.Abs(ours[i] - theirs[s][i / 384, i % 384]));
            var tolerance = Tolerance(2, Largest(theirs[s].SubMatrix(0, valid, 0, 384)));
            output.WriteLine($"fast, sentence {s}: max |difference| {difference:E2} (bound {tolerance:E2})");
            Assert.True(difference <= tolerance, $"fast encoder, sentence {s}: max |difference| {difference:E2} exceeds {tolerance:E2}");
        }
    }

    [Fact]
    public void Fast_encoder_batch_gives_each_sequence_its_own_bits_on_any_thread_count()
    {
        var (weights, _, tokenizer, session) = Model.Value;
        var (pieces, padded, length, theirs) = PaddedBatch(tokenizer, session, ["The animal didn't cross the street because it was too tired.", "Увага да сябе дазваляе мадэлі ўзважваць словы", "Hi", "Attention links every pair of positions directly."]);
        int[] valid = [.. pieces.Select(p => p.Ids.Length)];
        var all = new FastMiniLmEncoder(weights);
        var one = new FastMiniLmEncoder(weights, threads: 1);
        var batch = all.ForwardBatch(padded, valid);
        Assert.Equal(padded.Count, batch.Length);
        for (var s = 0; s < padded.Count; s++)
        {
            var alone = one.Forward(padded[s], valid[s]);
            Assert.Equal(length * 384, batch[s].Length);
            Assert.True(alone.AsSpan().SequenceEqual(batch[s]), $"sequence {s}: the batch differs from the sequence alone on 1 thread");
            Assert.All(batch[s].Skip(valid[s] * 384), value => Assert.Equal(0f, value));
            var difference = Enumerable.Range(0, valid[s] * 384).Max(i => Math.Abs(batch[s][i] - theirs[s][i / 384, i % 384]));
            Assert.True(difference <= Tolerance(2, Largest(theirs[s].SubMatrix(0, valid[s], 0, 384))), $"sequence {s}: max |difference| {difference:E2} from ONNX Runtime");
        }

        var ragged = Assert.Throws<ArgumentException>(() => all.ForwardBatch([padded[0], padded[1][..^1]], [valid[0], valid[1]]));
        Assert.Contains("pad every sequence of a batch to one length", ragged.Message, StringComparison.Ordinal);
        var lengths = Assert.Throws<ArgumentException>(() => all.ForwardBatch(padded, [valid[0]]));
        Assert.Contains("one valid length each", lengths.Message, StringComparison.Ordinal);
        var zero = Assert.Throws<ArgumentException>(() => all.ForwardBatch(padded, [.. valid[..^1], 0]));
        Assert.Contains("valid length of sequence 3 is 0", zero.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastMiniLmEncoder(weights, threads: 0));
    }

    [Theory]
    [InlineData(301)]
    [InlineData(512)]
    public void Fast_fp32_encoder_matches_onnx_runtime_on_long_texts(int length)
    {
        // Many query blocks with a ragged last one, and P V products deeper than one depth block.
        var (weights, _, tokenizer, session) = Model.Value;
        var paragraph = File.ReadAllText(Repository.PathOf("data", "paragraph.en.txt"));
        var pieces = tokenizer.Encode(string.Join(' ', Enumerable.Repeat(paragraph, 8)), truncate: true, maxTokens: MiniLmTokenizer.PositionLimit);
        Assert.Equal(MiniLmTokenizer.PositionLimit, pieces.Ids.Length);
        long[] ids = [.. pieces.Ids.Take(length - 1), pieces.Ids[^1]];
        var ours = new FastMiniLmEncoder(weights).Forward(ids);
        var theirs = Run(session, [ids], length)[0];
        var difference = Enumerable.Range(0, length * 384).Max(i => Math.Abs(ours[i] - theirs[i / 384, i % 384]));
        var tolerance = Tolerance(2, Largest(theirs));
        output.WriteLine($"fast, {length} pieces: max |difference| {difference:E2} (bound {tolerance:E2})");
        Assert.True(difference <= tolerance, $"fast encoder, {length} pieces: max |difference| {difference:E2} exceeds {tolerance:E2}");
    }

    [Fact]
    public void Fast_erf_is_within_its_stated_error()
    {
        foreach (var x in Enumerable.Range(-400, 801).Select(i => i / 100.0))
        {
            Assert.True(Math.Abs(NotebookAttention.Fast.Activations.Erf((float)x) - MathNet.Numerics.SpecialFunctions.Erf(x)) < 5e-7, $"erf({x})");
        }
    }

    [Fact]
    public void Word_pieces_are_shown_and_bad_text_is_refused()
    {
        var tokenizer = Model.Value.Tokenizer;
        var pieces = tokenizer.Encode("Attention!");
        Assert.Equal(["[CLS]", "attention", "!", "[SEP]"], pieces.Tokens);
        Assert.False(pieces.Truncated);
        Assert.Contains("[UNK]", tokenizer.Encode("🐈").Tokens);
        var longText = string.Join(' ', Enumerable.Repeat("attention", 600));
        var tooLong = Assert.Throws<ArgumentException>(() => tokenizer.Encode(longText));
        Assert.Contains("602 word pieces", tooLong.Message, StringComparison.Ordinal);
        Assert.Contains("at most 256 ([CLS] and [SEP] included; Sentence Transformers cuts this model's input at 256, and the model was fine-tuned on at most 128)", tooLong.Message, StringComparison.Ordinal);
        var truncated = tokenizer.Encode(longText, truncate: true);
        Assert.True(truncated.Truncated);
        Assert.Equal(256, truncated.Ids.Length);
        Assert.Equal(["[CLS]", "attention"], truncated.Tokens.Take(2));
        Assert.Equal("[SEP]", truncated.Tokens[^1]);
        var exactly = tokenizer.Encode(string.Join(' ', Enumerable.Repeat("attention", 254)));
        Assert.Equal((256, false), (exactly.Ids.Length, exactly.Truncated));
        Assert.Throws<ArgumentException>(() => tokenizer.Encode(string.Join(' ', Enumerable.Repeat("attention", 255))));
        Assert.Equal(512, tokenizer.Encode(longText, truncate: true, maxTokens: 512).Ids.Length);
        var beyondTable = Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Encode(longText, truncate: true, maxTokens: 513));
        Assert.Contains("give 2 ([CLS] and [SEP]) to 512", beyondTable.Message, StringComparison.Ordinal);
        var tooManyIds = Assert.Throws<ArgumentException>(() => Model.Value.Encoder.Forward(new long[513], 513));
        Assert.Contains("position table has 512 rows", tooManyIds.Message, StringComparison.Ordinal);
        Assert.Equal(6, Model.Value.Weights.Layers);
        Assert.Equal(384, Model.Value.Weights.Hidden);
        Assert.Equal(1536, Model.Value.Weights.FeedForwardWidth);       // notebook 08's cost section uses 384 and 1536
    }

    /// <summary>Sentences padded with id 0 to the longest, and ONNX Runtime's states for that batch.</summary>
    private static (List<WordPieces> Pieces, List<long[]> Padded, int Length, List<Matrix<double>> Theirs) PaddedBatch(MiniLmTokenizer tokenizer, InferenceSession session, string[] sentences)
    {
        var pieces = sentences.Select(s => tokenizer.Encode(s)).ToList();
        var length = pieces.Max(p => p.Ids.Length);
        var padded = pieces.Select(p => p.Ids.Concat(Enumerable.Repeat(0L, length - p.Ids.Length)).ToArray()).ToList();
        return (pieces, padded, length, Run(session, padded, length, [.. pieces.Select(p => p.Ids.Length)]));
    }

    private static List<Matrix<double>> Run(InferenceSession session, List<long[]> ids, int length, IReadOnlyList<int>? valid = null)
    {
        var batch = ids.Count;
        var inputIds = new DenseTensor<long>([batch, length]);
        var mask = new DenseTensor<long>([batch, length]);
        var types = new DenseTensor<long>([batch, length]);
        for (var b = 0; b < batch; b++)
        {
            for (var i = 0; i < length; i++)
            {
                inputIds[b, i] = ids[b][i];
                mask[b, i] = i < (valid?[b] ?? length) ? 1 : 0;
            }
        }

        using var results = session.Run([
            NamedOnnxValue.CreateFromTensor("input_ids", inputIds),
            NamedOnnxValue.CreateFromTensor("attention_mask", mask),
            NamedOnnxValue.CreateFromTensor("token_type_ids", types)]);
        var hidden = results.First(r => r.Name == "last_hidden_state").AsTensor<float>();
        return [.. Enumerable.Range(0, batch).Select(b => Matrix<double>.Build.Dense(length, 384, (i, c) => hidden[b, i, c]))];
    }
}
