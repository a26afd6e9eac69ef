using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// A long short-term memory network (Hochreiter and Schmidhuber 1997) with the forget gate of Gers et al. (2000):
/// the recurrent model practitioners use against vanishing gradients, so the comparison with attention is fair.
/// </summary>
/// <remarks>
/// <para>
/// With rows as states ([B x h] for a chunk of B sequences), one step is
/// G_t = X_t W_x + H_{t-1} W_h + b, [B x 4h], cut into four [B x h] blocks:
/// I_t = σ(G_i) (input gate), F_t = σ(G_f) (forget gate), C̃_t = tanh(G_g) (candidate), O_t = σ(G_o) (output gate);
/// C_t = F_t ∘ C_{t-1} + I_t ∘ C̃_t and H_t = O_t ∘ tanh(C_t), with H_{-1} = C_{-1} = 0.
/// The cell state C_t is updated by addition, not squashed through a weight matrix: while F_t stays near 1 the gradient
/// flows back along C unchanged, which is what lets an LSTM carry a signal over many steps.
/// </para>
/// <para>
/// The forget gate's bias starts at 1 (Jozefowicz et al. 2015; <see cref="RecurrentSettings.ForgetBias"/> changes it):
/// F starts near σ(1) ≈ 0.73 instead of 0.5, so at the start of training the cell remembers rather than forgets. Over L
/// steps that still leaves σ(1)^L of a signal (1.6e-7 at L = 50): long distances need the model to learn larger forget
/// gates from a gradient that small. The other biases start at 0, the weights at
/// U(-1/sqrt(h), 1/sqrt(h)) as in torch.nn.LSTM.
/// </para>
/// <para>
/// Backpropagation through time, at step t with dH_t from the readout plus what flows back from t + 1:
/// dO = dH ∘ tanh(C_t); dC = dH ∘ O ∘ (1 - tanh²(C_t)) + dC_{t+1} ∘ F_{t+1};
/// dI = dC ∘ C̃; dC̃ = dC ∘ I; dF = dC ∘ C_{t-1};
/// dG = [dI ∘ I(1 - I), dF ∘ F(1 - F), dC̃ ∘ (1 - C̃²), dO ∘ O(1 - O)];
/// dW_x += X_tᵀ dG, dW_h += H_{t-1}ᵀ dG, db += column sums of dG, dX_t = dG W_xᵀ, and dG W_hᵀ flows on to H_{t-1}.
/// </para>
/// <para>Parameters: E [V x e], W_x [e x 4h], W_h [h x 4h], b [1 x 4h] (gate blocks in the order i, f, g, o), W_y [h x V], b_y [1 x V].</para>
/// </remarks>
public sealed class LstmModel : RecurrentModel
{
    /// <summary>A seeded model.</summary>
    /// <param name="settings">Vocabulary, hidden and embedding sizes, seed.</param>
    public LstmModel(RecurrentSettings settings)
        : base("LSTM", settings, CreateCell)
    {
    }

    private int Hidden => Settings.Hidden;

    private Matrix<double> InputWeights => CellParameters[0].Value;

    private Matrix<double> RecurrentWeights => CellParameters[1].Value;

    private Matrix<double> Bias => CellParameters[2].Value;

    /// <inheritdoc />
    protected override CellTrace Forward(IReadOnlyList<Matrix<double>> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var n = inputs.Count;
        var (states, cells, squashed) = (new Matrix<double>[n], new Matrix<double>[n], new Matrix<double>[n]);
        var (inputGates, forgetGates, candidates, outputGates) = (new Matrix<double>[n], new Matrix<double>[n], new Matrix<double>[n], new Matrix<double>[n]);
        var rows = inputs[0].RowCount;
        var h = Matrix<double>.Build.Dense(rows, Hidden);                                              // H_{-1} = 0
        var c = Matrix<double>.Build.Dense(rows, Hidden);                                              // C_{-1} = 0
        var bias = Broadcast(Bias, rows);                                                              // 1 b, [B x 4h]
        for (var t = 0; t < n; t++)
        {
            var gates = (inputs[t] * InputWeights) + (h * RecurrentWeights) + bias;                    // G_t = X_t W_x + H_{t-1} W_h + 1 b, [B x 4h]
            inputGates[t] = Gate(gates, 0).Map(Sigmoid);                                               // I_t
            forgetGates[t] = Gate(gates, 1).Map(Sigmoid);                                              // F_t
            candidates[t] = Gate(gates, 2).PointwiseTanh();                                            // C̃_t
            outputGates[t] = Gate(gates, 3).Map(Sigmoid);                                              // O_t
            c = forgetGates[t].PointwiseMultiply(c) + inputGates[t].PointwiseMultiply(candidates[t]);  // C_t = F ∘ C_{t-1} + I ∘ C̃
            squashed[t] = c.PointwiseTanh();
            h = outputGates[t].PointwiseMultiply(squashed[t]);                                         // H_t = O ∘ tanh(C_t)
            (states[t], cells[t]) = (h, c);
        }

        return new Trace(states, cells, squashed, inputGates, forgetGates, candidates, outputGates);
    }

    /// <inheritdoc />
    protected override Matrix<double>[] Backward(IReadOnlyList<Matrix<double>> inputs, CellTrace trace, IReadOnlyList<Matrix<double>> stateGradients, IReadOnlyList<Matrix<double>> cellGradients)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(stateGradients);
        ArgumentNullException.ThrowIfNull(cellGradients);
        var s = trace as Trace ?? throw new ArgumentException("the trace was not made by this LSTM's forward pass.", nameof(trace));
        var (dInputWeights, dRecurrentWeights, dBias) = (cellGradients[0], cellGradients[1], cellGradients[2]);
        var n = inputs.Count;
        var rows = inputs[0].RowCount;
        var inputGradients = new Matrix<double>[n];
        var input = Projection(InputWeights, Bias);
        Matrix<double>? stateFromLater = null;                                                         // dLoss/dH_t through step t + 1
        Matrix<double>? cellFromLater = null;                                                          // dLoss/dC_t through step t + 1
        for (var t = n - 1; t >= 0; t--)
        {
            var dH = stateFromLater is null ? stateGradients[t] : stateGradients[t] + stateFromLater;
            var (i, f, g, o, tanhC) = (s.InputGates[t], s.ForgetGates[t], s.Candidates[t], s.OutputGates[t], s.Squashed[t]);
            var previousCell = t > 0 ? s.Cells[t - 1] : Matrix<double>.Build.Dense(rows, Hidden);
            var dO = dH.PointwiseMultiply(tanhC);
            var dC = dH.PointwiseMultiply(o).PointwiseMultiply(tanhC.Map(x => 1 - (x * x)));
            if (cellFromLater is not null)
            {
                dC += cellFromLater;
            }

            var dGates = Matrix<double>.Build.Dense(rows, 4 * Hidden);                                 // dG_t, [B x 4h]
            dGates.SetSubMatrix(0, 0 * Hidden, dC.PointwiseMultiply(g).PointwiseMultiply(i.Map(x => x * (1 - x))));              // dI ∘ σ'
            dGates.SetSubMatrix(0, 1 * Hidden, dC.PointwiseMultiply(previousCell).PointwiseMultiply(f.Map(x => x * (1 - x))));   // dF ∘ σ'
            dGates.SetSubMatrix(0, 2 * Hidden, dC.PointwiseMultiply(i).PointwiseMultiply(g.Map(x => 1 - (x * x))));              // dC̃ ∘ tanh'
            dGates.SetSubMatrix(0, 3 * Hidden, dO.PointwiseMultiply(o.Map(x => x * (1 - x))));                                    // dO ∘ σ'
            var step = input.Backward(inputs[t], dGates);
            Accumulate(dInputWeights, dBias, step);                                                    // dW_x += X_tᵀ dG, db += Σ_rows dG
            inputGradients[t] = step.DInput;                                                           // dX_t = dG W_xᵀ
            if (t > 0)
            {
                dRecurrentWeights.Add(s.States[t - 1].TransposeThisAndMultiply(dGates), dRecurrentWeights);  // dW_h += H_{t-1}ᵀ dG
                stateFromLater = dGates.TransposeAndMultiply(RecurrentWeights);                        // dG W_hᵀ
                cellFromLater = dC.PointwiseMultiply(f);                                               // dC ∘ F_t
            }
        }

        return inputGradients;
    }

    /// <inheritdoc />
    private protected override double[] ForwardFlat(double[] inputs, int rows, int steps, double[][] weights, out object trace)
    {
        var (e, h) = (Settings.Embedding, Settings.Hidden);
        var (wx, wh, b) = (weights[0], weights[1], weights[2]);
        var gates = new double[steps * rows * 4 * h];                                                 // activated I | F | C̃ | O per row
        var (states, cells, squashed) = (new double[steps * rows * h], new double[steps * rows * h], new double[steps * rows * h]);
        for (var t = 0; t < steps; t++)
        {
            var g = gates.AsSpan(t * rows * 4 * h, rows * 4 * h);
            FlatKernels.FillRows(g, b, rows);
            FlatKernels.MultiplyAdd(inputs, t * rows * e, wx, gates, t * rows * 4 * h, rows, e, 4 * h);      // + X_t W_x
            if (t > 0)
            {
                FlatKernels.MultiplyAdd(states, (t - 1) * rows * h, wh, gates, t * rows * 4 * h, rows, h, 4 * h);  // + H_{t-1} W_h
            }

            for (var r = 0; r < rows; r++)
            {
                var row = g.Slice(r * 4 * h, 4 * h);
                TensorPrimitives.Sigmoid(row[..(2 * h)], row[..(2 * h)]);           // I, F
                TensorPrimitives.Tanh(row.Slice(2 * h, h), row.Slice(2 * h, h));    // C̃
                TensorPrimitives.Sigmoid(row.Slice(3 * h, h), row.Slice(3 * h, h)); // O
                var at = ((t * rows) + r) * h;
                for (var j = 0; j < h; j++)
                {
                    var previous = t > 0 ? cells[at - (rows * h) + j] : 0;
                    var c = (row[h + j] * previous) + (row[j] * row[(2 * h) + j]);                          // C = F ∘ C_{t-1} + I ∘ C̃
                    cells[at + j] = c;
                    squashed[at + j] = Math.Tanh(c);
                    states[at + j] = row[(3 * h) + j] * squashed[at + j];                                  // H = O ∘ tanh(C)
                }
            }
        }

        trace = new FlatTrace(states, cells, squashed, gates);
        return states;
    }

    /// <inheritdoc />
    private protected override double[] BackwardFlat(double[] inputs, int rows, int steps, double[][] weights, double[][] transposed, object trace, double[] stateGradients, double[][] cellGradients)
    {
        var (e, h) = (Settings.Embedding, Settings.Hidden);
        var (states, cells, squashed, gates) = (FlatTrace)trace;
        var inputGradients = new double[steps * rows * e];
        var stateFromLater = new double[rows * h];
        var cellFromLater = new double[rows * h];
        var dGates = new double[rows * 4 * h];
        for (var t = steps - 1; t >= 0; t--)
        {
            for (var r = 0; r < rows; r++)
            {
                var at = ((t * rows) + r) * h;
                var gate = gates.AsSpan(((t * rows) + r) * 4 * h, 4 * h);
                var dGate = dGates.AsSpan(r * 4 * h, 4 * h);
                for (var j = 0; j < h; j++)
                {
                    var (i, f, g, o, tanhC) = (gate[j], gate[h + j], gate[(2 * h) + j], gate[(3 * h) + j], squashed[at + j]);
                    var dH = stateGradients[at + j] + stateFromLater[(r * h) + j];
                    var dO = dH * tanhC;
                    var dC = (dH * o * (1 - (tanhC * tanhC))) + cellFromLater[(r * h) + j];
                    var previous = t > 0 ? cells[at - (rows * h) + j] : 0;
                    dGate[j] = dC * g * (i * (1 - i));                                                    // dI ∘ σ'
                    dGate[h + j] = dC * previous * (f * (1 - f));                                         // dF ∘ σ'
                    dGate[(2 * h) + j] = dC * i * (1 - (g * g));                                          // dC̃ ∘ tanh'
                    dGate[(3 * h) + j] = dO * (o * (1 - o));                                              // dO ∘ σ'
                    cellFromLater[(r * h) + j] = dC * f;                                                  // dC ∘ F_t, for step t - 1
                }
            }

            FlatKernels.TransposeMultiplyAdd(inputs, t * rows * e, dGates, 0, cellGradients[0], rows, e, 4 * h);        // dW_x += X_tᵀ dG
            FlatKernels.AddColumnSums(dGates, cellGradients[2], rows);                                                  // db += Σ_rows dG
            FlatKernels.MultiplyTransposed(dGates, 0, transposed[0], inputGradients, t * rows * e, rows, 4 * h, e);     // dX_t = dG W_xᵀ
            if (t > 0)
            {
                FlatKernels.TransposeMultiplyAdd(states, (t - 1) * rows * h, dGates, 0, cellGradients[1], rows, h, 4 * h);  // dW_h += H_{t-1}ᵀ dG
                FlatKernels.MultiplyTransposed(dGates, 0, transposed[1], stateFromLater, 0, rows, 4 * h, h);                // dG W_hᵀ
            }
        }

        return inputGradients;
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>Block k (0 = i, 1 = f, 2 = g, 3 = o) of the [B x 4h] gate pre-activations.</summary>
    private Matrix<double> Gate(Matrix<double> gates, int k) => gates.SubMatrix(0, gates.RowCount, k * Hidden, Hidden);

    private static IReadOnlyList<Parameter> CreateCell(RecurrentSettings settings, Random random)
    {
        var h = settings.Hidden;
        var bound = 1 / Math.Sqrt(h);
        if (!double.IsFinite(settings.ForgetBias))
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.ForgetBias, $"the forget-gate bias is {settings.ForgetBias}: it must be a finite number (1 is the usual start).");
        }

        var bias = Matrix<double>.Build.Dense(1, 4 * h, (_, column) => column >= h && column < 2 * h ? settings.ForgetBias : 0.0);  // forget gate b_f
        return
        [
            new Parameter("lstm.W_x (i|f|g|o)", Uniform(random, settings.Embedding, 4 * h, bound)),
            new Parameter("lstm.W_h (i|f|g|o)", Uniform(random, h, 4 * h, bound)),
            new Parameter("lstm.b (i|f|g|o)", bias),
        ];
    }

    private sealed record FlatTrace(double[] States, double[] Cells, double[] Squashed, double[] Gates);

    private sealed record Trace(
        IReadOnlyList<Matrix<double>> States,
        IReadOnlyList<Matrix<double>> Cells,
        IReadOnlyList<Matrix<double>> Squashed,
        IReadOnlyList<Matrix<double>> InputGates,
        IReadOnlyList<Matrix<double>> ForgetGates,
        IReadOnlyList<Matrix<double>> Candidates,
        IReadOnlyList<Matrix<double>> OutputGates) : CellTrace(States);
}
