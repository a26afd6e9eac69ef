using BenchmarkDotNet.Attributes;
using NotebookAttention.Training;

namespace NotebookAttention.Benchmarks;

/// <summary>
/// One training step of the transformer (gradients zeroed, <see cref="TransformerModel.LossAndGradients"/> on the fast
/// path with all cores, an Adam update) at the notebooks' sizes: N = 8 is notebook 09's reverse task, N = 51 and 201
/// notebook 10's remember-the-first-token task at L = 50 and 200 (see <see cref="TransformerWorkload"/>).
/// </summary>
[MemoryDiagnoser]
public class TransformerStepBenchmarks
{
    private (TransformerModel Model, SequenceBatch Batch, Adam Optimizer) oneLayer;
    private (TransformerModel Model, SequenceBatch Batch, Adam Optimizer) twoLayers;

    /// <summary>Sequence length.</summary>
    [Params(8, 51, 201)]
    public int N { get; set; }

    /// <summary>Builds the models and one seeded batch each.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (model, batch) = TransformerWorkload.Create(N, layers: 1);
        oneLayer = (model, batch, new Adam(1e-3));
        (model, batch) = TransformerWorkload.Create(N, layers: 2);
        twoLayers = (model, batch, new Adam(1e-3));
    }

    /// <summary>One layer.</summary>
    [Benchmark]
    public double TransformerStep() => Step(oneLayer);

    /// <summary>Two layers.</summary>
    [Benchmark]
    public double TransformerTwoLayerStep() => Step(twoLayers);

    private static double Step((TransformerModel Model, SequenceBatch Batch, Adam Optimizer) run)
    {
        foreach (var parameter in run.Model.Parameters)
        {
            parameter.ZeroGradient();
        }

        var outcome = run.Model.LossAndGradients(run.Batch, Environment.ProcessorCount);
        run.Optimizer.Update(run.Model.Parameters);
        return outcome.Loss;
    }
}

/// <summary>The transformer workloads of <see cref="TransformerStepBenchmarks"/> and the matrix-product FLOPs of one step.</summary>
public static class TransformerWorkload
{
    /// <summary>Notebook 09's reverse task: d_model, heads, feed-forward width and batch of its training cells.</summary>
    public const int ReverseDModel = 32, ReverseHeads = 1, ReverseFeedForward = 64, ReverseBatch = 32;

    /// <summary>Sequences per batch: notebook 09's at n = 8, notebook 10's (<see cref="LongRangeSettings.Notebook"/>) otherwise.</summary>
    /// <param name="n">Sequence length.</param>
    /// <returns>The batch size.</returns>
    public static int BatchSize(int n) => n == 8 ? ReverseBatch : LongRangeSettings.Notebook.BatchSize;

    /// <summary>
    /// A seeded model (fast path) and batch of <see cref="BatchSize"/> sequences of length <paramref name="n"/>: n = 8
    /// notebook 09's reverse task (<see cref="ReverseTask"/>, every position scored), any other n notebook 10's
    /// remember-the-first-token task at L = n - 1 (<see cref="RememberFirstTask"/>, one scored position), each at the
    /// notebook's sizes.
    /// </summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="layers">Transformer layers.</param>
    /// <returns>The model and the batch.</returns>
    public static (TransformerModel Model, SequenceBatch Batch) Create(int n, int layers)
    {
        ISequenceTask task = n == 8 ? new ReverseTask(8, 8) : new RememberFirstTask(n - 1);
        var settings = Settings(n, layers);
        return (new TransformerModel(settings), task.Sample(BatchSize(n), new Random(1)));
    }

    /// <summary>The model sizes <see cref="Create"/> uses.</summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="layers">Transformer layers.</param>
    /// <returns>The settings.</returns>
    public static TransformerSettings Settings(int n, int layers)
    {
        var notebook10 = LongRangeSettings.Notebook;
        return n == 8
            ? new TransformerSettings(new ReverseTask(8, 8).VocabularySize, 8, ReverseDModel, ReverseHeads, ReverseFeedForward, Seed: 1, Layers: layers)
            : new TransformerSettings(new RememberFirstTask(n - 1).VocabularySize, n, notebook10.DModel, notebook10.Heads, notebook10.FeedForward, Seed: 1, Layers: layers);
    }

    /// <summary>
    /// The FLOPs of one step's matrix products for <see cref="TransformerStepBenchmarks"/>' methods (null for other
    /// methods), from <see cref="Flops(TransformerSettings, int, int, int)"/> with the workload's scored positions.
    /// </summary>
    /// <param name="method">Benchmark method name.</param>
    /// <param name="n">Sequence length.</param>
    /// <returns>FLOPs, or null.</returns>
    public static double? StepFlops(string method, int n)
    {
        int? layers = method switch
        {
            nameof(TransformerStepBenchmarks.TransformerStep) => 1,
            nameof(TransformerStepBenchmarks.TransformerTwoLayerStep) => 2,
            _ => null,
        };
        return layers is { } l ? Flops(Settings(n, l), BatchSize(n), n, scored: n == 8 ? n : 1) : null;
    }

    /// <summary>
    /// Matrix-product FLOPs (2 per multiply-add) of one forward and backward pass, as the fast path does them, with
    /// <paramref name="scored"/> scored positions per sequence of n, d = d_model, F = d_ff, V the vocabulary:
    /// forward, per layer 8 n d² (Q, K, V, W_O) + 4 n² d (scores, weighted sum) + 4 n d F, and 2 n d V for the readout.
    /// Backward, every product twice (dX and dW) except that above the last layer's attention only the s scored rows
    /// carry gradient (the fast path skips the zero rows): readout 4 s d V, feed-forward 8 s d F, W_O 4 s d², attention
    /// 8 s n d, and W_Q 4 s d² but W_K, W_V 8 n d² (every key and value has a gradient); lower layers 2 x forward.
    /// Elementwise work (softmax, LayerNorm, GELU) and the optimizer are not counted.
    /// </summary>
    /// <param name="settings">The model's sizes.</param>
    /// <param name="sequences">Sequences in the batch.</param>
    /// <param name="n">Sequence length.</param>
    /// <param name="scored">Scored positions per sequence.</param>
    /// <returns>FLOPs per step.</returns>
    public static double Flops(TransformerSettings settings, int sequences, int n, int scored)
    {
        ArgumentNullException.ThrowIfNull(settings);
        double d = settings.DModel, f = settings.FeedForward, v = settings.VocabularySize, s = scored;
        var layer = (8 * n * d * d) + (4.0 * n * n * d) + (4 * n * d * f);
        var forward = (settings.Layers * layer) + (2 * n * d * v);
        var topBackward = (4 * s * d * v) + (8 * s * d * f) + (4 * s * d * d) + (8 * s * n * d) + (4 * s * d * d) + (8 * n * d * d);
        var lowerBackward = (settings.Layers - 1) * 2 * layer;
        return (forward + topBackward + lowerBackward) * sequences;
    }
}
