using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using NotebookAttention.Attention;

namespace NotebookAttention.Training;

/// <summary>
/// What the Elman RNN and the LSTM share: a learned token embedding, a recurrent cell that runs left to right over the
/// sequence, and a linear readout to the vocabulary at every position, trained by backpropagation through time.
/// </summary>
/// <remarks>
/// <para>
/// Shapes, for a chunk of B sequences at time step t: X_t = E[tokens_t] is [B x e] (one embedding row per sequence),
/// the cell turns X_t and its previous state into H_t [B x h], and the logits are Z_t = H_t W_y + b_y, [B x V]. The whole
/// chunk moves through one matrix product per step instead of one per sequence. The loss is the mean softmax
/// cross-entropy over the scored positions of the batch.
/// </para>
/// <para>
/// Backward (backpropagation through time): dZ_t = (softmax(Z_t) - onehot(target)) / scored on scored rows and 0 elsewhere;
/// dW_y = Σ_t H_tᵀ dZ_t, db_y = Σ_t column sums of dZ_t; the readout sends dH_t = dZ_t W_yᵀ into the cell, which walks
/// back from the last step to the first, adding what flows back from step t + 1, and returns dX_t; finally
/// dE[token] += dX_t row by row.
/// </para>
/// <para>
/// Padding is on the right, so it comes after every real token of its sequence and cannot change a real position's
/// state. Its targets are not scored, so nothing flows back from it: padded positions get exactly zero input gradient,
/// and the loss and gradients of a sequence are the same padded or not.
/// </para>
/// <para>
/// Threads: the batch is cut into chunks of <see cref="ChunkSize"/> sequences (a number that does not depend on the
/// thread count); each chunk accumulates its own gradients, and the chunks' results are added in chunk order, so every
/// thread count gives the same numbers bit for bit.
/// </para>
/// </remarks>
public abstract partial class RecurrentModel : ISequenceModel
{
    /// <summary>Sequences per chunk of work; fixed so results do not depend on the number of threads.</summary>
    public const int ChunkSize = 16;

    private readonly Parameter embedding;
    private readonly Parameter readout;
    private readonly Parameter readoutBias;

    /// <summary>Creates the embedding, the cell (through <paramref name="createCell"/>) and the readout, in that order, from one seeded generator.</summary>
    /// <param name="name">Name for tables and legends.</param>
    /// <param name="settings">Sizes and seed.</param>
    /// <param name="createCell">Makes the cell's parameters from the settings and the seeded generator.</param>
    protected RecurrentModel(string name, RecurrentSettings settings, Func<RecurrentSettings, Random, IReadOnlyList<Parameter>> createCell)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(createCell);
        Check.AtLeast(settings.VocabularySize, 1, "the vocabulary size", nameof(settings));
        Check.AtLeast(settings.Hidden, 1, "the hidden size", nameof(settings));
        Check.AtLeast(settings.Embedding, 1, "the embedding size", nameof(settings));
        Check.TableFits(settings.VocabularySize, settings.Embedding, "the embedding table", "choose a smaller vocabulary or embedding", nameof(settings));
        Check.TableFits(Math.Max(settings.Hidden, settings.Embedding), 4L * settings.Hidden, "a cell weight matrix", "choose a smaller hidden size", nameof(settings));
        Name = name;
        Settings = settings;
        var random = new Xoshiro256StarStar(settings.Seed, threadSafe: false);

        // Embedding rows ~ N(0, 1), as torch.nn.Embedding; the cell and readout ~ U(-1/sqrt(h), 1/sqrt(h)), as torch.nn.RNN/LSTM/Linear.
        embedding = new Parameter("embedding.E", Matrix<double>.Build.Random(settings.VocabularySize, settings.Embedding, new MathNet.Numerics.Distributions.Normal(0, 1, random)));
        CellParameters = createCell(settings, random);
        var bound = 1 / Math.Sqrt(settings.Hidden);
        readout = new Parameter("readout.W_y", Uniform(random, settings.Hidden, settings.VocabularySize, bound));
        readoutBias = new Parameter("readout.b_y", Uniform(random, 1, settings.VocabularySize, bound));
        Parameters = [embedding, .. CellParameters, readout, readoutBias];
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The sizes and seed the model was made with.</summary>
    public RecurrentSettings Settings { get; }

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public int VocabularySize => Settings.VocabularySize;

    /// <inheritdoc />
    /// <remarks>Null: a recurrent network reads sequences of any length.</remarks>
    public int? MaxLength => null;

    /// <summary>Number of learned scalars: embedding V·e, the cell's own, readout h·V + V.</summary>
    public int ParameterCount => Parameters.Sum(p => p.Count);

    /// <summary>The cell's parameters, in the order its constructor made them.</summary>
    protected IReadOnlyList<Parameter> CellParameters { get; }

    /// <inheritdoc />
    public BatchOutcome LossAndGradients(SequenceBatch batch, int threads = 1) => Run(batch, threads, backward: true, null);

    /// <summary>
    /// Like <see cref="LossAndGradients"/> (gradients are added to the parameters), and also returns dLoss/dX of every
    /// sequence, [padded length x e] each: the gradient reaching each input vector, exactly 0 on padding.
    /// </summary>
    /// <param name="batch">The batch.</param>
    /// <param name="outcome">The outcome <see cref="LossAndGradients"/> would have returned.</param>
    /// <returns>One matrix per sequence.</returns>
    public IReadOnlyList<Matrix<double>> InputGradients(SequenceBatch batch, out BatchOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var gradients = new Matrix<double>[batch.Count];
        outcome = Run(batch, 1, backward: true, gradients);
        return gradients;
    }

    /// <inheritdoc />
    public BatchOutcome Evaluate(SequenceBatch batch, int threads = 1) => Run(batch, threads, backward: false, null);

    /// <summary>The embedded inputs of one sequence, X = E[tokens], [n x e].</summary>
    /// <param name="tokens">Token ids.</param>
    /// <returns>One embedding row per token.</returns>
    public Matrix<double> Embed(IReadOnlyList<int> tokens)
    {
        CheckTokens(tokens);
        return EmbeddingLookup.Rows(embedding.Value, tokens);
    }

    /// <summary>The states h_0 .. h_{n-1} the cell computes for one sequence, [n x h].</summary>
    /// <param name="tokens">Token ids.</param>
    /// <returns>One state row per token.</returns>
    public Matrix<double> HiddenStates(IReadOnlyList<int> tokens)
    {
        CheckTokens(tokens);
        var inputs = tokens.Select(token => EmbeddingLookup.Rows(embedding.Value, [token])).ToArray();
        var states = Forward(inputs).States;
        return Matrix<double>.Build.DenseOfRowVectors(states.Select(h => h.Row(0)));
    }

    /// <summary>Runs the cell forward over a chunk: X_t [B x e] for each t gives at least the states H_t [B x h].</summary>
    /// <param name="inputs">X_0 .. X_{n-1}.</param>
    /// <returns>The states and whatever the backward pass needs.</returns>
    protected abstract CellTrace Forward(IReadOnlyList<Matrix<double>> inputs);

    /// <summary>
    /// Backpropagation through time over a chunk: given dLoss/dH_t from the readout at every step, adds dLoss/dθ of
    /// each cell parameter to <paramref name="cellGradients"/> (same order as <see cref="CellParameters"/>) and returns
    /// dLoss/dX_t, [B x e] per step.
    /// </summary>
    /// <param name="inputs">X_0 .. X_{n-1}, as given to <see cref="Forward"/>.</param>
    /// <param name="trace">What <see cref="Forward"/> returned.</param>
    /// <param name="stateGradients">dLoss/dH_t from the readout, [B x h] per step (not yet including what flows back through the recurrence).</param>
    /// <param name="cellGradients">Accumulators for the chunk, one per cell parameter.</param>
    /// <returns>dLoss/dX_t per step.</returns>
    protected abstract Matrix<double>[] Backward(IReadOnlyList<Matrix<double>> inputs, CellTrace trace, IReadOnlyList<Matrix<double>> stateGradients, IReadOnlyList<Matrix<double>> cellGradients);

    /// <summary>A [rows x columns] matrix with entries drawn uniformly from [-bound, bound].</summary>
    /// <param name="random">The seeded generator.</param>
    /// <param name="rows">Rows of the weight (its input size, in the library's [in x out] layout).</param>
    /// <param name="columns">Columns of the weight (its output size).</param>
    /// <param name="bound">Largest magnitude, e.g. 1/sqrt(hidden) as torch initialises recurrent layers.</param>
    protected static Matrix<double> Uniform(Random random, int rows, int columns, double bound)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Matrix<double>.Build.Dense(rows, columns, (_, _) => bound * ((2 * random.NextDouble()) - 1));
    }

    /// <summary>
    /// The library's projection X W + b for the current weights, for its backward step (dX, dW and db in one call).
    /// The forward passes write X W + b out with <see cref="Broadcast"/> instead of calling
    /// <see cref="LinearProjection.Apply"/>, which refuses an fp64 overflow: a diverging run must reach the trainer as
    /// a NaN loss, not as an exception.
    /// </summary>
    /// <param name="weight">W, [in x out].</param>
    /// <param name="bias">b, [1 x out].</param>
    /// <returns>The projection (a copy of b; W is shared).</returns>
    protected static LinearProjection Projection(Matrix<double> weight, Matrix<double> bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        return new LinearProjection(weight, bias.Row(0));
    }

    /// <summary>1 b: the bias row b [1 x out] repeated for each of <paramref name="rows"/> rows, to add to X W.</summary>
    /// <param name="bias">b.</param>
    /// <param name="rows">B.</param>
    /// <returns>[B x out].</returns>
    protected static Matrix<double> Broadcast(Matrix<double> bias, int rows)
    {
        ArgumentNullException.ThrowIfNull(bias);
        return Matrix<double>.Build.Dense(rows, 1, 1.0) * bias;
    }

    /// <summary>Adds the gradients of one projection step to the chunk's accumulators: dW += g.DWeight, db += g.DBias.</summary>
    /// <param name="weightGradient">dW accumulator, [in x out].</param>
    /// <param name="biasGradient">db accumulator, [1 x out].</param>
    /// <param name="step">What <see cref="LinearProjection.Backward"/> returned.</param>
    protected static void Accumulate(Matrix<double> weightGradient, Matrix<double> biasGradient, LinearProjectionGradients step)
    {
        ArgumentNullException.ThrowIfNull(weightGradient);
        ArgumentNullException.ThrowIfNull(biasGradient);
        ArgumentNullException.ThrowIfNull(step);
        weightGradient.Add(step.DWeight, weightGradient);
        biasGradient.Add(step.DBias!.ToRowMatrix(), biasGradient);
    }

    private void CheckTokens(IReadOnlyList<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Count == 0)
        {
            throw new ArgumentException("the sequence is empty: give at least one token id.", nameof(tokens));
        }

        foreach (var token in tokens)
        {
            if ((uint)token >= (uint)VocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), token, $"token id {token} is outside the model's vocabulary: use 0 to {VocabularySize - 1}.");
            }
        }
    }

    private BatchOutcome Run(SequenceBatch batch, int threads, bool backward, Matrix<double>[]? inputGradientsOut)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Check.AtLeast(threads, 1, "the thread count", nameof(threads));
        if (batch.VocabularySize > VocabularySize)
        {
            throw new ArgumentException($"the batch uses {batch.VocabularySize} token ids but the {Name} has a vocabulary of {VocabularySize}: make the model with VocabularySize = {batch.VocabularySize} (the task's) or more.", nameof(batch));
        }

        var scored = batch.ScoredPositions;
        var chunks = (batch.Count + ChunkSize - 1) / ChunkSize;
        var results = new ChunkResult[chunks];
        // The fast path reads every parameter row-major, and transposed for the products that send gradients back.
        var rowMajor = Path == RecurrentPath.Fast ? Parameters.Select(p => p.Value.ToRowMajorArray()).ToArray() : null;
        var transposed = Path == RecurrentPath.Fast ? Parameters.Select(p => p.Value.ToColumnMajorArray()).ToArray() : null;
        ChunkResult Chunk(int c)
        {
            var (first, rows) = (c * ChunkSize, Math.Min(ChunkSize, batch.Count - (c * ChunkSize)));
            return rowMajor is null
                ? RunChunk(batch, first, rows, scored, backward, inputGradientsOut)
                : RunChunkFast(batch, first, rows, scored, backward, rowMajor, transposed!, inputGradientsOut);
        }

        if (threads == 1 || chunks == 1)
        {
            for (var c = 0; c < chunks; c++)
            {
                results[c] = Chunk(c);
            }
        }
        else
        {
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c => results[c] = Chunk(c));
        }

        // Chunk order, whatever order the threads finished in: the sums are the same bit for bit.
        var lossSum = 0.0;
        var correct = 0;
        var inputNorms = new double[backward ? batch.PaddedLength : 0];
        foreach (var result in results)
        {
            lossSum += result.LossSum;
            correct += result.Correct;
            if (backward)
            {
                for (var p = 0; p < Parameters.Count; p++)
                {
                    Parameters[p].Gradient.Add(result.Gradients![p], Parameters[p].Gradient);
                }

                for (var t = 0; t < inputNorms.Length; t++)
                {
                    inputNorms[t] += result.InputNormSums![t];
                }
            }
        }

        for (var t = 0; t < inputNorms.Length; t++)
        {
            inputNorms[t] /= batch.Count;
        }

        var predictions = results.SelectMany(r => r.Predictions).ToArray();
        return new BatchOutcome(scored == 0 ? 0 : lossSum / scored, correct, scored, predictions, inputNorms);
    }

    private ChunkResult RunChunk(SequenceBatch batch, int first, int rows, int scored, bool backward, Matrix<double>[]? inputGradientsOut)
    {
        var n = batch.PaddedLength;
        var ids = Enumerable.Range(0, n).Select(t => Enumerable.Range(first, rows).Select(s => batch.Inputs[s][t]).ToArray()).ToArray();
        var targets = Enumerable.Range(0, n).Select(t => Enumerable.Range(first, rows).Select(s => batch.Targets[s][t]).ToArray()).ToArray();
        var inputs = ids.Select(column => EmbeddingLookup.Rows(embedding.Value, column)).ToArray();   // X_t = E[tokens_t], [B x e]
        var trace = Forward(inputs);
        var readoutLayer = Projection(readout.Value, readoutBias.Value);
        var gradients = backward ? Parameters.Select(p => Matrix<double>.Build.Dense(p.Value.RowCount, p.Value.ColumnCount)).ToArray() : null;
        var stateGradients = new Matrix<double>[n];
        var predictions = Enumerable.Range(0, rows).Select(_ => new int[n]).ToArray();
        var (lossSum, correct) = (0.0, 0);
        for (var t = 0; t < n; t++)
        {
            var h = trace.States[t];
            var logits = (h * readout.Value) + Broadcast(readoutBias.Value, rows);                     // Z_t = H_t W_y + 1 b_y, [B x V]
            var loss = SoftmaxCrossEntropy.Forward(logits, targets[t]);
            (lossSum, correct) = (lossSum + loss.LossSum, correct + loss.Correct);
            for (var r = 0; r < rows; r++)
            {
                predictions[r][t] = loss.Predictions[r];
            }

            if (gradients is not null)
            {
                if (loss.Scored > 0)
                {
                    var dLogits = SoftmaxCrossEntropy.Backward(loss, targets[t], scored);               // dZ_t = (P - onehot) / N
                    var step = readoutLayer.Backward(h, dLogits);
                    Accumulate(gradients[^2], gradients[^1], step);                                     // dW_y += H_tᵀ dZ_t, db_y += Σ_rows dZ_t
                    stateGradients[t] = step.DInput;                                                    // dH_t = dZ_t W_yᵀ
                }
                else
                {
                    stateGradients[t] = Matrix<double>.Build.Dense(rows, h.ColumnCount);
                }
            }
        }

        double[]? inputNormSums = null;
        if (gradients is not null)
        {
            var inputGradients = Backward(inputs, trace, stateGradients, gradients[1..^2]);
            inputNormSums = new double[n];
            for (var t = 0; t < n; t++)
            {
                EmbeddingLookup.RowsBackward(gradients[0], ids[t], inputGradients[t]);                  // dE[token] += dX_t[r]
                for (var r = 0; r < rows; r++)
                {
                    inputNormSums[t] += inputGradients[t].Row(r).L2Norm();
                }
            }

            if (inputGradientsOut is not null)
            {
                for (var r = 0; r < rows; r++)
                {
                    inputGradientsOut[first + r] = Matrix<double>.Build.DenseOfRowVectors(inputGradients.Select(g => g.Row(r)));
                }
            }
        }

        return new ChunkResult(lossSum, correct, predictions, gradients, inputNormSums);
    }

    /// <summary>What a cell's forward pass keeps for its backward pass; at least the states.</summary>
    /// <param name="States">H_t, [B x h] per step.</param>
    protected abstract record CellTrace(IReadOnlyList<Matrix<double>> States);

    private sealed record ChunkResult(double LossSum, int Correct, int[][] Predictions, Matrix<double>[]? Gradients, double[]? InputNormSums);
}
