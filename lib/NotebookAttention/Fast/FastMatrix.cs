using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Fast;

/// <summary>fp32 matrix products on the register-tiled kernel, for the projections of fast multi-head attention.</summary>
public static class FastMatrix
{
    private const int RowBlock = 96;

    /// <summary>Rows per parallel task when working in place (a multiple of the 6-row tile).</summary>
    private const int InPlaceRowBlock = 48;

    /// <summary>C = A B (+ bias on every row), all row-major.</summary>
    /// <param name="a">A [rows x inner].</param>
    /// <param name="b">B [inner x columns].</param>
    /// <param name="bias">Added to every row of C (length columns), or empty for none.</param>
    /// <param name="c">Receives C [rows x columns].</param>
    /// <param name="rows">Rows of A and C.</param>
    /// <param name="inner">Columns of A, rows of B.</param>
    /// <param name="columns">Columns of B and C.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public static unsafe void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int rows, int inner, int columns)
    {
        Check.AtLeast(rows, 1, "rows", nameof(rows));
        Check.AtLeast(inner, 1, "inner size", nameof(inner));
        Check.AtLeast(columns, 1, "columns", nameof(columns));
        CheckLength(a.Length, (long)rows * inner, "A", rows, inner);
        CheckLength(b.Length, (long)inner * columns, "B", inner, columns);
        CheckLength(c.Length, (long)rows * columns, "C", rows, columns);
        if (bias.Length != 0 && bias.Length != columns)
        {
            throw new ArgumentException($"the bias has {bias.Length} entries but C has {columns} columns: give one per column, or none.", nameof(bias));
        }

        if (columns % Microkernels.Columns == 0)
        {
            MultiplyInPlace(a, b, bias, c, rows, inner, columns);
            return;
        }

        var paddedRows = FastAttention.RoundUp(rows, RowBlock);
        var paddedColumns = FastAttention.RoundUp(columns, Microkernels.Columns);
        var left = GC.AllocateArray<float>(paddedRows * inner, pinned: true);
        a.CopyTo(left);
        var right = GC.AllocateArray<float>(inner * paddedColumns, pinned: true);
        for (var k = 0; k < inner; k++)
        {
            b.Slice(k * columns, columns).CopyTo(right.AsSpan(k * paddedColumns));
        }

        var product = GC.AllocateArray<float>(paddedRows * paddedColumns, pinned: true);
        if (bias.Length != 0)
        {
            for (var r = 0; r < rows; r++)
            {
                bias.CopyTo(product.AsSpan(r * paddedColumns));
            }
        }

        var blocks = paddedRows / RowBlock;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, block =>
        {
            fixed (float* pa = left, pb = right, pc = product)
            {
                Microkernels.AccumulateProduct(pa + (block * RowBlock * inner), inner, pb, paddedColumns, inner, pc + (block * RowBlock * paddedColumns), paddedColumns, RowBlock, paddedColumns);
            }
        });
        for (var r = 0; r < rows; r++)
        {
            product.AsSpan(r * paddedColumns, columns).CopyTo(c.Slice(r * columns, columns));
        }
    }

    /// <summary>
    /// The common case of model weights (column count a multiple of 16): A, B and C are used where they are, and
    /// only the last rows that do not fill a 6-row tile go through a small padded copy.
    /// </summary>
    private static unsafe void MultiplyInPlace(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c, int rows, int inner, int columns)
    {
        for (var r = 0; r < rows; r++)
        {
            if (bias.Length != 0)
            {
                bias.CopyTo(c.Slice(r * columns, columns));
            }
            else
            {
                c.Slice(r * columns, columns).Clear();
            }
        }

        var tiled = rows / Microkernels.Rows * Microkernels.Rows;
        fixed (float* pa = a, pb = b, pc = c)
        {
            nint left = (nint)pa, right = (nint)pb, product = (nint)pc;
            var blocks = (tiled + InPlaceRowBlock - 1) / InPlaceRowBlock;
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, block =>
            {
                var first = block * InPlaceRowBlock;
                var count = Math.Min(InPlaceRowBlock, tiled - first);
                Microkernels.AccumulateProduct((float*)left + ((long)first * inner), inner, (float*)right, columns, inner, (float*)product + ((long)first * columns), columns, count, columns);
            });

            var rest = rows - tiled;
            if (rest > 0)
            {
                var tailA = new float[Microkernels.Rows * inner];
                var tailC = new float[Microkernels.Rows * columns];
                a.Slice(tiled * inner, rest * inner).CopyTo(tailA);
                c.Slice(tiled * columns, rest * columns).CopyTo(tailC);
                fixed (float* ta = tailA, tc = tailC)
                {
                    Microkernels.AccumulateProduct(ta, inner, pb, columns, inner, tc, columns, Microkernels.Rows, columns);
                }

                tailC.AsSpan(0, rest * columns).CopyTo(c.Slice(tiled * columns));
            }
        }
    }

    private static void CheckLength(int actual, long expected, string what, int rows, int columns)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{what} has {actual:N0} floats but a row-major [{rows} x {columns}] matrix needs {expected:N0}.", what);
        }
    }
}

/// <summary>
/// Multi-head attention on the fast path: the same weights as a <see cref="Attention.MultiHeadAttention"/>, in
/// fp32, with fast projections and tiled attention per head (heads in parallel for short sequences, query blocks
/// in parallel for long ones).
/// </summary>
public sealed class FastMultiHeadAttention
{
    private readonly float[][] weights;   // W_Q, W_K, W_V, W_O row-major
    private readonly float[][] biases;    // empty where a projection has no bias

    /// <summary>Copies the weights of a reference layer.</summary>
    /// <param name="layer">The reference layer.</param>
    public FastMultiHeadAttention(Attention.MultiHeadAttention layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Attention.LinearProjection[] projections = [layer.Projections.Query, layer.Projections.Key, layer.Projections.Value, layer.OutputProjection];
        weights = [.. projections.Select(p => Fp32.FromMatrix(p.Weight))];
        biases = [.. projections.Select(p => p.Bias is null ? [] : Fp32.FromVector(p.Bias))];
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
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int n, FastMask mask = default, CancellationToken cancellation = default)
    {
        var dk = HeadDK * Heads;
        var dv = HeadDV * Heads;
        var q = new float[n * dk];
        var k = new float[n * dk];
        var v = new float[n * dv];
        FastMatrix.Multiply(input, weights[0], biases[0], q, n, DModel, dk);
        FastMatrix.Multiply(input, weights[1], biases[1], k, n, DModel, dk);
        FastMatrix.Multiply(input, weights[2], biases[2], v, n, DModel, dv);
        var concatenated = new float[n * dv];
        var headsInParallel = FastAttention.RoundUp(n, FastAttention.QueryBlock) / FastAttention.QueryBlock < Environment.ProcessorCount;
        Parallel.For(0, Heads, new ParallelOptions { MaxDegreeOfParallelism = headsInParallel ? Environment.ProcessorCount : 1, CancellationToken = cancellation }, head =>
        {
            var hq = Slice(q, n, dk, head * HeadDK, HeadDK);
            var hk = Slice(k, n, dk, head * HeadDK, HeadDK);
            var hv = Slice(v, n, dv, head * HeadDV, HeadDV);
            var ho = new float[n * HeadDV];
            FastAttention.Tiled(hq, hk, hv, ho, n, n, HeadDK, HeadDV, mask, cancellation: cancellation);
            for (var row = 0; row < n; row++)
            {
                ho.AsSpan(row * HeadDV, HeadDV).CopyTo(concatenated.AsSpan((row * dv) + (head * HeadDV)));
            }
        });
        FastMatrix.Multiply(concatenated, weights[3], biases[3], output, n, dv, OutputSize);
        var valid = mask.ValidLength ?? n;
        output[(valid * OutputSize)..].Clear();
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
        Forward(Fp32.FromMatrix(input), output, input.RowCount, mask);
        return Fp32.ToMatrix(output, input.RowCount, OutputSize);
    }

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
