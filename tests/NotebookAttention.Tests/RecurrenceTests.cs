using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Recurrence;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

public class RecurrenceTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(64)]
    public void Path_lengths_found_by_search_have_the_shape_of_table_1(int n)
    {
        Assert.Equal(n, DependencyGraph.Build(Architecture.Recurrent, n).MaximumPathLength());
        Assert.Equal(1, DependencyGraph.Build(Architecture.SelfAttention, n).MaximumPathLength());
        Assert.Equal((int)Math.Ceiling((n - 1) / 2.0), DependencyGraph.Build(Architecture.Convolution(3), n).MaximumPathLength());
        Assert.Equal((int)Math.Ceiling(Math.Log(n, 2)), DependencyGraph.Build(Architecture.DilatedConvolution(2), n).MaximumPathLength());
        Assert.Equal((int)Math.Ceiling((n - 1) / 4.0), DependencyGraph.Build(Architecture.Restricted(4), n).MaximumPathLength());
    }

    [Fact]
    public void Doubling_n_doubles_recurrent_and_convolution_paths_adds_one_for_dilated_and_keeps_attention_at_one()
    {
        int Longest(Architecture a, int n) => DependencyGraph.Build(a, n).MaximumPathLength();
        Assert.Equal(2.0, Longest(Architecture.Recurrent, 256) / (double)Longest(Architecture.Recurrent, 128));
        Assert.InRange(Longest(Architecture.Convolution(5), 256) / (double)Longest(Architecture.Convolution(5), 128), 1.9, 2.1);
        Assert.Equal(Longest(Architecture.DilatedConvolution(2), 128) + 1, Longest(Architecture.DilatedConvolution(2), 256));
        Assert.Equal(1, Longest(Architecture.SelfAttention, 256));
        Assert.InRange(Longest(Architecture.Restricted(8), 256) / (double)Longest(Architecture.Restricted(8), 128), 1.9, 2.1);
    }

    [Fact]
    public void Recurrence_is_sequential_and_the_others_are_not()
    {
        Assert.Equal(100, DependencyGraph.Build(Architecture.Recurrent, 100).SequentialSteps());
        Assert.Equal(1, DependencyGraph.Build(Architecture.SelfAttention, 100).SequentialSteps());
        Assert.Equal(1, DependencyGraph.Build(Architecture.Convolution(3), 100).SequentialSteps());
        Assert.Equal(1, DependencyGraph.Build(Architecture.DilatedConvolution(3), 100).SequentialSteps());
    }

    [Fact]
    public void Recurrent_paths_only_run_forward_and_attention_links_every_pair_in_one_step()
    {
        var recurrent = DependencyGraph.Build(Architecture.Recurrent, 5).PathLengths();
        Assert.Equal(1, recurrent[2, 2]);
        Assert.Equal(3, recurrent[2, 4]);
        Assert.Equal(-1, recurrent[4, 2]);
        var attention = DependencyGraph.Build(Architecture.SelfAttention, 5).PathLengths();
        Assert.All(Enumerable.Range(0, 25), p => Assert.Equal(1, attention[p / 5, p % 5]));
    }

    [Fact]
    public void Rnn_jacobian_matches_finite_differences()
    {
        var cases =
            from steps in Gen.Int[1, 8]
            from hidden in Gen.Int[1, 5]
            from input in Gen.Int[1, 4]
            from radius in Gen.Double[0.3, 1.6]
            from seed in Gen.Int
            from x in Generators.Matrix(steps, input, bound: 1)
            from t in Gen.Int[0, steps - 1]
            select (rnn: ElmanRnn.WithSpectralRadius(hidden, input, radius, seed), x, t);
        Property.Holds(cases, c =>
        {
            var analytic = c.rnn.Jacobian(c.x, c.t);
            var numeric = NumericGradients.JacobianOfRow(x => c.rnn.Forward(x).Row(x.RowCount - 1), c.x, c.t);
            Assert.True(Differences.Largest(analytic, numeric) < 1e-6, $"difference {Differences.Largest(analytic, numeric):E2}");
            Assert.Equal(c.rnn.GradientNorms(c.x)[c.t], analytic.FrobeniusNorm(), 9);
        });
    }

    [Fact]
    public void Attention_jacobian_matches_finite_differences()
    {
        var cases =
            from n in Gen.Int[1, 8]
            from dModel in Gen.Int[1, 6]
            from dK in Gen.Int[1, 5]
            from dV in Gen.Int[1, 4]
            from bias in Gen.Bool
            from seed in Gen.Int
            from x in Generators.Matrix(n, dModel, bound: 2)
            from t in Gen.Int[0, n - 1]
            select (projections: QkvProjections.Create(dModel, dK, dV, seed, bias), x, t);
        Property.Holds(cases, c =>
        {
            var analytic = AttentionGradients.Jacobian(c.projections, c.x, c.t);
            var numeric = NumericGradients.JacobianOfRow(x => AttentionGradients.LastOutput(c.projections, x), c.x, c.t);
            Assert.True(Differences.Largest(analytic, numeric) < 1e-6, $"difference {Differences.Largest(analytic, numeric):E2}");
        });
    }

    [Fact]
    public void Rnn_gradients_vanish_below_radius_one_and_explode_above_while_attention_on_the_same_inputs_does_not_vanish()
    {
        // Tiny inputs keep tanh in its linear range, where the spectral radius alone decides. Attention reads the same
        // inputs (same scale) plus positions.
        var x = Matrix<double>.Build.Dense(40, 4, (r, c) => 1e-6 * Math.Sin((3 * r) + c));
        double Decay(double radius)
        {
            var norms = ElmanRnn.WithSpectralRadius(16, 4, radius, seed: 7).GradientNorms(x);
            return norms[0] / norms[39];
        }

        Assert.True(Decay(0.5) < 1e-10, $"radius 0.5: ratio {Decay(0.5):E2}");
        Assert.True(Decay(1.3) > 1e3, $"radius 1.3: ratio {Decay(1.3):E2}");
        var attention = AttentionGradients.GradientNorms(QkvProjections.Create(4, 4, 4, seed: 3), NotebookAttention.Tokens.PositionalEncoding.AddTo(x));
        Assert.True(attention[0] / attention[38] > 0.1, $"attention: distance 39 against distance 1, ratio {attention[0] / attention[38]:E2}");
    }

    [Fact]
    public void Bad_sizes_are_refused_with_the_reason()
    {
        var kernel = Assert.Throws<ArgumentOutOfRangeException>(() => Architecture.Convolution(1));
        Assert.Contains("kernel is 1", kernel.Message, StringComparison.Ordinal);
        var large = Assert.Throws<ArgumentOutOfRangeException>(() => DependencyGraph.Build(Architecture.Convolution(2), 10_000));
        Assert.Contains("use a shorter sequence", large.Message, StringComparison.Ordinal);
        var shapes = Assert.Throws<ArgumentException>(() => new ElmanRnn(Matrix<double>.Build.Dense(3, 2), Matrix<double>.Build.Dense(3, 1)));
        Assert.Contains("W must be square", shapes.Message, StringComparison.Ordinal);
    }
}
