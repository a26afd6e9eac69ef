using System.Globalization;
using BenchmarkDotNet.Attributes;
using NotebookAttention.Training;

namespace NotebookAttention.Benchmarks;

/// <summary>
/// One training step (loss and gradients of a batch, then an Adam update) of each trainable model at notebook 10's
/// sizes: remember-the-first-token batches of <see cref="Batch"/> sequences of n = L + 1 tokens, hidden
/// <see cref="Hidden"/>, embedding <see cref="Embedding"/>, fp64, all cores.
/// </summary>
[MemoryDiagnoser]
public class TrainingBenchmarks
{
    /// <summary>Sequences per batch.</summary>
    public const int Batch = 32;

    /// <summary>h of the recurrent models.</summary>
    public const int Hidden = 32;

    /// <summary>e of the recurrent models.</summary>
    public const int Embedding = 16;

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
    }

    /// <summary>Elman RNN: BPTT over n steps and an Adam update.</summary>
    [Benchmark]
    public double ElmanStep() => Step(nameof(ElmanStep));

    /// <summary>LSTM: BPTT over n steps and an Adam update.</summary>
    [Benchmark]
    public double LstmStep() => Step(nameof(LstmStep));

    /// <summary>
    /// The matrix-product FLOPs of one step (2 per multiply-add; elementwise work, the loss and Adam's few operations per
    /// parameter are not counted), the count GFLOP/s are computed from; null for other methods. With B sequences, n
    /// positions, one scored position per sequence, and a cell whose pre-activations have width g (h for Elman, 4h for
    /// the LSTM): forward n·2B(e·g + h·g + h·V) (input, recurrence, readout at every position); backward
    /// n·4B(e·g + h·g) through the cell (weight gradients and gradients to X and H) plus 4B·h·V for the readout at the
    /// scored position.
    /// </summary>
    /// <param name="method">Benchmark method name.</param>
    /// <param name="n">Sequence length.</param>
    /// <returns>FLOPs, or null.</returns>
    public static double? Flops(string method, int n)
    {
        double? width = method switch
        {
            nameof(ElmanStep) => Hidden,
            nameof(LstmStep) => 4 * Hidden,
            _ => null,
        };
        if (width is not { } g)
        {
            return null;
        }

        const double b = Batch, e = Embedding, h = Hidden, v = Vocabulary;
        return (n * 2 * b * ((e * g) + (h * g) + (h * v))) + (n * 4 * b * ((e * g) + (h * g))) + (4 * b * h * v);
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
        yield return string.Create(c, $"Loss and gradients of a remember-the-first-token batch ({Batch} sequences of n = L + 1 tokens, hidden {Hidden}, embedding {Embedding}, {Vocabulary} ids) and an Adam update, fp64 on the fast path, all cores. FLOPs count the matrix products only (TrainingBenchmarks.Flops states the formula); fp64 SIMD holds half as many numbers per register as fp32, so its FMA ceiling is half the fp32 one above.");
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
