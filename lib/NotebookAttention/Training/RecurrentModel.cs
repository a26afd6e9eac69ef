using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;

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
        return Lookup(tokens.Count, r => tokens[r]);
    }

    /// <summary>The states h_0 .. h_{n-1} the cell computes for one sequence, [n x h].</summary>
    /// <param name="tokens">Token ids.</param>
    /// <returns>One state row per token.</returns>
    public Matrix<double> HiddenStates(IReadOnlyList<int> tokens)
    {
        CheckTokens(tokens);
        var inputs = tokens.Select(token => Lookup(1, _ => token)).ToArray();
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
    /// <param name="rows">Rows.</param>
    /// <param name="columns">Columns.</param>
    /// <param name="bound">Largest magnitude.</param>
    /// <returns>The matrix.</returns>
    protected static Matrix<double> Uniform(Random random, int rows, int columns, double bound)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Matrix<double>.Build.Dense(rows, columns, (_, _) => bound * ((2 * random.NextDouble()) - 1));
    }

    /// <summary>Adds the bias row b [1 x h] to every row of <paramref name="target"/> [B x h], in place (broadcasting).</summary>
    /// <param name="target">The pre-activations.</param>
    /// <param name="bias">b.</param>
    /// <returns><paramref name="target"/>.</returns>
    protected static Matrix<double> AddToEachRow(Matrix<double> target, Matrix<double> bias)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(bias);
        for (var c = 0; c < target.ColumnCount; c++)
        {
            var b = bias.At(0, c);
            for (var r = 0; r < target.RowCount; r++)
            {
                target.At(r, c, target.At(r, c) + b);
            }
        }

        return target;
    }

    /// <summary>db += the column sums of dA: a bias added to every row gets the sum of the rows' gradients.</summary>
    /// <param name="biasGradient">db, [1 x h].</param>
    /// <param name="upstream">dA, [B x h].</param>
    protected static void AddColumnSums(Matrix<double> biasGradient, Matrix<double> upstream)
    {
        ArgumentNullException.ThrowIfNull(biasGradient);
        ArgumentNullException.ThrowIfNull(upstream);
        for (var c = 0; c < upstream.ColumnCount; c++)
        {
            var sum = 0.0;
            for (var r = 0; r < upstream.RowCount; r++)
            {
                sum += upstream.At(r, c);
            }

            biasGradient.At(0, c, biasGradient.At(0, c) + sum);
        }
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

    /// <summary>[rows x e]: row r is the embedding of id(r).</summary>
    private Matrix<double> Lookup(int rows, Func<int, int> id)
    {
        var table = embedding.Value;
        var x = Matrix<double>.Build.Dense(rows, table.ColumnCount);
        for (var r = 0; r < rows; r++)
        {
            var token = id(r);
            for (var c = 0; c < table.ColumnCount; c++)
            {
                x.At(r, c, table.At(token, c));
            }
        }

        return x;
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
        var scale = scored == 0 ? 0 : 1.0 / scored;
        var chunks = (batch.Count + ChunkSize - 1) / ChunkSize;
        var results = new ChunkResult[chunks];
        var flatWeights = Path == RecurrentPath.Fast ? Parameters.Select(p => FlatKernels.RowMajor(p.Value)).ToArray() : null;
        ChunkResult Chunk(int c)
        {
            var (first, rows) = (c * ChunkSize, Math.Min(ChunkSize, batch.Count - (c * ChunkSize)));
            return flatWeights is null
                ? RunChunk(batch, first, rows, scale, backward, inputGradientsOut)
                : RunChunkFast(batch, first, rows, scale, backward, flatWeights, inputGradientsOut);
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

    private ChunkResult RunChunk(SequenceBatch batch, int first, int rows, double scale, bool backward, Matrix<double>[]? inputGradientsOut)
    {
        var n = batch.PaddedLength;
        var inputs = new Matrix<double>[n];
        for (var t = 0; t < n; t++)
        {
            inputs[t] = Lookup(rows, r => batch.Inputs[first + r][t]);                       // X_t = E[tokens_t], [B x e]
        }

        var trace = Forward(inputs);
        var wy = readout.Value;
        var gradients = backward ? Parameters.Select(p => Matrix<double>.Build.Dense(p.Value.RowCount, p.Value.ColumnCount)).ToArray() : null;
        var stateGradients = new Matrix<double>[n];
        var predictions = new int[rows][];
        for (var r = 0; r < rows; r++)
        {
            predictions[r] = new int[n];
        }

        var lossSum = 0.0;
        var correct = 0;
        var rowPredictions = new int[rows];
        for (var t = 0; t < n; t++)
        {
            var h = trace.States[t];
            var logits = AddToEachRow(h * wy, readoutBias.Value);                               // Z_t = H_t W_y + b_y, [B x V]
            var dLogits = backward ? Matrix<double>.Build.Dense(rows, wy.ColumnCount) : null;
            var step = t;
            var (loss, right, anyScored) = CrossEntropy.Rows(logits, r => batch.Targets[first + r][step], scale, dLogits, rowPredictions);
            lossSum += loss;
            correct += right;
            for (var r = 0; r < rows; r++)
            {
                predictions[r][t] = rowPredictions[r];
            }

            if (gradients is not null)
            {
                if (anyScored)
                {
                    gradients[^2].Add(h.TransposeThisAndMultiply(dLogits), gradients[^2]);   // dW_y += H_tᵀ dZ_t
                    AddColumnSums(gradients[^1], dLogits!);                                  // db_y += Σ_rows dZ_t
                    stateGradients[t] = dLogits!.TransposeAndMultiply(wy);                   // dH_t = dZ_t W_yᵀ
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
            var cellGradients = gradients[1..^2];
            var inputGradients = Backward(inputs, trace, stateGradients, cellGradients);
            inputNormSums = new double[n];
            var dEmbedding = gradients[0];
            if (inputGradientsOut is not null)
            {
                for (var r = 0; r < rows; r++)
                {
                    inputGradientsOut[first + r] = Matrix<double>.Build.DenseOfRowVectors(inputGradients.Select(g => g.Row(r)));
                }
            }

            for (var t = 0; t < n; t++)
            {
                for (var r = 0; r < rows; r++)
                {
                    var token = batch.Inputs[first + r][t];
                    var squares = 0.0;
                    for (var c = 0; c < dEmbedding.ColumnCount; c++)
                    {
                        var g = inputGradients[t].At(r, c);
                        dEmbedding.At(token, c, dEmbedding.At(token, c) + g);                     // dE[token] += dX_t[r]
                        squares += g * g;
                    }

                    inputNormSums[t] += Math.Sqrt(squares);
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
