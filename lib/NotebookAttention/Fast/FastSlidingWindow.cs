using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NotebookAttention.Fast;

/// <summary>
/// Fast fp32 sliding-window attention: query i attends only to keys i - w .. i + w (causal: i - w .. i), with
/// softmax(q_i k_j / sqrt(d)) over those keys. Its arithmetic is <see cref="Flops"/>, about n (2w + 1)(2 d + 2 d_v):
/// linear in n for a fixed window, against 4 n² d for exact attention.
/// </summary>
/// <remarks>
/// <para>Queries are taken in blocks of <see cref="QueryBlock"/>. A block scores only the band of keys its windows
/// reach (at most <see cref="QueryBlock"/> + 2w keys, rounded up to 16) with the same register tiles
/// (<see cref="Microkernels.Product"/>) as <see cref="FastAttention.Tiled(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, int, FastMask, int?, CancellationToken)"/>;
/// each row's softmax runs over its own window only, so at w = 128 the kernel computes about 1.1 times the
/// scores the window needs (the tiled kernel with a window mask visits whole 96 x 128 tiles: about 2 times).</para>
/// <para>Inputs are checked once at entry (lengths, window, NaN and infinity); scores or sums that leave the fp32
/// range are reported with the query row. Buffers come from <see cref="ArrayPool{T}.Shared"/> once per call and
/// per worker; the loop over blocks allocates nothing.</para>
/// </remarks>
public static class FastSlidingWindow
{
    /// <summary>Queries per block (a multiple of the 6-row register tile): small, so the band wastes little beyond the window.</summary>
    public const int QueryBlock = 24;

    private const string InputRemedy = "every entry must be a finite number; look at the step that produced this buffer";

    /// <summary>Sliding-window attention on row-major fp32 buffers (self-attention: as many keys as queries).</summary>
    /// <param name="queries">Q [n x depth].</param>
    /// <param name="keys">K [n x depth].</param>
    /// <param name="values">V [n x valueDepth].</param>
    /// <param name="output">Receives [n x valueDepth].</param>
    /// <param name="n">Sequence length.</param>
    /// <param name="depth">d_k.</param>
    /// <param name="valueDepth">d_v.</param>
    /// <param name="window">How far a token looks in each direction (0: itself only).</param>
    /// <param name="causal">Look only backwards (keys i - w .. i).</param>
    /// <param name="threads">Cores to use; null for all.</param>
    /// <param name="cancellation">Stops a long run between blocks.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length, the window is negative, an input holds NaN or infinity, or the scores or sums overflow fp32.</exception>
    public static void Compute(
        ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        int n, int depth, int valueDepth, int window, bool causal = false, int? threads = null, CancellationToken cancellation = default)
    {
        Check.AtLeast(n, 1, "n", nameof(n));
        Check.AtLeast(depth, 1, "d_k", nameof(depth));
        Check.AtLeast(valueDepth, 1, "d_v", nameof(valueDepth));
        if (window < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, $"window {window} is negative: a token sees the tokens at most window positions away, so use 0 (itself only) or more.");
        }

        Check.Length(queries.Length, n, depth, "queries", "n x d_k", nameof(queries));
        Check.Length(keys.Length, n, depth, "keys", "n x d_k", nameof(keys));
        Check.Length(values.Length, n, valueDepth, "values", "n x d_v", nameof(values));
        Check.Length(output.Length, n, valueDepth, "output", "n x d_v", nameof(output));
        Check.Finite(queries, n, depth, "queries Q", InputRemedy, nameof(queries));
        Check.Finite(keys, n, depth, "keys K", InputRemedy, nameof(keys));
        Check.Finite(values, n, valueDepth, "values V", InputRemedy, nameof(values));
        unsafe
        {
            fixed (float* q = queries, k = keys, v = values, o = output)
            {
                using var band = new Band(q, k, v, o, n, depth, valueDepth, Math.Min(window, n - 1), causal);
                band.Run(Math.Max(1, threads ?? Environment.ProcessorCount), cancellation);
            }
        }
    }

    /// <summary>Query-key pairs the window lets through: n (2w + 1) - w (w + 1), causal n (w + 1) - w (w + 1) / 2 (w capped at n - 1).</summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="window">The window w.</param>
    /// <param name="causal">Backwards only.</param>
    public static long VisiblePairs(long n, int window, bool causal = false)
    {
        Check.AtLeast(n, 1, "n", nameof(n));
        Check.AtLeast(window, 0, "window", nameof(window));
        var w = Math.Min(window, n - 1);
        return causal ? (n * (w + 1)) - (w * (w + 1) / 2) : (n * ((2 * w) + 1)) - (w * (w + 1));
    }

    /// <summary>
    /// The arithmetic sliding-window attention needs: 2 d FLOPs per visible score (a dot product) and 2 d_v per
    /// visible pair in the weighted sum, the convention of <see cref="Cost.AttentionCost.Flops"/> (exponentials and
    /// the normalisation are not counted).
    /// </summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="depth">d_k.</param>
    /// <param name="valueDepth">d_v.</param>
    /// <param name="window">The window w.</param>
    /// <param name="causal">Backwards only.</param>
    /// <returns>FLOPs.</returns>
    public static double Flops(long n, int depth, int valueDepth, int window, bool causal = false) =>
        VisiblePairs(n, window, causal) * (2.0 * (depth + valueDepth));

    /// <summary>One call's problem, shared by the workers: pointers into the caller's pinned buffers plus pooled copies.</summary>
    private sealed unsafe class Band : IDisposable
    {
        private readonly float* queries;
        private readonly float* values;
        private readonly float* output;
        private readonly float* keysTransposed;   // pinned address of transposedKeys
        private readonly int n;
        private readonly int depth;
        private readonly int valueDepth;
        private readonly int paddedValueDepth;
        private readonly int window;
        private readonly bool causal;
        private readonly float scale;
        private readonly int keyStride;      // row stride of K transposed: n rounded up to 16, plus 16 so a band's last 16 columns exist
        private readonly int bandWidth;      // columns of a worker's score tile
        private readonly float[] transposedKeys;    // [depth x keyStride], K transposed, pooled
        private readonly float[]? paddedValues;     // [n x paddedValueDepth] when d_v is not a multiple of 16, pooled
        private readonly GCHandle keysHandle;
        private readonly GCHandle valuesHandle;
        private ArgumentException? failure;

        public Band(float* queries, float* keys, float* values, float* output, int n, int depth, int valueDepth, int window, bool causal)
        {
            this.queries = queries;
            this.output = output;
            this.n = n;
            this.depth = depth;
            this.valueDepth = valueDepth;
            this.window = window;
            this.causal = causal;
            scale = 1f / MathF.Sqrt(depth);
            paddedValueDepth = (int)FastAttention.RoundUp(valueDepth, Microkernels.Columns);
            keyStride = checked((int)FastAttention.RoundUp(n, Microkernels.Columns) + Microkernels.Columns);
            bandWidth = (int)FastAttention.RoundUp(Math.Min(n, QueryBlock + (causal ? window : 2L * window)), Microkernels.Columns) + Microkernels.Columns;
            Check.TableFits(depth, keyStride, "K transposed", "use fewer keys or a smaller d_k", "keys");
            Check.TableFits(n, paddedValueDepth, "V padded to 16 columns", "use fewer keys or a smaller d_v", "values");
            transposedKeys = ArrayPool<float>.Shared.Rent(depth * keyStride);
            keysHandle = GCHandle.Alloc(transposedKeys, GCHandleType.Pinned);
            keysTransposed = (float*)keysHandle.AddrOfPinnedObject();
            for (var t = 0; t < depth; t++)
            {
                new Span<float>(transposedKeys, (t * keyStride) + n, keyStride - n).Clear();
            }

            Transpose(keys, n, depth, keysTransposed, keyStride);

            if (valueDepth == paddedValueDepth)
            {
                this.values = values;
            }
            else
            {
                paddedValues = ArrayPool<float>.Shared.Rent(n * paddedValueDepth);
                valuesHandle = GCHandle.Alloc(paddedValues, GCHandleType.Pinned);
                for (var key = 0; key < n; key++)
                {
                    var target = new Span<float>(paddedValues, key * paddedValueDepth, paddedValueDepth);
                    new ReadOnlySpan<float>(values + ((long)key * valueDepth), valueDepth).CopyTo(target);
                    target[valueDepth..].Clear();
                }

                this.values = (float*)valuesHandle.AddrOfPinnedObject();
            }
        }

        public void Run(int threads, CancellationToken cancellation)
        {
            var blocks = (n + QueryBlock - 1) / QueryBlock;
            var workers = Math.Min(threads, blocks);
            var next = -1;
            Parallel.For(0, workers, new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = workers }, _ =>
            {
                var scores = ArrayPool<float>.Shared.Rent(QueryBlock * bandWidth);
                var rows = ArrayPool<float>.Shared.Rent(QueryBlock * depth);
                var sums = ArrayPool<float>.Shared.Rent(QueryBlock);
                var outputRows = ArrayPool<float>.Shared.Rent(QueryBlock * paddedValueDepth);
                try
                {
                    fixed (float* s = scores, q = rows, o = outputRows, sum = sums)
                    {
                        for (var block = Interlocked.Increment(ref next); block < blocks && Volatile.Read(ref failure) is null; block = Interlocked.Increment(ref next))
                        {
                            cancellation.ThrowIfCancellationRequested();
                            Block(block * QueryBlock, s, q, o, sum);
                        }
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(scores);
                    ArrayPool<float>.Shared.Return(rows);
                    ArrayPool<float>.Shared.Return(sums);
                    ArrayPool<float>.Shared.Return(outputRows);
                }
            });

            if (failure is not null)
            {
                throw failure;
            }
        }

        public void Dispose()
        {
            keysHandle.Free();
            ArrayPool<float>.Shared.Return(transposedKeys);
            if (paddedValues is not null)
            {
                valuesHandle.Free();
                ArrayPool<float>.Shared.Return(paddedValues);
            }
        }

        /// <summary>Queries first .. first + QueryBlock - 1 against the band of keys their windows reach.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Block(int first, float* scores, float* queryScratch, float* outputRows, float* sums)
        {
            var rows = Math.Min(QueryBlock, n - first);
            var tileRows = (int)FastAttention.RoundUp(rows, Microkernels.Rows);
            var q = queries + ((long)first * depth);
            if (rows < QueryBlock)
            {
                // The last, ragged block: its rows are copied so the register tile reads zeros, not past Q's end.
                new Span<float>(queryScratch, tileRows * depth).Clear();
                new ReadOnlySpan<float>(q, rows * depth).CopyTo(new Span<float>(queryScratch, rows * depth));
                q = queryScratch;
            }

            var firstKey = Math.Max(0, first - window);
            var endKey = (int)Math.Min(n, first + rows + (causal ? 0L : window));   // exclusive
            var keyCount = endKey - firstKey;
            var columns = (int)FastAttention.RoundUp(keyCount, Microkernels.Columns);
            Microkernels.Product(q, depth, keysTransposed + firstKey, keyStride, depth, scores, bandWidth, tileRows, columns, accumulate: false);
            for (var r = 0; r < tileRows; r++)
            {
                var row = scores + ((long)r * bandWidth);
                if (r >= rows)
                {
                    new Span<float>(row, keyCount).Clear();
                    continue;
                }

                // The row's own window inside the band; the entries around it get weight 0.
                var query = first + r;
                var low = Math.Max(0, query - window) - firstKey;
                var high = (causal ? query : Math.Min(n - 1, query + window)) - firstKey;
                var count = high - low + 1;
                var max = VectorRows.RowMax(row + low, count);
                sums[r] = float.IsFinite(max) ? VectorRows.ExpShiftedInPlace(row + low, count, max, scale) : float.NaN;
                new Span<float>(row, low).Clear();
                new Span<float>(row + high + 1, keyCount - high - 1).Clear();
            }

            new Span<float>(outputRows, tileRows * paddedValueDepth).Clear();
            Microkernels.Product(scores, bandWidth, values + ((long)firstKey * paddedValueDepth), paddedValueDepth, keyCount, outputRows, paddedValueDepth, tileRows, paddedValueDepth, accumulate: true);
            for (var r = 0; r < rows; r++)
            {
                var row = outputRows + ((long)r * paddedValueDepth);
                if (!float.IsFinite(sums[r]) || sums[r] <= 0)
                {
                    Fail($"the scores of query {first + r} (row {first + r} of Q K^T / sqrt(d)) overflowed fp32 (±3.4e38): their softmax sum came out {sums[r]}, although Q and K are finite. " +
                        "Scale Q and K down (for example normalise the vectors), or use the fp64 reference path ScaledDotProductAttention with SlidingWindowAttention.Mask.");
                    return;
                }

                VectorRows.Scale(row, paddedValueDepth, 1f / sums[r]);
                if (!FastLinearAttention.AllFinite(row, valueDepth))
                {
                    var bad = VectorRows.FirstNonFinite(row, valueDepth);
                    Fail($"output row {first + r}, column {bad} came out {Check.Name(row[bad])}: the weighted sum of values V overflowed fp32 (±3.4e38), although V is finite. Scale V down, or use the fp64 reference path.");
                    return;
                }

                new ReadOnlySpan<float>(row, valueDepth).CopyTo(new Span<float>(output + ((long)(first + r) * valueDepth), valueDepth));
            }
        }

        /// <summary>K [n x depth] into K transposed [depth x stride] (compiled optimized at once: it runs once per call, often on a cold method).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Transpose(float* keys, int n, int depth, float* target, int stride)
        {
            for (var key = 0; key < n; key++)
            {
                var row = keys + ((long)key * depth);
                for (var t = 0; t < depth; t++)
                {
                    target[((long)t * stride) + key] = row[t];
                }
            }
        }

        private void Fail(string message) => Interlocked.CompareExchange(ref failure, new ArgumentException(message), null);
    }
}
