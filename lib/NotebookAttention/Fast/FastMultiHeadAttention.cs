using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Fast;

/// <summary>
/// Multi-head attention on the fast path: the same weights as a <see cref="Attention.MultiHeadAttention"/>, in
/// fp32, with fast projections and tiled attention per head (heads in parallel for short sequences, query blocks
/// in parallel for long ones).
/// </summary>
public sealed class FastMultiHeadAttention
{
    private readonly PackedMatrix[] weights;   // W_Q, W_K, W_V, W_O, packed once

    /// <summary>Copies the weights of a reference layer.</summary>
    public FastMultiHeadAttention(Attention.MultiHeadAttention layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        (Attention.LinearProjection Projection, string Name)[] projections =
            [(layer.Projections.Query, "W_Q"), (layer.Projections.Key, "W_K"), (layer.Projections.Value, "W_V"), (layer.OutputProjection, "W_O")];
        weights = [.. projections.Select(p => new PackedMatrix(
            Fp32.FromMatrix(p.Projection.Weight, $"weight {p.Name}", nameof(layer)),
            p.Projection.Bias is null ? [] : Fp32.FromMatrix(p.Projection.Bias.ToRowMatrix(), $"bias of {p.Name}", nameof(layer)),
            p.Projection.Weight.RowCount,
            p.Projection.Weight.ColumnCount))];
        DModel = layer.DModel;
        Heads = layer.Heads;
        HeadDK = layer.HeadDK;
        HeadDV = layer.HeadDV;
        OutputSize = layer.OutputProjection.OutputSize;
    }

    /// <summary>Input vector length.</summary>
    public int DModel { get; }

    /// <summary>Number of heads.</summary>
    public int Heads { get; }

    /// <summary>Query and key length per head.</summary>
    public int HeadDK { get; }

    /// <summary>Value length per head.</summary>
    public int HeadDV { get; }

    /// <summary>Output vector length.</summary>
    public int OutputSize { get; }

    /// <summary>Runs the layer on token vectors: X [n x d_model], row-major, into the output [n x output size]; the mask is shared by all heads.</summary>
    /// <exception cref="ArgumentOutOfRangeException">n is below 1, or the buffers for n tokens would not fit in one array.</exception>
    /// <exception cref="ArgumentException">
    /// A buffer has the wrong length, the mask does not fit n, X holds NaN or infinity, or a projection, the scores
    /// or the weighted sums overflow fp32. All sizes and the mask are checked before anything is allocated.
    /// </exception>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int n, FastMask mask = default, CancellationToken cancellation = default)
    {
        Check.AtLeast(n, 1, "token count n", nameof(n));
        var dk = HeadDK * Heads;
        var dv = HeadDV * Heads;
        Check.TableFits(n, Math.Max(Math.Max(dk, dv), Math.Max(DModel, OutputSize)), "the projected tokens", "run fewer tokens at a time", nameof(n));
        Check.TableFits(FastAttention.RoundUp(n, FastAttention.KeyBlock), FastAttention.RoundUp(Math.Max(HeadDK, HeadDV), Microkernels.Columns), "one head's keys and values packed in whole blocks of 128 keys", "run fewer tokens at a time", nameof(n));
        Check.Length(input.Length, n, DModel, "input X", "n x d_model", nameof(input));
        Check.Length(output.Length, n, OutputSize, "output", "n x output size", nameof(output));
        mask.Validate(n, n);
        Check.Finite(input, n, DModel, "input X", "every entry must be a finite number; look at the step that produced X", nameof(input));

        var q = new float[n * dk];
        var k = new float[n * dk];
        var v = new float[n * dv];
        weights[0].Multiply(input, q, n);
        weights[1].Multiply(input, k, n);
        weights[2].Multiply(input, v, n);
        Check.Finite(q, n, dk, "the queries X W_Q", Overflowed("X W_Q"), nameof(input));
        Check.Finite(k, n, dk, "the keys X W_K", Overflowed("X W_K"), nameof(input));
        Check.Finite(v, n, dv, "the values X W_V", Overflowed("X W_V"), nameof(input));

        // Each head reads its columns of Q, K and V in place and writes its columns of the concatenation: no copies.
        var concatenated = new float[n * dv];
        var headsInParallel = FastAttention.RoundUp(n, FastAttention.QueryBlock) / FastAttention.QueryBlock < Environment.ProcessorCount;
        ArgumentException? headFailure = null;
        Parallel.For(0, Heads, new ParallelOptions { MaxDegreeOfParallelism = headsInParallel ? Environment.ProcessorCount : 1, CancellationToken = cancellation }, head =>
        {
            try
            {
                Attend(q, k, v, concatenated, head, n, mask, headsInParallel ? 1 : Environment.ProcessorCount, cancellation);
            }
            catch (ArgumentException error)
            {
                // Kept and rethrown on the caller's thread, so it does not arrive wrapped in an AggregateException.
                Interlocked.CompareExchange(ref headFailure, new ArgumentException($"head {head}: {error.Message}", nameof(input), error), null);
            }
        });
        if (headFailure is not null)
        {
            throw headFailure;
        }

        weights[3].Multiply(concatenated, output, n);
        var valid = mask.ValidLength ?? n;
        output[(valid * OutputSize)..].Clear();
        Check.Finite(output, n, OutputSize, "the output", Overflowed("the output projection (concatenated heads) W_O"), nameof(output));
    }

    /// <summary>Runs the layer on a MathNet matrix (converted to fp32 and back).</summary>
    /// <returns>The output [n x output size] for X [n x d_model].</returns>
    public Matrix<double> Forward(Matrix<double> input, FastMask mask = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        Check.Finite(input, "input X", nameof(input));
        if (input.ColumnCount != DModel)
        {
            throw new ArgumentException($"X is {Check.Shape(input)} but the layer reads vectors of length {DModel}: X needs {DModel} columns.", nameof(input));
        }

        var output = new float[input.RowCount * OutputSize];
        Forward(Fp32.FromMatrix(input, "input X", nameof(input)), output, input.RowCount, mask);
        return Fp32.ToMatrix(output, input.RowCount, OutputSize);
    }

    private static string Overflowed(string product) =>
        $"{product} overflowed fp32 (±3.4e38) although its inputs are finite; scale X down (for example normalise the token vectors)";

    /// <summary>softmax(Q_h K_h^T / sqrt(d_k)) V_h of one head, on its column slices of Q, K, V and the concatenation.</summary>
    private unsafe void Attend(float[] q, float[] k, float[] v, float[] concatenated, int head, int n, FastMask mask, int threads, CancellationToken cancellation)
    {
        var (dk, dv) = (HeadDK * Heads, HeadDV * Heads);
        fixed (float* pq = q, pk = k, pv = v, po = concatenated)
        {
            AttentionCore.Run(AttentionPass.Tiled,
                new StridedRows(pq + (head * HeadDK), dk), new StridedRows(pk + (head * HeadDK), dk), new StridedRows(pv + (head * HeadDV), dv), new StridedRows(po + (head * HeadDV), dv),
                n, n, HeadDK, HeadDV, mask, threads, checkNumbers: true, cancellation);
        }
    }
}
