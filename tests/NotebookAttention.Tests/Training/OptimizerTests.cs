using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

public class OptimizerTests
{
    [Fact]
    public void Adam_first_two_steps_match_the_hand_computed_values()
    {
        // θ = [1, -2], η = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e-8; gradients [0.5, -3] then [-0.2, -3].
        // Step 1: m = 0.1 g, v = 0.001 g², m̂ = g, v̂ = g²: each entry moves by η g / (|g| + ε) ≈ η against the sign of g:
        //   θ_0 = 1 - 0.1 · 0.5 / (0.5 + 1e-8) = 0.900000002,  θ_1 = -2 + 0.1 · 3 / (3 + 1e-8) = -1.90000000033333.
        // Step 2, entry 0: m = 0.9 · 0.05 + 0.1 · (-0.2) = 0.025, v = 0.999 · 0.00025 + 0.001 · 0.04 = 0.00028975,
        //   m̂ = 0.025 / 0.19 = 0.131578947368, v̂ = 0.00028975 / 0.001999 = 0.144947473737, sqrt(v̂) = 0.380719678,
        //   θ_0 = 0.900000002 - 0.1 · 0.131578947368 / 0.380719678 = 0.865439418117.
        // Entry 1 sees the same gradient twice: m̂ = -3 and v̂ = 9 again, so it moves by η again: -1.80000000066667.
        var p = new Parameter("θ", Matrix<double>.Build.DenseOfRowArrays([1.0, -2.0]));
        var adam = new Adam(0.1);
        SetGradient(p, 0.5, -3);
        adam.Update([p]);
        Assert.Equal(0.900000002, p.Value[0, 0], 12);
        Assert.Equal(-1.90000000033333, p.Value[0, 1], 12);
        SetGradient(p, -0.2, -3);
        adam.Update([p]);
        Assert.Equal(0.865439418117, p.Value[0, 0], 11);
        Assert.Equal(-1.80000000066667, p.Value[0, 1], 12);
        Assert.Equal(2, adam.Steps);
    }

    [Fact]
    public void Sgd_steps_against_the_gradient_and_momentum_adds_the_previous_velocity()
    {
        var plain = new Parameter("θ", Matrix<double>.Build.DenseOfRowArrays([1.0, 2.0]));
        SetGradient(plain, 0.5, -1);
        new Sgd(0.1).Update([plain]);
        Assert.Equal([0.95, 2.1], plain.Value.Row(0).ToArray());

        // v_1 = g_1 = [1, 0]; v_2 = 0.9 v_1 + g_2 = [0.9 + 2, 1]: θ = [0, 0] - 0.1 [1, 0] - 0.1 [2.9, 1] = [-0.39, -0.1].
        var moving = new Parameter("θ", Matrix<double>.Build.Dense(1, 2));
        var sgd = new Sgd(0.1, momentum: 0.9);
        SetGradient(moving, 1, 0);
        sgd.Update([moving]);
        SetGradient(moving, 2, 1);
        sgd.Update([moving]);
        Assert.Equal(-0.39, moving.Value[0, 0], 14);
        Assert.Equal(-0.1, moving.Value[0, 1], 14);
    }

    [Fact]
    public void Global_norm_clipping_scales_all_gradients_together_and_returns_the_norm_before()
    {
        var a = new Parameter("a", Matrix<double>.Build.Dense(1, 1));
        var b = new Parameter("b", Matrix<double>.Build.Dense(1, 1));
        a.Gradient[0, 0] = 3;
        b.Gradient[0, 0] = -4;
        Assert.Equal(5, GradientClipping.ClipGlobalNorm([a, b], 10));
        Assert.Equal((3.0, -4.0), (a.Gradient[0, 0], b.Gradient[0, 0]));
        Assert.Equal(5, GradientClipping.ClipGlobalNorm([a, b], 1));
        Assert.Equal(0.6, a.Gradient[0, 0], 15);
        Assert.Equal(-0.8, b.Gradient[0, 0], 15);
        Assert.Equal(1, GradientClipping.GlobalNorm([a, b]), 15);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Optimizers_and_clipping_refuse_a_threshold_or_rate_that_is_not_a_positive_number(double bad)
    {
        Assert.Contains("learning rate", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(bad)).Message, StringComparison.Ordinal);
        Assert.Contains("learning rate", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(bad)).Message, StringComparison.Ordinal);
        Assert.Contains("clipping norm", Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipGlobalNorm([], bad)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Optimizer_names_are_adam_and_sgd_and_others_are_refused_with_the_choices()
    {
        Assert.IsType<Adam>(((OptimizerChoice)"Adam").Create(1e-3));
        Assert.IsType<Sgd>(((OptimizerChoice)"sgd").Create(1e-3));
        var error = Assert.Throws<ArgumentException>(() => (OptimizerChoice)"rmsprop");
        Assert.Contains("\"adam\" or \"sgd\"", error.Message, StringComparison.Ordinal);
        Assert.Equal(0.9, ((Sgd)OptimizerChoice.Custom("momentum", rate => new Sgd(rate, 0.9)).Create(0.1)).Momentum);
    }

    private static void SetGradient(Parameter p, double first, double second)
    {
        p.Gradient[0, 0] = first;
        p.Gradient[0, 1] = second;
    }
}
