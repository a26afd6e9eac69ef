using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>Which implementation a recurrent model runs: both compute the same numbers (tests prove it).</summary>
public enum RecurrentPath
{
    /// <summary>MathNet matrices, one line per equation: the one to read.</summary>
    Reference,

    /// <summary>Flat row-major fp64 buffers and SIMD loops (<see cref="TensorPrimitives"/>): the one to train with.</summary>
    Fast,
}

/// <content>The fast path: the same steps as the reference path on flat row-major buffers.</content>
public abstract partial class RecurrentModel
{
    /// <summary>
    /// Which implementation <see cref="LossAndGradients"/> and <see cref="Evaluate"/> run: <see cref="RecurrentSettings.Path"/>,
    /// fixed when the model is made, as <see cref="TransformerSettings.Path"/> is for the transformer.
    /// </summary>
    public RecurrentPath Path => Settings.Path;

    /// <summary>
    /// The cell forward over a chunk on flat buffers: X is [steps x rows x e] (step-major), the result H is
    /// [steps x rows x h]; <paramref name="trace"/> keeps what <see cref="BackwardFlat"/> needs. <paramref name="weights"/>
    /// are the cell's parameters row-major, in the order of <see cref="CellParameters"/>.
    /// </summary>
    private protected abstract double[] ForwardFlat(double[] inputs, int rows, int steps, double[][] weights, out object trace);

    /// <summary>
    /// The cell's backpropagation through time on flat buffers: dH from the readout [steps x rows x h] in, cell
    /// gradients added to <paramref name="cellGradients"/> (row-major, same order as <see cref="CellParameters"/>),
    /// dX [steps x rows x e] out. <paramref name="transposed"/> holds each cell parameter transposed, row-major.
    /// </summary>
    private protected abstract double[] BackwardFlat(double[] inputs, int rows, int steps, double[][] weights, double[][] transposed, object trace, double[] stateGradients, double[][] cellGradients);

    private ChunkResult RunChunkFast(SequenceBatch batch, int first, int rows, int scored, bool backward, double[][] weights, double[][] transposed, Matrix<double>[]? inputGradientsOut)
    {
        var (n, e, h, v) = (batch.PaddedLength, Settings.Embedding, Settings.Hidden, VocabularySize);
        var (table, wy, by) = (weights[0], weights[^2], weights[^1]);
        var inputs = new double[n * rows * e];                                                     // X, [steps x rows x e]
        for (var t = 0; t < n; t++)
        {
            for (var r = 0; r < rows; r++)
            {
                table.AsSpan(batch.Inputs[first + r][t] * e, e).CopyTo(inputs.AsSpan(((t * rows) + r) * e, e));
            }
        }

        var states = ForwardFlat(inputs, rows, n, weights[1..^2], out var trace);
        var gradients = backward ? weights.Select(w => new double[w.Length]).ToArray() : null;
        var stateGradients = backward ? new double[n * rows * h] : [];
        var predictions = Enumerable.Range(0, rows).Select(_ => new int[n]).ToArray();
        var (lossSum, correct) = (0.0, 0);
        var logits = new double[rows * v];
        var dLogits = new double[rows * v];
        for (var t = 0; t < n; t++)
        {
            FlatKernels.FillRows(logits, by, rows);
            FlatKernels.MultiplyAdd(states, t * rows * h, wy, logits, 0, rows, h, v);                 // Z_t = H_t W_y + b_y
            var anyScored = false;
            for (var r = 0; r < rows; r++)
            {
                var target = batch.Targets[first + r][t];
                var rowGradient = dLogits.AsSpan(r * v, v);
                rowGradient.Clear();
                lossSum += SoftmaxCrossEntropy.Row(logits.AsSpan(r * v, v), target, scored, backward ? rowGradient : [], out predictions[r][t]);
                if (target != SequenceBatch.Ignored)
                {
                    anyScored = true;
                    correct += predictions[r][t] == target ? 1 : 0;
                }
            }

            if (gradients is not null && anyScored)
            {
                FlatKernels.TransposeMultiplyAdd(states, t * rows * h, dLogits, 0, gradients[^2], rows, h, v);       // dW_y += H_tᵀ dZ_t
                FlatKernels.AddColumnSums(dLogits, gradients[^1], rows);                                             // db_y += Σ_rows dZ_t
                FlatKernels.MultiplyTransposed(dLogits, 0, transposed[^2], stateGradients, t * rows * h, rows, v, h); // dH_t = dZ_t W_yᵀ
            }
        }

        double[]? inputNormSums = null;
        if (gradients is not null)
        {
            var inputGradients = BackwardFlat(inputs, rows, n, weights[1..^2], transposed[1..^2], trace, stateGradients, gradients[1..^2]);
            inputNormSums = new double[n];
            var dTable = gradients[0];
            for (var t = 0; t < n; t++)
            {
                for (var r = 0; r < rows; r++)
                {
                    var dx = inputGradients.AsSpan(((t * rows) + r) * e, e);
                    var row = dTable.AsSpan(batch.Inputs[first + r][t] * e, e);
                    TensorPrimitives.Add(row, dx, row);                                               // dE[token] += dX_t[r]
                    inputNormSums[t] += TensorPrimitives.Norm<double>(dx);
                }
            }

            if (inputGradientsOut is not null)
            {
                for (var r = 0; r < rows; r++)
                {
                    var row = r;
                    inputGradientsOut[first + r] = Matrix<double>.Build.Dense(n, e, (t, c) => inputGradients[(((t * rows) + row) * e) + c]);
                }
            }
        }

        var gradientMatrices = gradients?.Select((g, p) => Matrix<double>.Build.DenseOfRowMajor(Parameters[p].Value.RowCount, Parameters[p].Value.ColumnCount, g)).ToArray();
        return new ChunkResult(lossSum, correct, predictions, gradientMatrices, inputNormSums);
    }
}
