using System.Collections.Concurrent;
using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// The fast path: the reference path's equations on flat row-major fp64 arrays, every product through
/// <see cref="RowMajorProduct"/> and every row operation through TensorPrimitives, with no MathNet call per step.
/// </summary>
/// <remarks>
/// Same steps, same order, so the same numbers up to rounding (tests hold it to 1e-12 relative). Two savings the
/// reference path does not make: attention is computed only over the real tokens (the padding mask makes every other
/// entry 0), and the backward pass skips rows whose gradient is exactly zero (positions nothing is scored at, in the
/// layers above the last attention), which is exact because a skipped term is zero.
/// </remarks>
public sealed partial class TransformerModel
{
    private readonly ConcurrentBag<FastWorkspace> workspaces = [];
    private FastWeights? fastWeights;

    private ChunkResult FastChunk(SequenceBatch batch, int chunk, int scoredInBatch, bool backward)
    {
        var weights = fastWeights!;
        if (!workspaces.TryTake(out var work) || work.Length < batch.PaddedLength)
        {
            work = new FastWorkspace(Settings, batch.PaddedLength);
        }

        try
        {
            var gradients = backward ? parameters.Select(p => new double[p.Count]).ToArray() : null;
            var inputNormSums = new double[batch.PaddedLength];
            var predictions = new List<IReadOnlyList<int>>();
            double lossSum = 0;
            var correct = 0;
            for (var sequence = chunk * ChunkSize; sequence < Math.Min(batch.Count, (chunk + 1) * ChunkSize); sequence++)
            {
                var (loss, right, predicted) = ForwardFast(weights, work, batch, sequence, Math.Max(1, scoredInBatch), backward);
                lossSum += loss;
                correct += right;
                predictions.Add(predicted);
                if (gradients is not null)
                {
                    BackwardFast(weights, work, batch, sequence, gradients, inputNormSums);
                }
            }

            var matrices = gradients?.Select((g, p) => Matrix<double>.Build.DenseOfRowMajor(parameters[p].Value.RowCount, parameters[p].Value.ColumnCount, g)).ToArray();
            return new ChunkResult(lossSum, correct, predictions, inputNormSums, matrices);
        }
        finally
        {
            workspaces.Add(work);
        }
    }

    /// <summary>
    /// The forward pass of one sequence into the workspace; returns its summed loss, correct count and predictions.
    /// With <paramref name="logitGradient"/>, the logits' scored rows are overwritten by dZ = (P - onehot(y)) / N for
    /// <see cref="BackwardFast"/>, which reads only the scored rows (dZ is 0 on the others).
    /// </summary>
    private (double Loss, int Correct, int[] Predictions) ForwardFast(FastWeights w, FastWorkspace work, SequenceBatch batch, int sequence, int scoredInBatch, bool logitGradient)
    {
        var d = Settings.DModel;
        var n = batch.PaddedLength;
        var length = batch.Lengths[sequence];
        var ids = batch.Inputs[sequence];
        var all = FastWorkspace.Range(n);
        var real = FastWorkspace.Range(length);
        var x = work.Layers[0].Input;
        for (var t = 0; t < n; t++)
        {
            TensorPrimitives.Add(w.Rows[0].AsSpan(ids[t] * d, d), w.Rows[1].AsSpan(t * d, d), x.AsSpan(t * d, d));   // x_t = E[id_t] + P[t]
        }

        for (var layer = 0; layer < blocks.Length; layer++)
        {
            var at = 2 + (layer * PerLayer);
            var l = work.Layers[layer];
            var output = layer + 1 < blocks.Length ? work.Layers[layer + 1].Input : work.FinalInput;
            LayerNormRows(l.Input, w.Rows[at], w.Rows[at + 1], l.Normalized1, l.Norm1, l.Inverse1, n, d);          // LN(x)
            Project(l.Norm1, w, at + 2, l.Queries, all, d, d);                                                       // Q = LN(x) W_Q + b_Q
            Project(l.Norm1, w, at + 4, l.Keys, all, d, d);
            Project(l.Norm1, w, at + 6, l.Values, all, d, d);
            Array.Clear(l.Concatenated, 0, n * d);
            for (var head = 0; head < Settings.Heads; head++)
            {
                AttentionHeadForward(work, l, head, n, length);                                                     // head_i = softmax(Q_i K_i^T s) V_i
            }

            Array.Clear(l.Attended, 0, n * d);
            Project(l.Concatenated, w, at + 8, l.Attended, real, d, d);                                              // rows of padding stay 0
            TensorPrimitives.Add(l.Input.AsSpan(0, n * d), l.Attended.AsSpan(0, n * d), l.Hidden.AsSpan(0, n * d)); // h = x + MHA(LN(x))
            LayerNormRows(l.Hidden, w.Rows[at + 10], w.Rows[at + 11], l.Normalized2, l.Norm2, l.Inverse2, n, d);   // LN(h)
            var f = Settings.FeedForward;
            Project(l.Norm2, w, at + 12, l.PreActivation, all, d, f);                                               // H = LN(h) W_1 + b_1
            GeluRows(l.PreActivation, l.Tanh, l.Activated, n * f);                                                  // G = GELU(H)
            Array.Copy(l.Hidden, output, n * d);
            for (var t = 0; t < n; t++)
            {
                TensorPrimitives.Add(output.AsSpan(t * d, d), w.Rows[at + 15], output.AsSpan(t * d, d));
            }

            RowMajorProduct.MultiplyAdd(l.Activated, 0, f, 1, w.Rows[at + 14], 0, d, output, 0, d, all, FastWorkspace.Range(f), d); // x' = h + G W_2 + b_2
        }

        var last = parameters.Count - 4;
        var v = VocabularySize;
        LayerNormRows(work.FinalInput, w.Rows[last], w.Rows[last + 1], work.FinalNormalized, work.FinalNorm, work.FinalInverse, n, d);
        Project(work.FinalNorm, w, last + 2, work.Probabilities, all, d, v);                                       // Z = LN(x) W + b

        double loss = 0;
        var correct = 0;
        var predictions = new int[n];
        var targets = batch.Targets[sequence];
        for (var t = 0; t < n; t++)
        {
            // The reference path's softmax cross-entropy, one row at a time; the logits are copied out first because
            // their row receives dZ.
            var row = work.Probabilities.AsSpan(t * v, v);
            var logits = work.Row.AsSpan(0, v);
            row.CopyTo(logits);

            loss += SoftmaxCrossEntropy.Row(logits, targets[t], scoredInBatch, logitGradient ? row : [], out predictions[t]);   // -log p_y
            correct += targets[t] != SequenceBatch.Ignored && predictions[t] == targets[t] ? 1 : 0;
        }

        return (loss, correct, predictions);
    }

    /// <summary>One head's scores, masked softmax and weighted sum over the real tokens.</summary>
    private void AttentionHeadForward(FastWorkspace work, FastLayer l, int head, int n, int length)
    {
        var d = Settings.DModel;
        var width = d / Settings.Heads;
        var offset = head * width;
        var scale = 1 / Math.Sqrt(width);
        var weights = l.Weights[head];
        var keysTransposed = work.Transposed;                                   // K_i^T [width x length]
        for (var j = 0; j < length; j++)
        {
            for (var c = 0; c < width; c++)
            {
                keysTransposed[(c * length) + j] = l.Keys[(j * d) + offset + c];
            }
        }

        var scores = work.Square;                                               // S_i [length x length], row stride n
        for (var i = 0; i < length; i++)
        {
            Array.Clear(scores, i * n, length);
        }

        RowMajorProduct.MultiplyAdd(l.Queries, offset, d, 1, keysTransposed, 0, length, scores, 0, n, FastWorkspace.Range(length), FastWorkspace.Range(width), length);
        Array.Clear(weights, 0, n * n);
        for (var i = 0; i < length; i++)
        {
            var visible = Settings.Causal ? i + 1 : length;                     // keys 0 .. visible - 1 are allowed
            var row = scores.AsSpan(i * n, visible);
            var a = weights.AsSpan(i * n, visible);
            TensorPrimitives.Multiply(row, scale, a);                           // s q_i . k_j
            TensorPrimitives.Subtract(a, TensorPrimitives.Max(a), a);
            TensorPrimitives.Exp(a, a);
            TensorPrimitives.Divide(a, TensorPrimitives.Sum(a), a);             // softmax over the allowed keys; masked stay 0
        }

        RowMajorProduct.MultiplyAdd(weights, 0, n, 1, l.Values, offset, d, l.Concatenated, offset, d, FastWorkspace.Range(length), FastWorkspace.Range(length), width);
    }

    /// <summary>The backward pass of one sequence (after <see cref="ForwardFast"/> on the same workspace).</summary>
    private void BackwardFast(FastWeights w, FastWorkspace work, SequenceBatch batch, int sequence, double[][] g, double[] inputNormSums)
    {
        var d = Settings.DModel;
        var f = Settings.FeedForward;
        var v = VocabularySize;
        var n = batch.PaddedLength;
        var length = batch.Lengths[sequence];
        var targets = batch.Targets[sequence];
        var last = parameters.Count - 4;

        // dZ = (P - onehot(y)) / N on scored rows, 0 elsewhere: ForwardFast wrote the scored rows in place of the logits,
        // and only those rows are read below.
        var logitGradient = work.Probabilities;
        var scored = new List<int>();
        for (var t = 0; t < n; t++)
        {
            if (targets[t] != SequenceBatch.Ignored)
            {
                scored.Add(t);
            }
        }

        var dx = work.Gradient;
        var rows = work.RowList;
        Array.Clear(work.Scratch, 0, n * d);
        LinearBackward(logitGradient, work.FinalNorm, w, g, last + 2, work.Scratch, CollectionsMarshal(scored), n, d, v);
        LayerNormBackward(work.Scratch, work.FinalNormalized, work.FinalInverse, w.Rows[last], dx, g[last], g[last + 1], n, d);

        for (var layer = blocks.Length - 1; layer >= 0; layer--)
        {
            var at = 2 + (layer * PerLayer);
            var l = work.Layers[layer];

            // x' = h + FF(LN2(h)): dG, dW_2, db_2; dH = dG ∘ GELU'(H); d LN2 out, dW_1, db_1; dh = dx' + LN2 backward.
            var active = NonZeroRows(dx, n, d, rows);
            Array.Clear(work.Wide, 0, n * f);
            LinearBackward(dx, l.Activated, w, g, at + 14, work.Wide, active, n, f, d);
            GeluBackwardRows(l.PreActivation, l.Tanh, work.Wide, n * f);
            Array.Clear(work.Scratch, 0, n * d);
            LinearBackward(work.Wide, l.Norm2, w, g, at + 12, work.Scratch, active, n, d, f);
            var dh = work.Hidden;
            LayerNormBackward(work.Scratch, l.Normalized2, l.Inverse2, w.Rows[at + 10], dh, g[at + 10], g[at + 11], n, d);
            TensorPrimitives.Add(dh.AsSpan(0, n * d), dx.AsSpan(0, n * d), dh.AsSpan(0, n * d));

            // h = x + MHA(LN1(x)): fully masked (padding) query rows had output 0, so only real rows pass gradient on.
            var queries = NonZeroRows(dh, length, d, rows);
            Array.Clear(work.Concatenated, 0, n * d);
            LinearBackward(dh, l.Concatenated, w, g, at + 8, work.Concatenated, queries, n, d, d);
            Array.Clear(work.DQueries, 0, n * d);
            Array.Clear(work.DKeys, 0, n * d);
            Array.Clear(work.DValues, 0, n * d);
            for (var head = 0; head < Settings.Heads && queries.Length > 0; head++)
            {
                AttentionHeadBackward(work, l, head, n, length, queries);
            }

            var keys = queries.Length > 0 ? FastWorkspace.Range(length) : [];
            Array.Clear(work.Scratch, 0, n * d);
            LinearBackward(work.DQueries, l.Norm1, w, g, at + 2, work.Scratch, queries, n, d, d);
            LinearBackward(work.DKeys, l.Norm1, w, g, at + 4, work.Scratch, keys, n, d, d);
            LinearBackward(work.DValues, l.Norm1, w, g, at + 6, work.Scratch, keys, n, d, d);
            LayerNormBackward(work.Scratch, l.Normalized1, l.Inverse1, w.Rows[at], dx, g[at], g[at + 1], n, d);
            TensorPrimitives.Add(dx.AsSpan(0, n * d), dh.AsSpan(0, n * d), dx.AsSpan(0, n * d));        // dx = dh + LN1 backward
        }

        var ids = batch.Inputs[sequence];
        for (var t = 0; t < n; t++)
        {
            var row = dx.AsSpan(t * d, d);
            TensorPrimitives.Add(g[0].AsSpan(ids[t] * d, d), row, g[0].AsSpan(ids[t] * d, d));   // dE[id_t] += dx_t
            TensorPrimitives.Add(g[1].AsSpan(t * d, d), row, g[1].AsSpan(t * d, d));               // dP[t] += dx_t
            inputNormSums[t] += TensorPrimitives.Norm(row);
        }

        static ReadOnlySpan<int> CollectionsMarshal(List<int> list) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list);
    }

    /// <summary>One head's backward pass for the query rows that carry gradient: dA, dV, dS, dQ, dK.</summary>
    private void AttentionHeadBackward(FastWorkspace work, FastLayer l, int head, int n, int length, ReadOnlySpan<int> queries)
    {
        var d = Settings.DModel;
        var width = d / Settings.Heads;
        var offset = head * width;
        var scale = 1 / Math.Sqrt(width);
        var weights = l.Weights[head];
        var valuesTransposed = work.Transposed;                                  // V_i^T [width x length]
        for (var j = 0; j < length; j++)
        {
            for (var c = 0; c < width; c++)
            {
                valuesTransposed[(c * length) + j] = l.Values[(j * d) + offset + c];
            }
        }

        var scoreGradient = work.Square;                                         // dA, then dS in place, row stride n
        foreach (var i in queries)
        {
            Array.Clear(scoreGradient, i * n, length);
        }

        var all = FastWorkspace.Range(length);
        RowMajorProduct.MultiplyAdd(work.Concatenated, offset, d, 1, valuesTransposed, 0, length, scoreGradient, 0, n, queries, FastWorkspace.Range(width), length); // dA = dO V^T
        RowMajorProduct.MultiplyAdd(weights, 0, 1, n, work.Concatenated, offset, d, work.DValues, offset, d, all, queries, width);                                   // dV = A^T dO
        foreach (var i in queries)
        {
            var visible = Settings.Causal ? i + 1 : length;
            var a = weights.AsSpan(i * n, visible);
            var row = scoreGradient.AsSpan(i * n, visible);
            var rowSum = TensorPrimitives.Dot(row, a);                              // rowsum(dA ∘ A)
            TensorPrimitives.Subtract(row, rowSum, row);
            TensorPrimitives.Multiply(row, a, row);                                 // dS = A ∘ (dA - rowsum)
            TensorPrimitives.Multiply(row, scale, row);                             // s dS
            scoreGradient.AsSpan((i * n) + visible, length - visible).Clear();      // masked keys: 0
        }

        RowMajorProduct.MultiplyAdd(scoreGradient, 0, n, 1, l.Keys, offset, d, work.DQueries, offset, d, queries, all, width);   // dQ = s dS K
        RowMajorProduct.MultiplyAdd(scoreGradient, 0, 1, n, l.Queries, offset, d, work.DKeys, offset, d, all, queries, width);  // dK = s dS^T Q
    }

    /// <summary>Y = X W + b for the given rows of Y (row-major, Y's other rows untouched).</summary>
    private static void Project(double[] input, FastWeights w, int weight, double[] output, ReadOnlySpan<int> rows, int inputs, int outputs)
    {
        foreach (var t in rows)
        {
            w.Rows[weight + 1].AsSpan(0, outputs).CopyTo(output.AsSpan(t * outputs, outputs));
        }

        RowMajorProduct.MultiplyAdd(input, 0, inputs, 1, w.Rows[weight], 0, outputs, output, 0, outputs, rows, FastWorkspace.Range(inputs), outputs);
    }

    /// <summary>
    /// Backward pass of Y = X W + b over the rows that carry gradient: dX += dY W^T (into <paramref name="inputGradient"/>),
    /// dW += X^T dY, db += column sums of dY.
    /// </summary>
    private static void LinearBackward(double[] outputGradient, double[] input, FastWeights w, double[][] g, int weight, double[] inputGradient, ReadOnlySpan<int> rows, int n, int inputs, int outputs)
    {
        RowMajorProduct.MultiplyAdd(outputGradient, 0, outputs, 1, w.Transposed[weight], 0, inputs, inputGradient, 0, inputs, rows, FastWorkspace.Range(outputs), inputs);
        RowMajorProduct.MultiplyAdd(input, 0, 1, inputs, outputGradient, 0, outputs, g[weight], 0, outputs, FastWorkspace.Range(inputs), rows, outputs);
        foreach (var t in rows)
        {
            TensorPrimitives.Add(g[weight + 1], outputGradient.AsSpan(t * outputs, outputs), g[weight + 1]);
        }

        _ = n;
    }

    /// <summary>LayerNorm of every row: x̂ = (x - μ) / sqrt(σ² + ε), y = g ∘ x̂ + b.</summary>
    private static void LayerNormRows(double[] input, double[] gain, double[] bias, double[] normalized, double[] output, double[] inverse, int n, int d)
    {
        for (var t = 0; t < n; t++)
        {
            var x = input.AsSpan(t * d, d);
            var centered = normalized.AsSpan(t * d, d);
            TensorPrimitives.Subtract(x, TensorPrimitives.Sum(x) / d, centered);
            inverse[t] = 1 / Math.Sqrt((TensorPrimitives.Dot(centered, centered) / d) + LayerNorm.Epsilon);
            TensorPrimitives.Multiply(centered, inverse[t], centered);
            TensorPrimitives.FusedMultiplyAdd(gain, centered, bias, output.AsSpan(t * d, d));
        }
    }

    /// <summary>LayerNorm backward of every row: dx = r (dx̂ - mean(dx̂) - x̂ mean(dx̂ ∘ x̂)), dx̂ = dy ∘ g; dg += dy ∘ x̂, db += dy.</summary>
    private static void LayerNormBackward(double[] outputGradient, double[] normalized, double[] inverse, double[] gain, double[] inputGradient, double[] gainGradient, double[] biasGradient, int n, int d)
    {
        Span<double> scratch = stackalloc double[d];
        for (var t = 0; t < n; t++)
        {
            var dy = outputGradient.AsSpan(t * d, d);
            var xHat = normalized.AsSpan(t * d, d);
            var dx = inputGradient.AsSpan(t * d, d);
            TensorPrimitives.FusedMultiplyAdd(dy, xHat, gainGradient, gainGradient);
            TensorPrimitives.Add(biasGradient, dy, biasGradient);
            TensorPrimitives.Multiply(dy, gain, scratch);                         // dx̂
            var meanGradient = TensorPrimitives.Sum(scratch) / d;
            var meanProjection = TensorPrimitives.Dot(scratch, xHat) / d;
            TensorPrimitives.Subtract(scratch, meanGradient, scratch);
            TensorPrimitives.MultiplyAdd(xHat, -meanProjection, scratch, dx);
            TensorPrimitives.Multiply(dx, inverse[t], dx);
        }
    }

    /// <summary>G = GELU(H) = H/2 (1 + tanh(c (H + 0.044715 H³))), keeping the tanh for the backward pass.</summary>
    private static void GeluRows(double[] input, double[] tanh, double[] output, int count)
    {
        var h = input.AsSpan(0, count);
        var t = tanh.AsSpan(0, count);
        var g = output.AsSpan(0, count);
        TensorPrimitives.Multiply(h, h, t);
        TensorPrimitives.Multiply(t, Gelu.Cubic, t);
        TensorPrimitives.Add(t, 1.0, t);                                         // 1 + 0.044715 h²
        TensorPrimitives.Multiply(t, h, t);
        TensorPrimitives.Multiply(t, Gelu.C, t);                                 // u = c (h + 0.044715 h³)
        TensorPrimitives.Tanh(t, t);
        TensorPrimitives.Add(t, 1.0, g);
        TensorPrimitives.Multiply(g, h, g);
        TensorPrimitives.Multiply(g, 0.5, g);
    }

    /// <summary>dH = dG ∘ GELU'(H), GELU'(h) = (1 + t)/2 + h/2 (1 - t²) c (1 + 3·0.044715 h²), in place in dG.</summary>
    private static void GeluBackwardRows(double[] input, double[] tanh, double[] gradient, int count)
    {
        for (var i = 0; i < count; i++)
        {
            gradient[i] *= Gelu.Slope(input[i], tanh[i]);                       // the reference path's slope, given the forward's tanh
        }
    }

    /// <summary>The rows among the first <paramref name="n"/> with any non-zero entry.</summary>
    private static ReadOnlySpan<int> NonZeroRows(double[] matrix, int n, int d, int[] list)
    {
        var count = 0;
        for (var t = 0; t < n; t++)
        {
            if (TensorPrimitives.IndexOfMaxMagnitude(matrix.AsSpan(t * d, d)) is var k && matrix[(t * d) + k] != 0)
            {
                list[count++] = t;
            }
        }

        return list.AsSpan(0, count);
    }

    /// <summary>Every parameter copied row-major, and transposed, once per call (optimizers change them between calls).</summary>
    private sealed class FastWeights
    {
        public FastWeights(IReadOnlyList<Parameter> parameters)
        {
            Rows = new double[parameters.Count][];
            Transposed = new double[parameters.Count][];
            for (var p = 0; p < parameters.Count; p++)
            {
                Transposed[p] = parameters[p].Value.ToColumnMajorArray();      // column-major of W = row-major of W^T
                Rows[p] = parameters[p].Value.ToRowMajorArray();
            }
        }

        public double[][] Rows { get; }

        public double[][] Transposed { get; }
    }

    /// <summary>Every buffer of one sequence's passes, reused from sequence to sequence (cleared where summed into).</summary>
    private sealed class FastWorkspace
    {
        private static int[] range = [.. Enumerable.Range(0, 1024)];

        public FastWorkspace(TransformerSettings settings, int length)
        {
            Length = length;
            var n = length;
            var d = settings.DModel;
            var wide = Math.Max(settings.FeedForward, settings.VocabularySize);
            Layers = [.. Enumerable.Range(0, settings.Layers).Select(_ => new FastLayer(n, d, settings.FeedForward, settings.Heads))];
            FinalInput = new double[n * d];
            FinalNormalized = new double[n * d];
            FinalNorm = new double[n * d];
            FinalInverse = new double[n];
            Probabilities = new double[n * settings.VocabularySize];
            Gradient = new double[n * d];
            Hidden = new double[n * d];
            Scratch = new double[n * d];
            Wide = new double[n * wide];
            Concatenated = new double[n * d];
            DQueries = new double[n * d];
            DKeys = new double[n * d];
            DValues = new double[n * d];
            Square = new double[n * n];
            Transposed = new double[n * d];
            Row = new double[wide];
            RowList = new int[n];
        }

        public int Length { get; }

        public FastLayer[] Layers { get; }

        public double[] FinalInput { get; }

        public double[] FinalNormalized { get; }

        public double[] FinalNorm { get; }

        public double[] FinalInverse { get; }

        public double[] Probabilities { get; }

        public double[] Gradient { get; }

        public double[] Hidden { get; }

        public double[] Scratch { get; }

        public double[] Wide { get; }

        public double[] Concatenated { get; }

        public double[] DQueries { get; }

        public double[] DKeys { get; }

        public double[] DValues { get; }

        public double[] Square { get; }

        public double[] Transposed { get; }

        public double[] Row { get; }

        public int[] RowList { get; }

        /// <summary>The list 0, 1, ..., count - 1 (every row, every inner index).</summary>
        public static ReadOnlySpan<int> Range(int count)
        {
            var current = Volatile.Read(ref range);
            if (current.Length < count)
            {
                current = [.. Enumerable.Range(0, count)];
                Volatile.Write(ref range, current);
            }

            return current.AsSpan(0, count);
        }
    }

    /// <summary>One layer's forward results, kept for its backward pass.</summary>
    private sealed class FastLayer(int n, int d, int feedForward, int heads)
    {
        public double[] Input { get; } = new double[n * d];

        public double[] Normalized1 { get; } = new double[n * d];

        public double[] Norm1 { get; } = new double[n * d];

        public double[] Inverse1 { get; } = new double[n];

        public double[] Queries { get; } = new double[n * d];

        public double[] Keys { get; } = new double[n * d];

        public double[] Values { get; } = new double[n * d];

        public double[][] Weights { get; } = [.. Enumerable.Range(0, heads).Select(_ => new double[n * n])];

        public double[] Concatenated { get; } = new double[n * d];

        public double[] Attended { get; } = new double[n * d];

        public double[] Hidden { get; } = new double[n * d];

        public double[] Normalized2 { get; } = new double[n * d];

        public double[] Norm2 { get; } = new double[n * d];

        public double[] Inverse2 { get; } = new double[n];

        public double[] PreActivation { get; } = new double[n * feedForward];

        public double[] Tanh { get; } = new double[n * feedForward];

        public double[] Activated { get; } = new double[n * feedForward];
    }
}
