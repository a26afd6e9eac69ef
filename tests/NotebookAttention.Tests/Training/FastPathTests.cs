using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Tests.Support;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>The fast path (flat buffers, SIMD) computes what the reference path (MathNet, one line per equation) computes.</summary>
public class FastPathTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void Fast_and_reference_paths_agree_on_loss_gradients_input_gradients_and_predictions()
    {
        Property.Holds(ModelCases.Small(maxSequences: 20, maxLength: 9), c =>
        {
            var reference = Run(c, RecurrentPath.Reference);
            var fast = Run(c, RecurrentPath.Fast);
            AssertAgree(c.ToString(), reference, fast);
        });
    }

    [Theory]
    [InlineData(RecurrentKind.Elman)]
    [InlineData(RecurrentKind.Lstm)]
    public void Fast_and_reference_paths_agree_at_the_notebook_size(RecurrentKind kind)
    {
        // Batch 32, hidden 32, embedding 16, L = 201 (n = 202), on two threads: two chunks of 16 sequences.
        var task = new RememberFirstTask(201);
        var batch = task.Sample(32, new Random(4));
        var settings = new RecurrentSettings(task.VocabularySize, 32, 16, 8);
        var reference = Run(kind, settings, batch, RecurrentPath.Reference, threads: 2);
        var fast = Run(kind, settings, batch, RecurrentPath.Fast, threads: 2);
        AssertAgree($"{kind} at n = 202", reference, fast);
    }

    private static (BatchOutcome Outcome, Matrix<double>[] Gradients) Run(ModelCase c, RecurrentPath path) =>
        Run(c.Kind, c.Settings, c.Batch, path, threads: 1);

    private static (BatchOutcome Outcome, Matrix<double>[] Gradients) Run(RecurrentKind kind, RecurrentSettings settings, SequenceBatch batch, RecurrentPath path, int threads)
    {
        var model = ModelCase.Build(kind, settings with { Path = path });
        var outcome = model.LossAndGradients(batch, threads);
        var evaluation = model.Evaluate(batch, threads);
        Assert.Equal(outcome.Loss, evaluation.Loss);
        Assert.Equal(outcome.Predictions, evaluation.Predictions);
        return (outcome, [.. model.Parameters.Select(p => p.Gradient)]);
    }

    private static void AssertAgree(string what, (BatchOutcome Outcome, Matrix<double>[] Gradients) reference, (BatchOutcome Outcome, Matrix<double>[] Gradients) fast)
    {
        Assert.True(Math.Abs(reference.Outcome.Loss - fast.Outcome.Loss) <= Tolerance * Math.Max(1, reference.Outcome.Loss), $"{what}: loss {reference.Outcome.Loss:R} vs {fast.Outcome.Loss:R}");
        Assert.Equal(reference.Outcome.Correct, fast.Outcome.Correct);
        Assert.Equal(reference.Outcome.Predictions, fast.Outcome.Predictions);
        for (var p = 0; p < reference.Gradients.Length; p++)
        {
            var scale = Math.Max(reference.Gradients[p].FrobeniusNorm(), 1e-300);
            var difference = (reference.Gradients[p] - fast.Gradients[p]).FrobeniusNorm();
            Assert.True(difference <= Tolerance * scale, $"{what}: gradient {p} differs by {difference:E2} of {scale:E2}");
        }

        var norms = reference.Outcome.InputGradientNorms.Zip(fast.Outcome.InputGradientNorms).ToArray();
        Assert.Equal(reference.Outcome.InputGradientNorms.Count, norms.Length);
        var largest = Math.Max(reference.Outcome.InputGradientNorms.Max(), 1e-300);
        Assert.All(norms, pair => Assert.True(Math.Abs(pair.First - pair.Second) <= Tolerance * largest, $"{what}: input gradient norm {pair.First:R} vs {pair.Second:R}"));
        Assert.All(norms.Where(pair => pair.First == 0), pair => Assert.Equal(0.0, pair.Second));
    }
}
