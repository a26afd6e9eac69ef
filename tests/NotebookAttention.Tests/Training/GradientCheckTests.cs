using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>The notebook's gradient check reaches every tensor, so its "largest relative error" covers them all.</summary>
public class GradientCheckTests
{
    private static readonly ReverseTask Task = new(3, 8);

    private static TransformerModel Model(int layers = 1) =>
        new(new TransformerSettings(Task.VocabularySize, Task.MaxLength, DModel: 8, Heads: 2, FeedForward: 16, Seed: 3, Layers: layers));

    [Theory]
    [InlineData(1, 40)]
    [InlineData(2, 40)]
    [InlineData(2, 100)]
    public void With_at_least_as_many_entries_as_tensors_every_tensor_is_checked_and_no_entry_twice(int layers, int entries)
    {
        var model = Model(layers);
        var result = GradientCheck.Run(model, Task.Sample(4, new Random(5)), entries, seed: 1);
        Assert.Equal(entries, result.Entries.Count);
        Assert.Equal(model.Parameters.Select(p => p.Name).Order(), result.Entries.Select(e => e.Parameter).Distinct().Order());
        Assert.Equal(entries, result.Entries.Select(e => (e.Parameter, e.Row, e.Column)).Distinct().Count());
        var perTensor = result.Entries.GroupBy(e => e.Parameter).Select(g => g.Count()).ToList();
        Assert.True(perTensor.Max() - perTensor.Min() <= 1, $"entries per tensor range from {perTensor.Min()} to {perTensor.Max()}");
        Assert.True(result.LargestRelativeError <= 1e-6, result.ToString());
    }

    [Fact]
    public void More_entries_than_scalars_checks_each_scalar_once()
    {
        var model = new ElmanRnnModel(new RecurrentSettings(Task.VocabularySize, Hidden: 2, Embedding: 1, Seed: 1));
        var total = model.Parameters.Sum(p => p.Count);
        var result = GradientCheck.Run(model, Task.Sample(2, new Random(5)), total + 50, seed: 2);
        Assert.Equal(total, result.Entries.Count);
        Assert.Equal(total, result.Entries.Select(e => (e.Parameter, e.Row, e.Column)).Distinct().Count());
    }

    [Fact]
    public void A_wrong_gradient_in_one_small_tensor_is_caught_and_named()
    {
        // Only the final LayerNorm's bias (8 of about 900 scalars) is wrong: a uniform draw of 40 entries would miss
        // it about seven times in ten; the stratified check cannot.
        var model = new WrongInOneTensor(Model(), "norm.bias");
        var result = GradientCheck.Run(model, Task.Sample(4, new Random(5)), entries: 40, seed: 1);
        Assert.True(result.LargestRelativeError > 1e-3, result.ToString());
        Assert.Equal("norm.bias", result.Worst.Parameter);
    }

    /// <summary>A transformer whose gradient of one tensor is 1% too large.</summary>
    private sealed class WrongInOneTensor(TransformerModel inner, string name) : ISequenceModel
    {
        public string Name => "wrong in " + name;

        public IReadOnlyList<Parameter> Parameters => inner.Parameters;

        public int VocabularySize => inner.VocabularySize;

        public int? MaxLength => inner.MaxLength;

        public BatchOutcome LossAndGradients(SequenceBatch batch, int threads = 1)
        {
            var outcome = inner.LossAndGradients(batch, threads);
            var parameter = inner.Parameters.Single(p => p.Name == name);
            parameter.Gradient.Multiply(1.01, parameter.Gradient);
            return outcome;
        }

        public BatchOutcome Evaluate(SequenceBatch batch, int threads = 1) => inner.Evaluate(batch, threads);
    }
}
