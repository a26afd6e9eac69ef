using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;

namespace NotebookAttention.Recurrence;

/// <summary>
/// A small Elman recurrent network, h_t = tanh(W h_{t-1} + U x_t + b) with h_{-1} = 0, and backpropagation through
/// time for the sensitivity of the last state to each input, d h_T / d x_t.
/// </summary>
/// <remarks>
/// d h_T / d x_t = D_T W D_{T-1} W ... D_{t+1} W D_t U with D_s = diag(1 - h_s^2): a product of T - t copies of W.
/// Pascanu et al. (2013): without tanh (a linear RNN) the spectral radius ρ of W sets the long-run rate of that
/// product: ρ &lt; 1 makes it shrink geometrically with the distance T - t (vanishing gradients) and ρ &gt; 1 makes it grow
/// (exploding gradients) except in degenerate cases. With tanh (slope at most 1) ρ alone decides nothing: the largest
/// singular value σ_max of W below 1 is sufficient for vanishing, and above 1 necessary, not sufficient, for exploding.
/// States near ±1 saturate tanh, whose slope 1 - h² then shrinks the factors it enters.
/// </remarks>
public sealed class ElmanRnn
{
    /// <summary>Creates a network from its weights.</summary>
    /// <param name="recurrent">W, [hidden x hidden].</param>
    /// <param name="input">U, [hidden x input].</param>
    /// <param name="bias">b, length hidden, or null for zero.</param>
    public ElmanRnn(Matrix<double> recurrent, Matrix<double> input, Vector<double>? bias = null)
    {
        Check.Finite(recurrent, "recurrent weight W", nameof(recurrent));
        Check.Finite(input, "input weight U", nameof(input));
        if (recurrent.RowCount != recurrent.ColumnCount || input.RowCount != recurrent.RowCount)
        {
            throw new ArgumentException($"W is {Check.Shape(recurrent)} and U is {Check.Shape(input)}: W must be square [hidden x hidden] and U must have hidden rows.", nameof(input));
        }

        if (bias is not null)
        {
            if (bias.Count != recurrent.RowCount)
            {
                throw new ArgumentException($"b has length {bias.Count} but W is {Check.Shape(recurrent)}: the bias needs one entry per hidden unit ({recurrent.RowCount}).", nameof(bias));
            }

            Check.Finite(bias.ToRowMatrix(), "bias b", nameof(bias));
        }

        Recurrent = recurrent;
        Input = input;
        Bias = bias ?? Vector<double>.Build.Dense(recurrent.RowCount);
    }

    /// <summary>W.</summary>
    public Matrix<double> Recurrent { get; }

    /// <summary>U.</summary>
    public Matrix<double> Input { get; }

    /// <summary>b.</summary>
    public Vector<double> Bias { get; }

    /// <summary>
    /// A seeded network whose recurrent matrix has exactly the given spectral radius (the largest |eigenvalue|):
    /// while the states stay small (tanh nearly linear) gradients change by about that radius per step in the long run.
    /// </summary>
    /// <param name="hidden">State size.</param>
    /// <param name="inputSize">Input vector length.</param>
    /// <param name="spectralRadius">The spectral radius of W.</param>
    /// <param name="seed">Seed.</param>
    /// <returns>The network (zero bias).</returns>
    public static ElmanRnn WithSpectralRadius(int hidden, int inputSize, double spectralRadius, int seed)
    {
        Check.AtLeast(hidden, 1, "hidden size", nameof(hidden));
        Check.AtLeast(inputSize, 1, "input size", nameof(inputSize));
        Check.Fits(hidden, Math.Max(hidden, inputSize), 2, "an Elman network with W and U", "choose a smaller hidden size", nameof(hidden));
        if (!(spectralRadius > 0 && double.IsFinite(spectralRadius)))
        {
            throw new ArgumentOutOfRangeException(nameof(spectralRadius), spectralRadius, $"the spectral radius is {spectralRadius}: it must be a finite number above 0 (1 keeps gradients steady).");
        }

        var normal = new Normal(0, 1, new Xoshiro256StarStar(seed, threadSafe: false));
        var w = Matrix<double>.Build.Random(hidden, hidden, normal);
        var radius = SpectralRadius(w);
        var u = Matrix<double>.Build.Random(hidden, inputSize, normal) / Math.Sqrt(inputSize);
        return new ElmanRnn(w * (spectralRadius / radius), u);
    }

    /// <summary>The largest absolute eigenvalue of a square matrix.</summary>
    public static double SpectralRadius(Matrix<double> matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        return matrix.Evd().EigenValues.Select(e => e.Magnitude).Max();
    }

    /// <summary>The states h_0 .. h_{T} for inputs x_0 .. x_T (one row each).</summary>
    /// <param name="inputs">X, [steps x input].</param>
    /// <returns>H, [steps x hidden].</returns>
    public Matrix<double> Forward(Matrix<double> inputs)
    {
        Check.Finite(inputs, "inputs X", nameof(inputs));
        if (inputs.ColumnCount != Input.ColumnCount)
        {
            throw new ArgumentException($"X is {Check.Shape(inputs)} but U is {Check.Shape(Input)}: each input needs {Input.ColumnCount} entries.", nameof(inputs));
        }

        var states = Matrix<double>.Build.Dense(inputs.RowCount, Recurrent.RowCount);
        var h = Vector<double>.Build.Dense(Recurrent.RowCount);
        for (var t = 0; t < inputs.RowCount; t++)
        {
            h = ((Recurrent * h) + (Input * inputs.Row(t)) + Bias).PointwiseTanh();
            states.SetRow(t, h);
        }

        // tanh keeps every state in [-1, 1]; a NaN means W h + U x + b overflowed fp64 (inf - inf).
        Check.NoOverflow(states, "the states H", "W, U or X is too large; scale them down", nameof(inputs));
        return states;
    }

    /// <summary>
    /// The Jacobian d h_T / d x_t of the last state with respect to input t, by backpropagation through time.
    /// </summary>
    /// <param name="inputs">X, [steps x input].</param>
    /// <param name="step">t.</param>
    /// <returns>[hidden x input].</returns>
    public Matrix<double> Jacobian(Matrix<double> inputs, int step)
    {
        var states = Forward(inputs);
        if ((uint)step >= (uint)inputs.RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"step {step} is not among the {inputs.RowCount} inputs: use 0 to {inputs.RowCount - 1}.");
        }

        return BackThroughTime(states, step);
    }

    /// <summary>
    /// ||d h_T / d x_t|| (Frobenius norm) for every t, with T the last step: how strongly each input still reaches
    /// the last state. One backward sweep computes all of them.
    /// </summary>
    /// <param name="inputs">X, [steps x input].</param>
    /// <returns>One norm per input position.</returns>
    public double[] GradientNorms(Matrix<double> inputs)
    {
        var states = Forward(inputs);
        var last = inputs.RowCount - 1;
        var norms = new double[inputs.RowCount];
        var carried = Derivative(states, last);                      // d h_T / d a_T, [hidden x hidden]
        for (var t = last; t >= 0; t--)
        {
            norms[t] = (carried * Input).FrobeniusNorm();             // d h_T / d x_t = (d h_T / d a_t) U
            if (t > 0)
            {
                carried = carried * Recurrent * Derivative(states, t - 1);
            }
        }

        return norms;
    }

    private Matrix<double> BackThroughTime(Matrix<double> states, int step)
    {
        var carried = Derivative(states, states.RowCount - 1);
        for (var t = states.RowCount - 1; t > step; t--)
        {
            carried = carried * Recurrent * Derivative(states, t - 1);
        }

        return carried * Input;
    }

    private static Matrix<double> Derivative(Matrix<double> states, int t) =>
        Matrix<double>.Build.DiagonalOfDiagonalVector(states.Row(t).Map(h => 1 - (h * h)));
}
