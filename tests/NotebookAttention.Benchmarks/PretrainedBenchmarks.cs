using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NotebookAttention.Pretrained;

namespace NotebookAttention.Benchmarks;

/// <summary>all-MiniLM-L6-v2 forward pass: this library's fast encoder against ONNX Runtime, same model, same machine.</summary>
[MemoryDiagnoser]
public class PretrainedBenchmarks
{
    private FastMiniLmEncoder encoder = null!;
    private InferenceSession session = null!;
    private long[] ids = [];
    private List<NamedOnnxValue> inputs = null!;

    /// <summary>Tokens.</summary>
    [Params(128, 512)]
    public int N { get; set; }

    /// <summary>Loads the model twice (ours and ONNX Runtime's, both cores) and makes an input of N word pieces.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var weights = MiniLmWeights.Load();
        encoder = new FastMiniLmEncoder(weights);
        session = new InferenceSession(weights.ModelBytes, new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, InterOpNumThreads = 1 });
        var random = new Random(N);
        ids = [101, .. Enumerable.Range(0, N - 2).Select(_ => (long)random.Next(2000, 20000)), 102];
        var inputIds = new DenseTensor<long>(ids, [1, N]);
        var mask = new DenseTensor<long>(Enumerable.Repeat(1L, N).ToArray(), [1, N]);
        var types = new DenseTensor<long>(new long[N], [1, N]);
        inputs = [NamedOnnxValue.CreateFromTensor("input_ids", inputIds), NamedOnnxValue.CreateFromTensor("attention_mask", mask), NamedOnnxValue.CreateFromTensor("token_type_ids", types)];
    }

    /// <summary>Releases ONNX Runtime.</summary>
    [GlobalCleanup]
    public void Cleanup() => session.Dispose();

    /// <summary>This library's fp32 encoder.</summary>
    [Benchmark]
    public float[] LibraryEncoder() => encoder.Forward(ids);

    /// <summary>ONNX Runtime on the same ONNX file.</summary>
    [Benchmark]
    public float OnnxRuntime()
    {
        using var results = session.Run(inputs);
        return results[0].AsTensor<float>()[0, 0, 0];
    }
}
