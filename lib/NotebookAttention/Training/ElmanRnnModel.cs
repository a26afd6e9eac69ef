using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Recurrence;

namespace NotebookAttention.Training;

/// <summary>
/// The Elman RNN of <see cref="ElmanRnn"/>, made trainable: h_t = tanh(x_t W_x + h_{t-1} W_h + b) with h_{-1} = 0,
/// x_t the learned embedding of token t and a linear readout to the vocabulary at every position.
/// </summary>
/// <remarks>
/// <para>
/// The library's <see cref="ElmanRnn"/> writes the same recurrence with column vectors, h_t = tanh(W h_{t-1} + U x_t + b);
/// here states are rows so a whole batch is one [B x h] matrix and the weights are in the library's [in x out] layout:
/// W_h = Wᵀ and W_x = Uᵀ. <see cref="ToElmanRnn"/> hands the trained weights to <see cref="ElmanRnn"/>, whose
/// <see cref="ElmanRnn.GradientNorms"/> then measures how far back the trained network's gradients reach.
/// </para>
/// <para>
/// Backpropagation through time: with dH_t the gradient from the readout plus the one flowing back from step t + 1,
/// dA_t = dH_t ∘ (1 - H_t²), dW_x += X_tᵀ dA_t, dW_h += H_{t-1}ᵀ dA_t, db += column sums of dA_t,
/// dX_t = dA_t W_xᵀ, and dA_t W_hᵀ flows on to step t - 1. Every step back multiplies by W_hᵀ and by the tanh slope
/// (at most 1), which is why the gradient reaching early positions vanishes or explodes (Pascanu et al. 2013).
/// </para>
/// <para>Parameters: E [V x e], W_x [e x h], W_h [h x h], b [1 x h], W_y [h x V], b_y [1 x V].</para>
/// </remarks>
public sealed class ElmanRnnModel : RecurrentModel
{
    /// <summary>A seeded model; W_x and W_h ~ U(-1/sqrt(h), 1/sqrt(h)) as in torch.nn.RNN, b = 0.</summary>
    /// <param name="settings">Vocabulary, hidden and embedding sizes, seed.</param>
    public ElmanRnnModel(RecurrentSettings settings)
        : base("Elman RNN", settings, CreateCell)
    {
    }

    private Matrix<double> InputWeights => CellParameters[0].Value;

    private Matrix<double> RecurrentWeights => CellParameters[1].Value;

    private Matrix<double> Bias => CellParameters[2].Value;

    /// <summary>The same network as a <see cref="ElmanRnn"/> (column-vector form W = W_hᵀ, U = W_xᵀ), for its Jacobian tools.</summary>
    /// <returns>A copy of the current weights; it reads embedded inputs (<see cref="RecurrentModel.Embed"/>).</returns>
    public ElmanRnn ToElmanRnn() => new(RecurrentWeights.Transpose(), InputWeights.Transpose(), Bias.Row(0));

    /// <inheritdoc />
    protected override CellTrace Forward(IReadOnlyList<Matrix<double>> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var states = new Matrix<double>[inputs.Count];
        var bias = Broadcast(Bias, inputs[0].RowCount);                                                // 1 b, [B x h]
        var h = Matrix<double>.Build.Dense(inputs[0].RowCount, RecurrentWeights.RowCount);            // H_{-1} = 0, [B x h]
        for (var t = 0; t < inputs.Count; t++)
        {
            h = ((inputs[t] * InputWeights) + (h * RecurrentWeights) + bias).PointwiseTanh();          // H_t = tanh(X_t W_x + H_{t-1} W_h + 1 b)
            states[t] = h;
        }

        return new Trace(states);
    }

    /// <inheritdoc />
    protected override Matrix<double>[] Backward(IReadOnlyList<Matrix<double>> inputs, CellTrace trace, IReadOnlyList<Matrix<double>> stateGradients, IReadOnlyList<Matrix<double>> cellGradients)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(stateGradients);
        ArgumentNullException.ThrowIfNull(cellGradients);
        var (dInputWeights, dRecurrentWeights, dBias) = (cellGradients[0], cellGradients[1], cellGradients[2]);
        var states = trace.States;
        var input = Projection(InputWeights, Bias);
        var inputGradients = new Matrix<double>[inputs.Count];
        Matrix<double>? fromLater = null;                                                              // dLoss/dH_t through H_{t+1}
        for (var t = inputs.Count - 1; t >= 0; t--)
        {
            var dH = fromLater is null ? stateGradients[t] : stateGradients[t] + fromLater;            // [B x h]
            var dA = dH.PointwiseMultiply(states[t].Map(h => 1 - (h * h)));                           // through tanh
            var step = input.Backward(inputs[t], dA);
            Accumulate(dInputWeights, dBias, step);                                                    // dW_x += X_tᵀ dA_t, db += Σ_rows dA_t
            inputGradients[t] = step.DInput;                                                           // dX_t = dA_t W_xᵀ
            if (t > 0)
            {
                dRecurrentWeights.Add(states[t - 1].TransposeThisAndMultiply(dA), dRecurrentWeights);  // dW_h += H_{t-1}ᵀ dA_t
                fromLater = dA.TransposeAndMultiply(RecurrentWeights);                                 // dA_t W_hᵀ
            }
        }

        return inputGradients;
    }

    /// <inheritdoc />
    private protected override double[] ForwardFlat(double[] inputs, int rows, int steps, double[][] weights, out object trace)
    {
        var (e, h) = (Settings.Embedding, Settings.Hidden);
        var (wx, wh, b) = (weights[0], weights[1], weights[2]);
        var states = new double[steps * rows * h];                                                    // H, [steps x rows x h]
        for (var t = 0; t < steps; t++)
        {
            var a = states.AsSpan(t * rows * h, rows * h);
            FlatKernels.FillRows(a, b, rows);                                                         // b
            FlatKernels.MultiplyAdd(inputs, t * rows * e, wx, states, t * rows * h, rows, e, h);      // + X_t W_x
            if (t > 0)
            {
                FlatKernels.MultiplyAdd(states, (t - 1) * rows * h, wh, states, t * rows * h, rows, h, h);  // + H_{t-1} W_h
            }

            for (var r = 0; r < rows; r++)
            {
                // Row by row, so a sequence's states do not depend on how many others share its chunk: TensorPrimitives
                // takes a vector path for long spans and a scalar one for short, which can differ in the last bit.
                var row = a.Slice(r * h, h);
                TensorPrimitives.Tanh(row, row);
            }
        }

        trace = states;
        return states;
    }

    /// <inheritdoc />
    private protected override double[] BackwardFlat(double[] inputs, int rows, int steps, double[][] weights, double[][] transposed, object trace, double[] stateGradients, double[][] cellGradients)
    {
        var (e, h) = (Settings.Embedding, Settings.Hidden);
        var states = (double[])trace;
        var inputGradients = new double[steps * rows * e];
        var fromLater = new double[rows * h];
        var dA = new double[rows * h];
        for (var t = steps - 1; t >= 0; t--)
        {
            var dH = stateGradients.AsSpan(t * rows * h, rows * h);
            var state = states.AsSpan(t * rows * h, rows * h);
            for (var i = 0; i < dA.Length; i++)
            {
                dA[i] = (dH[i] + fromLater[i]) * (1 - (state[i] * state[i]));                           // through tanh
            }

            FlatKernels.TransposeMultiplyAdd(inputs, t * rows * e, dA, 0, cellGradients[0], rows, e, h);  // dW_x += X_tᵀ dA
            FlatKernels.AddColumnSums(dA, cellGradients[2], rows);                                        // db += Σ_rows dA
            FlatKernels.MultiplyTransposed(dA, 0, transposed[0], inputGradients, t * rows * e, rows, h, e);  // dX_t = dA W_xᵀ
            if (t > 0)
            {
                FlatKernels.TransposeMultiplyAdd(states, (t - 1) * rows * h, dA, 0, cellGradients[1], rows, h, h);  // dW_h += H_{t-1}ᵀ dA
                FlatKernels.MultiplyTransposed(dA, 0, transposed[1], fromLater, 0, rows, h, h);                      // dA W_hᵀ
            }
        }

        return inputGradients;
    }

    private static IReadOnlyList<Parameter> CreateCell(RecurrentSettings settings, Random random)
    {
        var bound = 1 / Math.Sqrt(settings.Hidden);
        return
        [
            new Parameter("elman.W_x", Uniform(random, settings.Embedding, settings.Hidden, bound)),
            new Parameter("elman.W_h", Uniform(random, settings.Hidden, settings.Hidden, bound)),
            new Parameter("elman.b", Matrix<double>.Build.Dense(1, settings.Hidden)),
        ];
    }

    private sealed record Trace(IReadOnlyList<Matrix<double>> States) : CellTrace(States);
}
