using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using NotebookAttention.Attention;

namespace NotebookAttention.Training;

/// <summary>
/// A small transformer that predicts a token at every position: token embedding + learned position embedding,
/// then <see cref="TransformerSettings.Layers"/> layers of multi-head self-attention and a feed-forward sublayer,
/// each wrapped as x + sublayer(LayerNorm(x)), a final LayerNorm and a linear readout to the vocabulary.
/// </summary>
/// <remarks>
/// <para>Parts and why. Positions: attention alone cannot tell positions apart (it is permutation-equivariant), and
/// reversing a sequence is all about positions, so a learned position vector is added to each token vector (a table
/// of <see cref="TransformerSettings.MaxLength"/> rows, as in BERT and GPT). Attention uses the batch's padding mask
/// (and the causal mask when <see cref="TransformerSettings.Causal"/>). Residual connections give every layer's input
/// a direct path to the loss. The feed-forward sublayer uses GELU (see <see cref="FeedForward"/>).</para>
/// <para>Pre-LN (Xiong et al. 2020) rather than the original post-LN (Vaswani et al. 2017): LayerNorm sits at the
/// entrance of each sublayer, x + F(LN(x)), and once more before the readout. Xiong et al. show that pre-LN keeps the
/// gradients at initialisation well scaled, so it trains without a learning-rate warm-up; the notebooks train for a
/// few hundred steps at a fixed Adam learning rate, where warm-up would cost steps.</para>
/// <para>Why more than one layer: with one layer, a query at position i is built from its token and position alone,
/// so in a batch of different lengths it cannot know the length needed to find key len - 1 - i; in two layers the
/// first can read the length (it sees exactly the real tokens, through the padding mask) and the second can use it.</para>
/// <para>Initialisation (seeded, xoshiro256**, in the order of <see cref="Parameters"/>): token and position embeddings
/// each N(0, 1), so x = E[id] + P[t] starts with variance 2 per entry (pre-LN normalises it before every sublayer, so the
/// scale only sets how much the residual stream weighs against the sublayers' outputs); weights Xavier-uniform
/// (Glorot and Bengio 2010) U(-a, a), a = sqrt(6 / (in + out)), which keeps the variance of activations and gradients
/// about the same through a layer; biases 0; LayerNorm gains 1 and biases 0.</para>
/// <para>Threads: a batch is cut into chunks of <see cref="ChunkSize"/> sequences whatever the thread count; each chunk
/// sums its sequences' gradients in order, and the chunks are added in chunk order, so every thread count gives the
/// same bits.</para>
/// <para>Divergence: when the weights have grown until a step overflows fp64, both paths report a NaN loss (the
/// reference path's checked library steps would throw; the model turns that into NaN), so <see cref="Trainer.Run"/>
/// stops and puts the last good weights back for either path.</para>
/// </remarks>
public sealed partial class TransformerModel : ISequenceModel
{
    /// <summary>Sequences per chunk of work; fixed, so results do not depend on the number of threads.</summary>
    public const int ChunkSize = 4;

    private const int PerLayer = 16;
    private readonly List<Parameter> parameters = [];
    private readonly Block[] blocks;
    private readonly LayerNorm finalNorm;
    private readonly LinearProjection readout;

    /// <summary>Builds a seeded model.</summary>
    /// <param name="settings">Sizes, seed, masks and path.</param>
    /// <exception cref="ArgumentException">A size is below 1, or the heads do not divide d_model.</exception>
    public TransformerModel(TransformerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Check.AtLeast(settings.VocabularySize, 1, "vocabulary size", nameof(settings));
        Check.AtLeast(settings.MaxLength, 1, "maximum length", nameof(settings));
        Check.AtLeast(settings.DModel, 1, "d_model", nameof(settings));
        Check.AtLeast(settings.Heads, 1, "heads", nameof(settings));
        Check.AtLeast(settings.FeedForward, 1, "feed-forward width d_ff", nameof(settings));
        Check.AtLeast(settings.Layers, 1, "layers", nameof(settings));
        if (settings.DModel % settings.Heads != 0)
        {
            var choices = Enumerable.Range(1, settings.DModel).Where(h => settings.DModel % h == 0);
            throw new ArgumentException(
                $"d_model = {settings.DModel} is not divisible by heads = {settings.Heads}: each head gets d_model / h columns, so choose heads from {string.Join(", ", choices)}.",
                nameof(settings));
        }

        Settings = settings;
        var random = new Xoshiro256StarStar(settings.Seed, threadSafe: false);
        var d = settings.DModel;
        TokenEmbedding = Add("embedding.token", Matrix<double>.Build.Random(settings.VocabularySize, d, new Normal(0, 1, random)));
        PositionEmbedding = Add("embedding.position", Matrix<double>.Build.Random(settings.MaxLength, d, new Normal(0, 1, random)));
        blocks = new Block[settings.Layers];
        for (var layer = 0; layer < settings.Layers; layer++)
        {
            var name = $"layer{layer}";
            var norm1 = Norm($"{name}.norm1");
            var query = Linear($"{name}.attention", "Q", d, d);
            var key = Linear($"{name}.attention", "K", d, d);
            var value = Linear($"{name}.attention", "V", d, d);
            var output = Linear($"{name}.attention", "O", d, d);
            var norm2 = Norm($"{name}.norm2");
            var first = Linear($"{name}.feedforward", "1", d, settings.FeedForward);
            var second = Linear($"{name}.feedforward", "2", settings.FeedForward, d);
            blocks[layer] = new Block(
                norm1,
                new MultiHeadAttention(new QkvProjections(query, key, value), output, settings.Heads),
                norm2,
                new FeedForward(first, second));
        }

        finalNorm = Norm("norm");
        readout = Linear("readout", string.Empty, d, settings.VocabularySize);
        ParameterCount = parameters.Sum(p => p.Count);

        LayerNorm Norm(string name) =>
            new(Add($"{name}.gain", Matrix<double>.Build.Dense(1, d, 1.0)).Value, Add($"{name}.bias", Matrix<double>.Build.Dense(1, d)).Value);

        LinearProjection Linear(string name, string suffix, int inputs, int outputs)
        {
            var limit = Math.Sqrt(6.0 / (inputs + outputs));
            var weight = Add($"{name}.W{(suffix.Length > 0 ? "_" + suffix : string.Empty)}", Matrix<double>.Build.Random(inputs, outputs, new ContinuousUniform(-limit, limit, random)));
            var biasStorage = new double[outputs];   // one array seen as the [1 x out] parameter and as the projection's bias vector
            Add($"{name}.b{(suffix.Length > 0 ? "_" + suffix : string.Empty)}", Matrix<double>.Build.Dense(1, outputs, biasStorage));
            return new LinearProjection(weight.Value, Vector<double>.Build.Dense(biasStorage));
        }
    }

    /// <summary>The settings the model was built with.</summary>
    public TransformerSettings Settings { get; }

    /// <inheritdoc />
    public string Name => Settings.Layers == 1 ? "attention" : $"attention ({Settings.Layers} layers)";

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <inheritdoc />
    public int VocabularySize => Settings.VocabularySize;

    /// <inheritdoc />
    /// <remarks><see cref="TransformerSettings.MaxLength"/>: one learned position vector per position.</remarks>
    public int? MaxLength => Settings.MaxLength;

    /// <summary>Number of learned scalars, summed over <see cref="Parameters"/>.</summary>
    public int ParameterCount { get; }

    /// <summary>The token embedding table, [vocabulary x d_model].</summary>
    public Parameter TokenEmbedding { get; }

    /// <summary>The learned position table, [max length x d_model].</summary>
    public Parameter PositionEmbedding { get; }

    /// <inheritdoc />
    public BatchOutcome LossAndGradients(SequenceBatch batch, int threads = 1) => Run(batch, threads, backward: true);

    /// <inheritdoc />
    public BatchOutcome Evaluate(SequenceBatch batch, int threads = 1) => Run(batch, threads, backward: false);

    /// <summary>
    /// The attention weights of every head of one layer for one unpadded sequence (with the causal mask if the model
    /// has one): one [n x n] matrix per head, row i = where position i looks.
    /// </summary>
    /// <param name="tokens">Token ids of one sequence, 1 to <see cref="TransformerSettings.MaxLength"/> of them.</param>
    /// <param name="layer">Layer index; null for the last layer.</param>
    /// <returns>h matrices [n x n].</returns>
    /// <exception cref="ArgumentException">The sequence is empty, too long, holds an id outside the vocabulary, or the layer does not exist.</exception>
    public IReadOnlyList<Matrix<double>> AttentionWeights(IReadOnlyList<int> tokens, int? layer = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var index = layer ?? (Settings.Layers - 1);
        if ((uint)index >= (uint)Settings.Layers)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer {layer} does not exist: this model has layers 0 to {Settings.Layers - 1}.");
        }

        var batch = new SequenceBatch([tokens], [Enumerable.Repeat(SequenceBatch.Ignored, tokens.Count).ToArray()], VocabularySize, tokens.Count > 0 ? tokens[0] : 0);
        CheckBatch(batch, 1);
        var pass = ForwardReference(batch, 0);
        return pass.Layers[index].Attention.Weights;
    }

    private Parameter Add(string name, Matrix<double> value)
    {
        var parameter = new Parameter(name, value);
        parameters.Add(parameter);
        return parameter;
    }

    private void CheckBatch(SequenceBatch batch, int threads)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Check.AtLeast(threads, 1, "threads", nameof(threads));
        if (batch.VocabularySize > VocabularySize)
        {
            // A larger model vocabulary is fine (the readout simply has ids no target uses), as for the recurrent models.
            throw new ArgumentException($"the batch uses {batch.VocabularySize} token ids but the {Name} has a vocabulary of {VocabularySize}: make the model with VocabularySize = {batch.VocabularySize} (the task's) or more.", nameof(batch));
        }

        if (batch.PaddedLength > Settings.MaxLength)
        {
            throw new ArgumentException($"the batch is padded to {batch.PaddedLength} positions but the model has position vectors for {Settings.MaxLength}: build the model with MaxLength >= {batch.PaddedLength} (the task's MaxLength).", nameof(batch));
        }
    }

    private BatchOutcome Run(SequenceBatch batch, int threads, bool backward)
    {
        CheckBatch(batch, threads);
        var scoredInBatch = batch.ScoredPositions;
        var chunks = new ChunkResult[(batch.Count + ChunkSize - 1) / ChunkSize];
        if (Settings.Path == TransformerPath.Fast)
        {
            fastWeights = new FastWeights(parameters);
        }

        Func<SequenceBatch, int, int, bool, ChunkResult> runChunk = Settings.Path == TransformerPath.Reference ? ReferenceChunk : FastChunk;
        if (threads == 1)
        {
            for (var chunk = 0; chunk < chunks.Length; chunk++)
            {
                chunks[chunk] = runChunk(batch, chunk, scoredInBatch, backward);
            }
        }
        else
        {
            Parallel.For(0, chunks.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk => chunks[chunk] = runChunk(batch, chunk, scoredInBatch, backward));
        }

        // Chunk results are added in chunk order: the same sums whatever thread ran which chunk.
        double lossSum = 0;
        var correct = 0;
        var inputNorms = new double[batch.PaddedLength];
        var predictions = new List<IReadOnlyList<int>>(batch.Count);
        foreach (var chunk in chunks)
        {
            lossSum += chunk.LossSum;
            correct += chunk.Correct;
            predictions.AddRange(chunk.Predictions);
            for (var t = 0; t < inputNorms.Length; t++)
            {
                inputNorms[t] += chunk.InputNormSums[t];
            }
        }

        if (backward)
        {
            for (var p = 0; p < parameters.Count; p++)
            {
                var total = chunks[0].Gradients![p];
                for (var chunk = 1; chunk < chunks.Length; chunk++)
                {
                    total.Add(chunks[chunk].Gradients![p], total);
                }

                parameters[p].Gradient.Add(total, parameters[p].Gradient);
            }
        }

        return new BatchOutcome(
            scoredInBatch == 0 ? 0 : lossSum / scoredInBatch,
            correct,
            scoredInBatch,
            predictions,
            backward ? [.. inputNorms.Select(sum => sum / batch.Count)] : []);
    }

    /// <summary>One layer's sublayers, sharing storage with <see cref="Parameters"/> (optimizers update them in place).</summary>
    private sealed record Block(LayerNorm Norm1, MultiHeadAttention Attention, LayerNorm Norm2, FeedForward FeedForward);

    /// <summary>What one chunk of sequences gave; gradients are [in x out] matrices parallel to <see cref="Parameters"/>.</summary>
    private sealed record ChunkResult(double LossSum, int Correct, IReadOnlyList<IReadOnlyList<int>> Predictions, double[] InputNormSums, Matrix<double>[]? Gradients);
}
