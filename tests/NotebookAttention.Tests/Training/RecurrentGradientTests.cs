using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Tests.Support;
using NotebookAttention.Training;
using Xunit.Abstractions;

namespace NotebookAttention.Tests.Training;

/// <summary>
/// The backward passes of the Elman RNN and the LSTM (backpropagation through time) against central finite differences
/// of the loss, for every parameter: embedding, cell weights and biases, readout.
/// </summary>
public class RecurrentGradientTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-6;

    /// <summary>
    /// For every parameter P with gradient g: the directional derivative of the loss along g/||g||, along a random unit
    /// direction, and along one random entry, each by the same Richardson-extrapolated central differences as every other gradient check (NumericGradients), must match what g predicts (||g||, g·u and
    /// g_ij) within 1e-6 of ||g||. Dividing by the parameter's gradient norm, not by the entry, keeps an entry whose
    /// gradient is nearly 0 from turning rounding noise into a huge "relative" error, while an error of 1e-6·||g|| in
    /// any of the three is still caught.
    /// </summary>
    [Fact]
    public void Every_parameter_gradient_of_both_models_matches_central_differences()
    {
        var worst = 0.0;
        var lockObject = new object();
        Property.Holds(ModelCases.Small(), c =>
        {
            var model = c.Build();
            var batch = c.Batch;
            foreach (var p in model.Parameters)
            {
                p.ZeroGradient();
            }

            model.LossAndGradients(batch);
            var random = new Random(c.Seed);
            foreach (var p in model.Parameters)
            {
                var g = p.Gradient.Clone();
                var norm = g.FrobeniusNorm();
                var direction = Matrix<double>.Build.Dense(g.RowCount, g.ColumnCount, (_, _) => random.NextDouble() - 0.5);
                direction /= direction.FrobeniusNorm();
                var entry = Matrix<double>.Build.Dense(g.RowCount, g.ColumnCount);
                var (row, column) = (random.Next(g.RowCount), random.Next(g.ColumnCount));
                entry[row, column] = 1;
                var checks = new List<(Matrix<double> Direction, double Predicted)> { (direction, g.PointwiseMultiply(direction).Enumerate().Sum()), (entry, g[row, column]) };
                if (norm > 0)
                {
                    checks.Add((g / norm, norm));
                }

                foreach (var (u, predicted) in checks)
                {
                    var numeric = NumericGradients.Along(() => model.Evaluate(batch).Loss, p.Value, u);
                    var error = Math.Abs(numeric - predicted) / Math.Max(norm, 1e-4);
                    lock (lockObject)
                    {
                        worst = Math.Max(worst, error);
                    }

                    Assert.True(error <= Tolerance, $"{c}: {p.Name} along a direction: backward {predicted:R}, finite differences {numeric:R}, error {error:E2} of ||g|| = {norm:E2}");
                }
            }
        });

        Assert.True(worst > 0, "no gradient was compared");
        output.WriteLine($"largest error over {Property.Cases} cases: {worst:E2} of ||g||");
    }

    [Fact]
    public void Input_gradient_norms_are_the_embedding_gradient_when_every_token_occurs_once()
    {
        Property.Holds(ModelCases.Small(maxSequences: 1, maxLength: 6), c =>
        {
            // Distinct ids 0..n-1 in one sequence: dE[token t] is exactly dX_t, so its norm is the reported norm at t.
            var n = c.Inputs[0].Length;
            var settings = c.Settings with { VocabularySize = n + 1 };
            var model = ModelCase.Build(c.Kind, settings);
            var tokens = Enumerable.Range(0, n).Reverse().ToArray();
            var targets = tokens.Select(t => (t * 7) % (n + 1)).ToArray();
            var outcome = model.LossAndGradients(new SequenceBatch([tokens], [targets], n + 1, n));
            var dEmbedding = model.Parameters[0].Gradient;
            for (var t = 0; t < n; t++)
            {
                Assert.Equal(dEmbedding.Row(tokens[t]).L2Norm(), outcome.InputGradientNorms[t], 12);
            }

            Assert.Equal(0.0, dEmbedding.Row(n).L2Norm());
            Assert.True(outcome.InputGradientNorms[^1] > 0, "the last position's input gradient is zero although its target is scored");
        });
    }
}
