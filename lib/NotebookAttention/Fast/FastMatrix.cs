using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Fast;

/// <summary>fp32 matrix products, for callers that multiply by a matrix once (for repeated products keep a <see cref="PackedMatrix"/>).</summary>
public static class FastMatrix
{
    /// <summary>C = A B (+ bias on every row), all row-major: B is packed for this one product, then multiplied.</summary>
    /// <param name="a">A [rows x inner].</param>
    /// <param name="b">B [inner x columns].</param>
    /// <param name="bias">Added to every row of C (length columns), or empty for none.</param>
    /// <param name="c">Receives C [rows x columns].</param>
    /// <param name="rows">Rows of A and C.</param>
    /// <param name="inner">Columns of A, rows of B.</param>
    /// <param name="columns">Columns of B and C.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int rows, int inner, int columns) =>
        new PackedMatrix(b, bias, inner, columns).Multiply(a, c, rows);
}

/// <summary>
/// Multi-head attention on the fast path: the same weights as a <see cref="Attention.MultiHeadAttention"/>, in
/// fp32, with fast projections and tiled attention per head (heads in parallel for short sequences, query blocks
/// in parallel for long ones).
/// </summary>
public sealed class FastMultiHeadAttention
{
    private readonly PackedMatrix[] weights;   // W_Q, W_K, W_V, W_O, packed once

    /// <summary>Copies the weights of a reference layer.</summary>
    /// <param name="layer">The reference layer.</param>
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

    /// <summary>Runs the layer on token vectors.</summary>
    /// <param name="input">X, row-major [n x d_model].</param>
    /// <param name="output">Receives [n x output size].</param>
    /// <param name="n">Number of tokens.</param>
    /// <param name="mask">Masks, shared by all heads.</param>
    /// <param name="cancellation">Stops a long run.</param>
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

        var concatenated = new float[n * dv];
        var headsInParallel = FastAttention.RoundUp(n, FastAttention.QueryBlock) / FastAttention.QueryBlock < Environment.ProcessorCount;
        ArgumentException? headFailure = null;
        Parallel.For(0, Heads, new ParallelOptions { MaxDegreeOfParallelism = headsInParallel ? Environment.ProcessorCount : 1, CancellationToken = cancellation }, head =>
        {
            var hq = Slice(q, n, dk, head * HeadDK, HeadDK);
            var hk = Slice(k, n, dk, head * HeadDK, HeadDK);
            var hv = Slice(v, n, dv, head * HeadDV, HeadDV);
            var ho = new float[n * HeadDV];
            try
            {
                // Q, K and V were checked whole above: the heads' slices are not scanned again.
                FastAttention.Tiled(hq, hk, hv, ho, n, n, HeadDK, HeadDV, mask, threads: null, checkNumbers: true, cancellation, scanInputs: false);
            }
            catch (ArgumentException error)
            {
                // Kept and rethrown on the caller's thread, so it does not arrive wrapped in an AggregateException.
                Interlocked.CompareExchange(ref headFailure, new ArgumentException($"head {head}: {error.Message}", nameof(input), error), null);
                return;
            }

            for (var row = 0; row < n; row++)
            {
                ho.AsSpan(row * HeadDV, HeadDV).CopyTo(concatenated.AsSpan((row * dv) + (head * HeadDV)));
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
    /// <param name="input">X [n x d_model].</param>
    /// <param name="mask">Masks.</param>
    /// <returns>The output [n x output size].</returns>
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

    private static float[] Slice(float[] source, int rows, int stride, int offset, int width)
    {
        var slice = new float[rows * width];
        for (var row = 0; row < rows; row++)
        {
            source.AsSpan((row * stride) + offset, width).CopyTo(slice.AsSpan(row * width));
        }

        return slice;
    }
}
