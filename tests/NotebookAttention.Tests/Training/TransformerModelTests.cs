using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>The transformer as a whole: gradients against finite differences, padding, threads, attention maps, bad input.</summary>
public class TransformerModelTests
{
    private static readonly int[] Lengths = [3, 6, 4, 5, 2];
    private static readonly int[] LongSequence = [1, 2, 3, 4, 5, 6, 1];
    private static readonly int[] One = [1];

    private static TransformerSettings Small(TransformerPath path, int layers = 1, bool causal = false, int heads = 2) =>
        new(VocabularySize: 7, MaxLength: 7, DModel: 6, Heads: heads, FeedForward: 8, Seed: 11, Causal: causal, Layers: layers, Path: path);

    /// <summary>Ragged sequences (lengths 3, 6, 4, 5, 2), every position scored except where the target is -1.</summary>
    private static SequenceBatch Ragged(int count = 5, int seed = 3)
    {
        var random = new Random(seed);
        var lengths = Enumerable.Range(0, count).Select(i => Lengths[i % 5]).ToList();
        var inputs = lengths.Select(n => (IReadOnlyList<int>)[.. Enumerable.Range(0, n).Select(_ => random.Next(1, 7))]).ToList();
        var targets = inputs.Select(s => (IReadOnlyList<int>)[.. s.Select(id => random.Next(4) == 0 ? SequenceBatch.Ignored : (id * 3) % 7)]).ToList();
        return new SequenceBatch(inputs, targets, 7, padId: 0);
    }

    public static TheoryData<TransformerPath, int, bool, int> Shapes => new()
    {
        { TransformerPath.Reference, 1, false, 2 },
        { TransformerPath.Reference, 2, true, 3 },
        { TransformerPath.Fast, 1, false, 2 },
        { TransformerPath.Fast, 2, false, 1 },
        { TransformerPath.Fast, 2, true, 3 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_parameter_tensor_s_gradient_matches_finite_differences_on_a_padded_batch(TransformerPath path, int layers, bool causal, int heads)
    {
        var model = new TransformerModel(Small(path, layers, causal, heads));
        var batch = Ragged();
        foreach (var parameter in model.Parameters)
        {
            parameter.ZeroGradient();
        }

        model.LossAndGradients(batch);

        // Sampled entries of every tensor (up to 12 each), as one vector per tensor: ||analytic - numeric|| / max(...).
        var random = new Random(5);
        foreach (var parameter in model.Parameters)
        {
            var entries = Enumerable.Range(0, Math.Min(12, parameter.Count)).Select(_ => random.Next(parameter.Count)).Distinct().ToList();
            var analytic = Vector<double>.Build.Dense([.. entries.Select(e => parameter.Gradient[e / parameter.Value.ColumnCount, e % parameter.Value.ColumnCount])]);
            var numeric = Vector<double>.Build.Dense([.. entries.Select(e =>
                Support.NumericGradients.Entry(() => model.Evaluate(batch).Loss, parameter.Value, e / parameter.Value.ColumnCount, e % parameter.Value.ColumnCount))]);
            Support.NumericGradients.Close(analytic, numeric, parameter.Name);
        }
    }

    [Theory]
    [InlineData(TransformerPath.Reference)]
    [InlineData(TransformerPath.Fast)]
    public void Gradient_check_utility_finds_the_backward_pass_correct(TransformerPath path)
    {
        var result = GradientCheck.Run(new TransformerModel(Small(path, layers: 2)), Ragged(), entries: 40, seed: 1);
        Assert.Equal(40, result.Entries.Count);
        Assert.True(result.LargestRelativeError <= 1e-6, result.ToString());
        Assert.Contains(result.Entries, e => Math.Abs(e.Analytic) > 1e-4);
    }

    [Fact]
    public void Gradient_check_utility_works_for_the_recurrent_models_too()
    {
        var settings = new RecurrentSettings(VocabularySize: 7, Hidden: 5, Embedding: 4, Seed: 2);
        foreach (ISequenceModel model in new ISequenceModel[] { new ElmanRnnModel(settings), new LstmModel(settings) })
        {
            var result = GradientCheck.Run(model, Ragged(), entries: 30, seed: 2);
            Assert.True(result.LargestRelativeError <= 1e-6, $"{model.Name}: {result}");
            Assert.Contains(result.Entries, e => Math.Abs(e.Analytic) > 1e-4);
        }
    }

    [Fact]
    public void Gradient_check_utility_catches_a_wrong_gradient()
    {
        var model = new WrongGradientModel(new TransformerModel(Small(TransformerPath.Reference)));
        var result = GradientCheck.Run(model, Ragged(), entries: 30, seed: 1);
        Assert.True(result.LargestRelativeError > 1e-3, result.ToString());
    }

    [Theory]
    [InlineData(TransformerPath.Reference, false)]
    [InlineData(TransformerPath.Fast, false)]
    [InlineData(TransformerPath.Fast, true)]
    public void Padding_changes_neither_loss_nor_gradients_and_padded_positions_get_exactly_zero_input_gradient(TransformerPath path, bool causal)
    {
        var sequence = new[] { 3, 1, 4 };
        var targets = new[] { 4, SequenceBatch.Ignored, 3 };
        var alone = new SequenceBatch([sequence], [targets], 7, padId: 0);

        // A second sequence with no scored position pads the first to length 7 and adds nothing to loss or gradients.
        var padded = new SequenceBatch([sequence, LongSequence], [targets, Enumerable.Repeat(SequenceBatch.Ignored, 7).ToArray()], 7, padId: 0);
        var (lossAlone, gradientsAlone, _) = LossAndGradients(new TransformerModel(Small(path, layers: 2, causal: causal)), alone);
        var (lossPadded, gradientsPadded, norms) = LossAndGradients(new TransformerModel(Small(path, layers: 2, causal: causal)), padded);

        Assert.Equal(lossAlone, lossPadded, 12);
        for (var p = 0; p < gradientsAlone.Count; p++)
        {
            var difference = (gradientsAlone[p] - gradientsPadded[p]).FrobeniusNorm();
            Assert.True(difference <= 1e-12 * Math.Max(1, gradientsAlone[p].FrobeniusNorm()), $"parameter {p}: {difference:E2}");
        }

        Assert.Equal(7, norms.Count);
        Assert.All(norms.Take(3), n => Assert.True(n > 0));
        Assert.All(norms.Skip(3), n => Assert.Equal(0.0, n));
    }

    [Theory]
    [InlineData(TransformerPath.Reference)]
    [InlineData(TransformerPath.Fast)]
    public void One_and_two_threads_give_the_same_bits(TransformerPath path)
    {
        var batch = Ragged(count: 13);
        var one = LossAndGradients(new TransformerModel(Small(path, layers: 2)), batch, threads: 1);
        var two = LossAndGradients(new TransformerModel(Small(path, layers: 2)), batch, threads: 2);
        Assert.Equal(BitConverter.DoubleToInt64Bits(one.Loss), BitConverter.DoubleToInt64Bits(two.Loss));
        for (var p = 0; p < one.Gradients.Count; p++)
        {
            Assert.Equal(one.Gradients[p].ToColumnMajorArray(), two.Gradients[p].ToColumnMajorArray());
        }

        Assert.Equal(one.Norms, two.Norms);
        var model = new TransformerModel(Small(path));
        Assert.Equal(model.Evaluate(batch, 1).Predictions, model.Evaluate(batch, 2).Predictions);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public void Fast_path_equals_the_reference_path(int layers, bool causal)
    {
        var batch = Ragged(count: 9, seed: layers);
        var reference = LossAndGradients(new TransformerModel(Small(TransformerPath.Reference, layers, causal)), batch);
        var fast = LossAndGradients(new TransformerModel(Small(TransformerPath.Fast, layers, causal)), batch);
        Assert.True(Math.Abs(reference.Loss - fast.Loss) <= 1e-12 * reference.Loss);
        for (var p = 0; p < reference.Gradients.Count; p++)
        {
            var difference = (reference.Gradients[p] - fast.Gradients[p]).FrobeniusNorm();
            Assert.True(difference <= 1e-12 * Math.Max(1e-3, reference.Gradients[p].FrobeniusNorm()), $"parameter {p}: {difference:E2}");
        }

        for (var t = 0; t < reference.Norms.Count; t++)
        {
            Assert.Equal(reference.Norms[t], fast.Norms[t], 12);
        }

        var evaluatedReference = new TransformerModel(Small(TransformerPath.Reference, layers, causal)).Evaluate(batch);
        var evaluatedFast = new TransformerModel(Small(TransformerPath.Fast, layers, causal)).Evaluate(batch);
        Assert.Equal(evaluatedReference.Predictions, evaluatedFast.Predictions);
        Assert.Equal(evaluatedReference.Correct, evaluatedFast.Correct);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Attention_weights_are_one_n_by_n_matrix_per_head_with_rows_summing_to_one(bool causal)
    {
        var model = new TransformerModel(Small(TransformerPath.Fast, layers: 2, causal: causal, heads: 3));
        var tokens = new[] { 1, 5, 2, 2, 6 };
        foreach (var layer in new int?[] { null, 0, 1 })
        {
            var weights = model.AttentionWeights(tokens, layer);
            Assert.Equal(3, weights.Count);
            Assert.All(weights, w =>
            {
                Assert.Equal(5, w.RowCount);
                Assert.Equal(5, w.ColumnCount);
                Assert.All(w.RowSums(), s => Assert.Equal(1.0, s, 12));
                Assert.Equal(causal, w[0, 4] == 0);
            });
        }

        Assert.NotEqual(model.AttentionWeights(tokens, 0)[0], model.AttentionWeights(tokens)[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.AttentionWeights(tokens, 2));
    }

    [Fact]
    public void Parameters_are_named_counted_and_seeded()
    {
        var model = new TransformerModel(Small(TransformerPath.Fast, layers: 2));
        Assert.Equal(model.Parameters.Sum(p => p.Count), model.ParameterCount);

        // d = 6, d_ff = 8, V = 7, max length 7: embeddings 2·7·6; per layer 2 norms (2·2·6), 4 (6x6 + 6), W_1 6x8 + 8, W_2 8x6 + 6; final norm 2·6; readout 6x7 + 7.
        Assert.Equal((2 * 7 * 6) + (2 * ((4 * 6) + (4 * 42) + 56 + 54)) + 12 + 49, model.ParameterCount);
        Assert.Contains(model.Parameters, p => p.Name == "layer1.attention.W_Q");
        Assert.Equal(model.Parameters.Count, model.Parameters.Select(p => p.Name).Distinct().Count());
        var same = new TransformerModel(Small(TransformerPath.Fast, layers: 2));
        var other = new TransformerModel(Small(TransformerPath.Fast, layers: 2) with { Seed = 12 });
        var query = model.Parameters.ToList().FindIndex(p => p.Name == "layer0.attention.W_Q");
        Assert.Equal(model.Parameters[query].Value, same.Parameters[query].Value);
        Assert.NotEqual(model.Parameters[query].Value, other.Parameters[query].Value);
    }

    [Fact]
    public void Bad_settings_and_batches_are_refused_with_what_to_do()
    {
        var heads = Assert.Throws<ArgumentException>(() => new TransformerModel(Small(TransformerPath.Fast, heads: 4)));
        Assert.Contains("choose heads from 1, 2, 3, 6", heads.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TransformerModel(Small(TransformerPath.Fast, layers: 0)));
        var model = new TransformerModel(Small(TransformerPath.Fast));
        var tooLong = new SequenceBatch([new int[8]], [new int[8]], 7, 0);
        Assert.Contains("MaxLength >= 8", Assert.Throws<ArgumentException>(() => model.LossAndGradients(tooLong)).Message, StringComparison.Ordinal);
        var otherVocabulary = new SequenceBatch([One], [One], 9, 0);
        Assert.Throws<ArgumentException>(() => model.Evaluate(otherVocabulary));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.LossAndGradients(Ragged(), threads: 0));
    }

    private static (double Loss, IReadOnlyList<Matrix<double>> Gradients, IReadOnlyList<double> Norms) LossAndGradients(TransformerModel model, SequenceBatch batch, int threads = 1)
    {
        foreach (var parameter in model.Parameters)
        {
            parameter.ZeroGradient();
        }

        var outcome = model.LossAndGradients(batch, threads);
        return (outcome.Loss, [.. model.Parameters.Select(p => p.Gradient.Clone())], outcome.InputGradientNorms);
    }

    /// <summary>A model whose gradients are 1% too large: the check must see a relative error of about 1e-2.</summary>
    private sealed class WrongGradientModel(TransformerModel inner) : ISequenceModel
    {
        public string Name => "wrong";

        public IReadOnlyList<Parameter> Parameters => inner.Parameters;

        public int VocabularySize => inner.VocabularySize;

        public int? MaxLength => inner.MaxLength;

        public BatchOutcome LossAndGradients(SequenceBatch batch, int threads = 1)
        {
            var outcome = inner.LossAndGradients(batch, threads);
            foreach (var parameter in inner.Parameters)
            {
                parameter.Gradient.Multiply(1.01, parameter.Gradient);
            }

            return outcome;
        }

        public BatchOutcome Evaluate(SequenceBatch batch, int threads = 1) => inner.Evaluate(batch, threads);
    }
}
