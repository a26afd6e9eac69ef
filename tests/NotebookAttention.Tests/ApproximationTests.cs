using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Approximations;
using NotebookAttention.Attention;
using NotebookAttention.Fast;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

public class ApproximationTests
{
    private static readonly int[] Lengths = [8_192, 16_384, 32_768];

    [Fact]
    public void Sliding_window_is_exact_attention_inside_the_window()
    {
        var cases =
            from c in Generators.AttentionProblem(square: true)
            from window in Gen.Frequency((3, Gen.Int[0, 40]), (1, Gen.Int[100, 300]))
            from causal in Gen.Bool
            select (c, window, causal);
        Property.Holds(cases, t =>
        {
            var (c, window, causal) = t;
            var mask = SlidingWindowAttention.Mask(c.Queries, window, causal);
            var reference = ScaledDotProductAttention.Compute(c.Q, c.K, c.V, mask).Output;
            var fast = SlidingWindowAttention.Compute(c.Q, c.K, c.V, window, causal);
            FastAttentionTests.AssertAgrees(reference, fast, Fp32Error.Attention(c.Q, c.K, c.V), mask, $"{c}, window {window}, causal {causal}");
        });
    }

    [Fact]
    public void Sliding_window_mask_allows_only_nearby_tokens()
    {
        Assert.Equal("■■···\n■■■··\n·■■■·\n··■■■\n···■■\n", SlidingWindowAttention.Mask(5, 1).ToString());
        Assert.Equal("■····\n■■···\n·■■··\n··■■·\n···■■\n", SlidingWindowAttention.Mask(5, 1, causal: true).ToString());
    }

    [Fact]
    public void Sliding_window_work_grows_linearly_while_exact_work_grows_quadratically()
    {
        var window = new FastMask(Window: 256);
        var windowTiles = Lengths.Select(n => FastAttention.VisitedTiles(n, window)).ToArray();
        var exactTiles = Lengths.Select(n => FastAttention.VisitedTiles(n)).ToArray();
        Assert.InRange(windowTiles[2] / (double)windowTiles[1], 1.9, 2.1);
        Assert.InRange(windowTiles[1] / (double)windowTiles[0], 1.9, 2.1);
        Assert.InRange(exactTiles[2] / (double)exactTiles[1], 3.9, 4.1);
        Assert.True(FastAttention.VisitedTiles(4096, new FastMask(Causal: true)) < 0.6 * FastAttention.VisitedTiles(4096));
    }

    [Fact]
    public void Linear_attention_regroups_its_quadratic_form_exactly()
    {
        var cases =
            from n in Gen.Int[1, 40]
            from d in Gen.Int[1, 12]
            from dv in Gen.Int[1, 6]
            from q in Generators.Matrix(n, d)
            from k in Generators.Matrix(n, d)
            from v in Generators.Matrix(n, dv)
            from causal in Gen.Bool
            select (q, k, v, causal);
        Property.Holds(cases, c =>
        {
            var linear = LinearAttention.Compute(c.q, c.k, c.v, c.causal);
            var quadratic = LinearAttention.ComputeQuadratic(c.q, c.k, c.v, c.causal);
            Assert.True(Differences.Largest(linear, quadratic) < 1e-10);
        });
    }

    [Fact]
    public void Linear_attention_outputs_are_convex_combinations_of_values_and_causal_ignores_the_future()
    {
        var q = Matrix<double>.Build.Dense(6, 4, (r, c) => Math.Sin(r + (2 * c)));
        var v = Matrix<double>.Build.Dense(6, 3, (r, c) => Math.Cos((3 * r) + c));
        var output = LinearAttention.Compute(q, q, v);
        for (var c = 0; c < 3; c++)
        {
            Assert.All(output.Column(c), x => Assert.InRange(x, v.Column(c).Minimum() - 1e-12, v.Column(c).Maximum() + 1e-12));
        }

        var causal = LinearAttention.Compute(q, q, v, causal: true);
        var changed = v.Clone();
        changed.SetRow(5, Vector<double>.Build.Dense(3, 100));
        Assert.Equal(causal.SubMatrix(0, 5, 0, 3), LinearAttention.Compute(q, q, changed, causal: true).SubMatrix(0, 5, 0, 3));
        Assert.True((v.Row(0) - causal.Row(0)).AbsoluteMaximum() < 1e-12);
    }

    [Fact]
    public void Feature_map_is_positive_and_continuous_at_zero()
    {
        var phi = LinearAttention.FeatureMap(Matrix<double>.Build.DenseOfArray(new double[,] { { -50, -1e-9, 0, 1e-9, 3 } }));
        Assert.All(phi.Enumerate(), x => Assert.True(x > 0));
        Assert.Equal(1.0, phi[0, 2]);
        Assert.Equal(phi[0, 1], phi[0, 3], 8);
        Assert.Equal(4.0, phi[0, 4]);
    }
}
