using System.Globalization;
using BenchmarkDotNet.Attributes;
using NotebookAttention.Training;

namespace NotebookAttention.Benchmarks;

/// <summary>
/// One training step (loss and gradients of a batch, then an Adam update) of each trainable model at notebook 10's
/// sizes (its LongRangeSettings.Notebook when this was written): remember-the-first-token batches of
/// <see cref="Batch"/> sequences of n = L + 1 tokens; recurrent models with hidden <see cref="Hidden"/> and embedding
/// <see cref="Embedding"/>; a one-layer transformer with d_model <see cref="DModel"/>, <see cref="Heads"/> heads and
/// feed-forward width <see cref="FeedForward"/>; fp64 fast paths, all cores.
/// </summary>
[MemoryDiagnoser]
public class TrainingBenchmarks
{
    /// <summary>Sequences per batch.</summary>
    public const int Batch = 64;

    /// <summary>h of the recurrent models.</summary>
    public const int Hidden = 16;

    /// <summary>e of the recurrent models.</summary>
    public const int Embedding = 8;

    /// <summary>d_model of the transformer.</summary>
    public const int DModel = 16;

    /// <summary>Attention heads of the transformer.</summary>
    public const int Heads = 2;

    /// <summary>Feed-forward width of the transformer.</summary>
    public const int FeedForward = 32;

    /// <summary>Ids of <see cref="RememberFirstTask"/> (10 digits, 8 signals, '?', padding).</summary>
    public const int Vocabulary = 20;

    private readonly Dictionary<string, (ISequenceModel Model, IOptimizer Optimizer)> models = [];
    private SequenceBatch batch = null!;

    /// <summary>Sequence length n = L + 1 (L = 50 and 200).</summary>
    [Params(51, 201)]
    public int N { get; set; }

    /// <summary>Makes the batch and the models.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var task = new RememberFirstTask(N - 1);
        batch = task.Sample(Batch, new Random(1));
        var settings = new RecurrentSettings(Vocabulary, Hidden, Embedding, Seed: 1);
        models[nameof(ElmanStep)] = (new ElmanRnnModel(settings), new Adam(1e-3));
        models[nameof(LstmStep)] = (new LstmModel(settings), new Adam(1e-3));
        models[nameof(TransformerStep)] = (new TransformerModel(new TransformerSettings(Vocabulary, N, DModel, Heads, FeedForward, Seed: 1)), new Adam(1e-3));
    }

    /// <summary>Elman RNN: BPTT over n steps and an Adam update.</summary>
    [Benchmark]
    public double ElmanStep() => Step(nameof(ElmanStep));

    /// <summary>LSTM: BPTT over n steps and an Adam update.</summary>
    [Benchmark]
    public double LstmStep() => Step(nameof(LstmStep));

    /// <summary>One-layer transformer: attention over all n positions at once, backward and an Adam update.</summary>
    [Benchmark]
    public double TransformerStep() => Step(nameof(TransformerStep));

    /// <summary>
    /// The FLOPs one step is counted as, the number GFLOP/s are computed from; null for other methods. The convention
    /// is 3 × the forward pass's matrix products (2 FLOPs per multiply-add), because the backward pass of a product
    /// costs two products of the same size. Elementwise work, the loss and Adam are not counted, and the real backward
    /// work is smaller where nothing flows back (the readout is scored at one position per sequence, and the
    /// transformer's fast path skips rows whose gradient is exactly zero): the rate is one yardstick for the three
    /// models, not a measured count. Forward products per batch of B sequences of n tokens and V ids: recurrent, with
    /// pre-activation width g (h for Elman, 4h for the LSTM), n·2B(e·g + h·g + h·V); transformer,
    /// B·(2n(4d² + 2d·d_ff + d·V) + 4n²d) (Q, K, V and O, the two feed-forward layers, the readout, the scores and the
    /// weighted sum).
    /// </summary>
    /// <param name="method">Benchmark method name.</param>
    /// <param name="n">Sequence length.</param>
    /// <returns>FLOPs, or null.</returns>
    public static double? Flops(string method, int n)
    {
        const double b = Batch, e = Embedding, h = Hidden, v = Vocabulary, d = DModel, f = FeedForward;
        double? forward = method switch
        {
            nameof(ElmanStep) => n * 2 * b * ((e * h) + (h * h) + (h * v)),
            nameof(LstmStep) => n * 2 * b * ((e * 4 * h) + (h * 4 * h) + (h * v)),
            nameof(TransformerStep) => b * ((2.0 * n * ((4 * d * d) + (2 * d * f) + (d * v))) + (4.0 * n * n * d)),
            _ => null,
        };
        return 3 * forward;
    }

    /// <summary>The training rows of RESULTS.md, fp64, in their own table (their ceiling is half the fp32 one).</summary>
    /// <param name="rows">All measured rows.</param>
    /// <returns>Markdown lines (none when no training row was measured).</returns>
    public static IEnumerable<string> Table(IReadOnlyList<Row> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var training = rows.Where(r => Flops(r.Method, r.N) is not null).OrderBy(r => r.N).ThenBy(r => r.Method, StringComparer.Ordinal).ToList();
        if (training.Count == 0)
        {
            yield break;
        }

        var c = CultureInfo.InvariantCulture;
        yield return string.Empty;
        yield return "## One training step (notebook 10's sizes)";
        yield return string.Empty;
        yield return string.Create(c, $"Loss and gradients of a remember-the-first-token batch ({Batch} sequences of n = L + 1 tokens, {Vocabulary} ids) and an Adam update, fp64 on the fast paths, all cores; recurrent models hidden {Hidden}, embedding {Embedding}; transformer d_model {DModel}, {Heads} heads, d_ff {FeedForward}, one layer. FLOPs are counted as 3 × the forward pass's matrix products (TrainingBenchmarks.Flops states the formulas; a yardstick, not a count of the backward work, which is smaller); fp64 SIMD holds half as many numbers per register as fp32, so its FMA ceiling is half the fp32 one above.");
        yield return string.Empty;
        yield return "| Model step | n | median | GFLOP (counted) | GFLOP/s | allocated |";
        yield return "| --- | ---: | ---: | ---: | ---: | ---: |";
        foreach (var row in training)
        {
            yield return string.Create(c, $"| {row.Method} | {row.N} | {row.Milliseconds:0.00} ms | {Flops(row.Method, row.N) / 1e9:0.000} | {row.Gflops:0.00} | {row.AllocatedBytes / 1048576.0:0.0} MiB |");
        }
    }

    private double Step(string name)
    {
        var (model, optimizer) = models[name];
        foreach (var p in model.Parameters)
        {
            p.ZeroGradient();
        }

        var outcome = model.LossAndGradients(batch, Environment.ProcessorCount);
        optimizer.Update(model.Parameters);
        return outcome.Loss;
    }
}
