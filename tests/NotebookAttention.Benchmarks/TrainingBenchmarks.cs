using System.Globalization;
using BenchmarkDotNet.Attributes;
using NotebookAttention.Training;

namespace NotebookAttention.Benchmarks;

/// <summary>
/// One training step (loss and gradients of a batch, then an Adam update) of the Elman RNN and the LSTM at notebook 10's
/// sizes (read from <see cref="LongRangeSettings.Notebook"/>, so they follow the notebook): remember-the-first-token batches of
/// <see cref="Batch"/> sequences of n = L + 1 tokens, hidden <see cref="Hidden"/>, embedding <see cref="Embedding"/>,
/// fp64 fast path, all cores. The transformer's step is <see cref="TransformerStepBenchmarks"/>; <see cref="Table"/>
/// puts all three in one table of RESULTS.md.
/// </summary>
[MemoryDiagnoser]
public class TrainingBenchmarks
{
    /// <summary>Sequences per batch: notebook 10's.</summary>
    public static int Batch => LongRangeSettings.Notebook.BatchSize;

    /// <summary>h of the recurrent models: notebook 10's.</summary>
    public static int Hidden => LongRangeSettings.Notebook.Hidden;

    /// <summary>e of the recurrent models: notebook 10's.</summary>
    public static int Embedding => LongRangeSettings.Notebook.Embedding;

    /// <summary>Ids of <see cref="RememberFirstTask"/> (10 digits, 8 signals, '?', padding).</summary>
    public static int Vocabulary => new RememberFirstTask(1).VocabularySize;

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
        var settings = new RecurrentSettings(Vocabulary, Hidden, Embedding, Seed: 1, LongRangeSettings.Notebook.ForgetBias);
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
    /// Matrix-product FLOPs (2 per multiply-add) of one step as the fast path does them, the count GFLOP/s are computed
    /// from; null for other methods. With B sequences of n positions, one scored position per sequence, V ids, and a
    /// cell whose pre-activations have width g (h for Elman, 4h for the LSTM): forward n·2B(e·g + h·g + h·V) (input,
    /// recurrence, readout at every position); backward n·4B(e·g + h·g) through the cell (weight gradients and the
    /// gradients sent to X and H) plus 4B·h·V for the readout at the scored position. Elementwise work (tanh, the
    /// gates), the loss and Adam are not counted.
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

        double b = Batch, e = Embedding, h = Hidden, v = Vocabulary;
        return (n * 2 * b * ((e * g) + (h * g) + (h * v))) + (n * 4 * b * ((e * g) + (h * g))) + (4 * b * h * v);
    }

    /// <summary>The FLOPs of any training-step row: the recurrent models' (<see cref="Flops"/>) or the transformer's (<see cref="TransformerWorkload.StepFlops"/>).</summary>
    /// <param name="method">Benchmark method name.</param>
    /// <param name="n">Sequence length.</param>
    /// <returns>FLOPs, or null for rows that are not a training step.</returns>
    public static double? StepFlops(string method, int n) => Flops(method, n) ?? TransformerWorkload.StepFlops(method, n);

    /// <summary>The training rows of RESULTS.md, fp64, in their own table (their ceiling is half the fp32 one).</summary>
    /// <param name="rows">All measured rows.</param>
    /// <returns>Markdown lines (none when no training row was measured).</returns>
    public static IEnumerable<string> Table(IReadOnlyList<Row> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var training = rows.Where(r => StepFlops(r.Method, r.N) is not null).OrderBy(r => r.N).ThenBy(r => r.Method, StringComparer.Ordinal).ToList();
        if (training.Count == 0)
        {
            yield break;
        }

        var c = CultureInfo.InvariantCulture;
        yield return string.Empty;
        yield return "## One training step (notebooks 09 and 10's sizes)";
        yield return string.Empty;
        yield return string.Create(c, $"Loss and gradients of a remember-the-first-token batch (n = L + 1 tokens, {Vocabulary} ids) and an Adam update, fp64 on the fast paths, all cores; the Elman RNN and the LSTM with batch {Batch}, hidden {Hidden}, embedding {Embedding}; the transformer as notebook 10 trains it at n = 51 and 201 (d_model {TransformerWorkload.Settings(51, 1).DModel}, {TransformerWorkload.Settings(51, 1).Heads} heads, feed-forward {TransformerWorkload.Settings(51, 1).FeedForward}, batch {TransformerWorkload.BatchSize(51)}) and as notebook 09 trains it on its reverse task at n = 8 (d_model {TransformerWorkload.Settings(8, 1).DModel}, {TransformerWorkload.Settings(8, 1).Heads} head, feed-forward {TransformerWorkload.Settings(8, 1).FeedForward}, batch {TransformerWorkload.BatchSize(8)}); the two-layer rows add a second block. FLOPs count the matrix products the fast paths do (TrainingBenchmarks.Flops and TransformerWorkload.Flops state the formulas); fp64 SIMD holds half as many numbers per register as fp32, so its FMA ceiling is half the fp32 one above.");
        yield return string.Empty;
        yield return "| Model step | n | median | GFLOP (counted) | GFLOP/s | allocated |";
        yield return "| --- | ---: | ---: | ---: | ---: | ---: |";
        foreach (var row in training)
        {
            yield return string.Create(c, $"| {row.Method} | {row.N} | {row.Milliseconds:0.00} ms | {StepFlops(row.Method, row.N) / 1e9:0.000} | {row.Gflops:0.00} | {row.AllocatedBytes / 1048576.0:0.0} MiB |");
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
