using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Training;

/// <summary>
/// The position-wise feed-forward sublayer of a transformer: FF(X) = GELU(X W_1 + b_1) W_2 + b_2, the same two
/// projections applied to every token vector on its own, widening d_model to d_ff and back.
/// </summary>
/// <remarks>
/// GELU instead of the paper's ReLU: GELU is smooth everywhere, so the central finite differences that check the
/// backward pass are honest at every input (ReLU's kink at 0 makes a difference quotient straddling it wrong by up to
/// half the slope jump), and it is what BERT and GPT use. See <see cref="Gelu"/>.
/// </remarks>
public sealed class FeedForward
{
    /// <summary>A feed-forward sublayer from its two projections.</summary>
    /// <param name="first">W_1 [d_model x d_ff] and b_1.</param>
    /// <param name="second">W_2 [d_ff x d_model] and b_2.</param>
    /// <exception cref="ArgumentException">The projections do not chain.</exception>
    public FeedForward(LinearProjection first, LinearProjection second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.OutputSize != second.InputSize)
        {
            throw new ArgumentException($"W_1 is {Check.Shape(first.Weight)} but W_2 is {Check.Shape(second.Weight)}: W_2 needs {first.OutputSize} rows, one per hidden unit.", nameof(second));
        }

        First = first;
        Second = second;
    }

    /// <summary>W_1 [d_model x d_ff] and b_1.</summary>
    public LinearProjection First { get; }

    /// <summary>W_2 [d_ff x d_model] and b_2.</summary>
    public LinearProjection Second { get; }

    /// <summary>FF(X) = GELU(X W_1 + b_1) W_2 + b_2.</summary>
    /// <param name="input">X, shape [tokens x d_model].</param>
    /// <returns>Every step: H = X W_1 + b_1, G = GELU(H), Y = G W_2 + b_2.</returns>
    public FeedForwardResult Forward(Matrix<double> input)
    {
        var hidden = First.Apply(input);        // H [tokens x d_ff]
        var activated = Gelu.Apply(hidden);     // G [tokens x d_ff]
        var output = Second.Apply(activated);   // Y [tokens x d_model]
        return new FeedForwardResult(input, hidden, activated, output);
    }

    /// <summary>Backward pass: dG, dW_2, db_2 from the second projection; dH = dG ∘ GELU'(H); dX, dW_1, db_1 from the first.</summary>
    /// <param name="forward">This sublayer's forward result.</param>
    /// <param name="outputGradient">dY, shape [tokens x d_model].</param>
    /// <returns>dX and both projections' gradients.</returns>
    public FeedForwardGradients Backward(FeedForwardResult forward, Matrix<double> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(forward);
        var second = Second.Backward(forward.Activated, outputGradient);            // dG, dW_2, db_2
        var hiddenGradient = Gelu.Backward(forward.Hidden, second.DInput);          // dH
        var first = First.Backward(forward.Input, hiddenGradient);                  // dX, dW_1, db_1
        return new FeedForwardGradients(first.DInput, first, second);
    }
}

/// <summary>
/// GELU in its tanh form (Hendrycks and Gimpel 2016), as GPT-2 uses it:
/// GELU(x) = x/2 (1 + tanh(c (x + 0.044715 x³))), c = sqrt(2/π).
/// </summary>
/// <remarks>
/// It differs from the exact x Φ(x) by less than 1e-3 and needs one tanh instead of erf, which the fast path gets
/// vectorised from TensorPrimitives. Its derivative, with u = c (x + 0.044715 x³) and t = tanh(u):
/// GELU'(x) = (1 + t)/2 + x/2 (1 - t²) c (1 + 3·0.044715 x²).
/// </remarks>
public static class Gelu
{
    /// <summary>c = sqrt(2/π).</summary>
    public static readonly double C = Math.Sqrt(2 / Math.PI);

    /// <summary>The cubic coefficient 0.044715.</summary>
    public const double Cubic = 0.044715;

    /// <summary>GELU(x) for one number.</summary>
    /// <param name="x">A pre-activation h of the feed-forward layer, any real number.</param>
    /// <returns>x/2 (1 + tanh(c (x + 0.044715 x³))).</returns>
    public static double Of(double x) => 0.5 * x * (1 + Math.Tanh(C * (x + (Cubic * x * x * x))));

    /// <summary>GELU'(x) for one number (see the remarks).</summary>
    /// <param name="x">Input.</param>
    /// <returns>The slope at x.</returns>
    public static double Slope(double x) => Slope(x, Math.Tanh(C * (x + (Cubic * x * x * x))));

    /// <summary>GELU'(x) given t = tanh(c (x + 0.044715 x³)) from the forward pass (the fast path keeps it).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static double Slope(double x, double t) =>
        (0.5 * (1 + t)) + (0.5 * x * (1 - (t * t)) * C * (1 + (3 * Cubic * x * x)));

    /// <summary>GELU of every entry.</summary>
    /// <param name="input">H.</param>
    /// <returns>GELU(H), the same shape.</returns>
    public static Matrix<double> Apply(Matrix<double> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Map(Of, Zeros.Include);
    }

    /// <summary>Backward pass of G = GELU(H): dH = dG ∘ GELU'(H).</summary>
    /// <param name="input">H, the forward pass's input.</param>
    /// <param name="outputGradient">dG, the same shape.</param>
    /// <returns>dH.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Matrix<double> Backward(Matrix<double> input, Matrix<double> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(outputGradient);
        if (input.RowCount != outputGradient.RowCount || input.ColumnCount != outputGradient.ColumnCount)
        {
            throw new ArgumentException($"H is {Check.Shape(input)} but dG is {Check.Shape(outputGradient)}: the gradient has the input's shape.", nameof(outputGradient));
        }

        return input.Map(Slope, Zeros.Include).PointwiseMultiply(outputGradient);
    }
}

/// <summary>What <see cref="FeedForward.Forward"/> computed.</summary>
/// <param name="Input">X, [tokens x d_model].</param>
/// <param name="Hidden">H = X W_1 + b_1, [tokens x d_ff].</param>
/// <param name="Activated">G = GELU(H), [tokens x d_ff].</param>
/// <param name="Output">Y = G W_2 + b_2, [tokens x d_model].</param>
public sealed record FeedForwardResult(Matrix<double> Input, Matrix<double> Hidden, Matrix<double> Activated, Matrix<double> Output);

/// <summary>The gradients of a feed-forward sublayer.</summary>
/// <param name="DInput">dX, [tokens x d_model].</param>
/// <param name="First">dW_1 [d_model x d_ff] and db_1 (with dX).</param>
/// <param name="Second">dW_2 [d_ff x d_model] and db_2 (with dG).</param>
public sealed record FeedForwardGradients(Matrix<double> DInput, LinearProjectionGradients First, LinearProjectionGradients Second);
