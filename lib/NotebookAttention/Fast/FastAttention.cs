using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Fast;

/// <summary>
/// Fast fp32 scaled dot-product attention, softmax(Q K^T / sqrt(d)) V, in two exact variants.
/// </summary>
/// <remarks>
/// <para><b>Materialized</b> builds the whole [queries x keys] score matrix, then a row softmax, then P V: memory
/// grows as n^2. It refuses, before allocating, a size whose score matrix would not fit in available memory.</para>
/// <para><b>Tiled</b> follows the FlashAttention-2 loop order: blocks of <see cref="QueryBlock"/> queries outside,
/// blocks of <see cref="KeyBlock"/> keys and values inside, a running row maximum and sum (online softmax), and one
/// normalisation at the end. Extra memory is O(n d): padded copies of Q, K, V and the output, and one score tile
/// per thread. Key blocks that the mask hides completely are skipped.</para>
/// <para>Both use the AVX2/FMA register-tiled kernels and a vectorised exp (portable loops elsewhere), and run
/// query blocks in parallel on all cores. Inner loops allocate nothing.</para>
/// </remarks>
public static class FastAttention
{
    /// <summary>Queries per block (a multiple of the 6-row register tile).</summary>
    public const int QueryBlock = 96;

    /// <summary>Keys per block (a multiple of the 16-column register tile).</summary>
    public const int KeyBlock = 128;

    /// <summary>
    /// Tiled attention with online softmax: extra memory O(n d).
    /// </summary>
    /// <param name="queries">Q, row-major [queryCount x depth].</param>
    /// <param name="keys">K, row-major [keyCount x depth].</param>
    /// <param name="values">V, row-major [keyCount x valueDepth].</param>
    /// <param name="output">Receives the output, row-major [queryCount x valueDepth].</param>
    /// <param name="queryCount">Number of queries.</param>
    /// <param name="keyCount">Number of keys.</param>
    /// <param name="depth">d_k.</param>
    /// <param name="valueDepth">d_v.</param>
    /// <param name="mask">Padding, causal and window masks.</param>
    /// <param name="cancellation">Stops a long run between blocks.</param>
    public static void Tiled(
        ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        int queryCount, int keyCount, int depth, int valueDepth, FastMask mask = default, CancellationToken cancellation = default)
    {
        var problem = new Problem(queries, keys, values, queryCount, keyCount, depth, valueDepth, mask);
        problem.RunTiled(cancellation);
        problem.CopyOutput(output);
    }

    /// <summary>
    /// Materializing attention: builds the full score matrix (4 bytes per query-key pair), then softmax, then P V.
    /// </summary>
    /// <param name="queries">Q, row-major [queryCount x depth].</param>
    /// <param name="keys">K, row-major [keyCount x depth].</param>
    /// <param name="values">V, row-major [keyCount x valueDepth].</param>
    /// <param name="output">Receives the output, row-major [queryCount x valueDepth].</param>
    /// <param name="queryCount">Number of queries.</param>
    /// <param name="keyCount">Number of keys.</param>
    /// <param name="depth">d_k.</param>
    /// <param name="valueDepth">d_v.</param>
    /// <param name="mask">Padding, causal and window masks.</param>
    /// <param name="memoryBudgetBytes">Memory it may use for the score matrix; null for what the machine has available.</param>
    /// <param name="cancellation">Stops a long run between blocks.</param>
    /// <exception cref="InsufficientMemoryException">The score matrix would not fit; nothing was allocated.</exception>
    public static void Materialized(
        ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        int queryCount, int keyCount, int depth, int valueDepth, FastMask mask = default, long? memoryBudgetBytes = null, CancellationToken cancellation = default)
    {
        EnsureScoresFit(queryCount, keyCount, memoryBudgetBytes);
        var problem = new Problem(queries, keys, values, queryCount, keyCount, depth, valueDepth, mask);
        problem.RunMaterialized(cancellation);
        problem.CopyOutput(output);
    }

    /// <summary>Bytes the materializing path allocates for its score matrix (padded to whole blocks).</summary>
    /// <param name="queryCount">Number of queries.</param>
    /// <param name="keyCount">Number of keys.</param>
    /// <returns>The bytes.</returns>
    public static long MaterializedScoreBytes(int queryCount, int keyCount) =>
        4L * RoundUp(queryCount, QueryBlock) * RoundUp(keyCount, KeyBlock);

    /// <summary>
    /// How many (query block, key block) tiles the tiled path computes for this mask: the work it does, in tiles of
    /// <see cref="QueryBlock"/> x <see cref="KeyBlock"/> pairs. Fully hidden tiles are skipped.
    /// </summary>
    /// <param name="n">Sequence length (queries = keys).</param>
    /// <param name="mask">The mask.</param>
    /// <returns>The number of tiles computed.</returns>
    public static long VisitedTiles(int n, FastMask mask = default)
    {
        Check.AtLeast(n, 1, "n", nameof(n));
        mask.Validate(n, n);
        var validQueries = mask.ValidLength ?? n;
        long tiles = 0;
        for (var first = 0; first < validQueries; first += QueryBlock)
        {
            for (var firstKey = 0; firstKey < n; firstKey += KeyBlock)
            {
                tiles += TileVisible(first, firstKey, validQueries, mask.ValidLength ?? n, mask) ? 1 : 0;
            }
        }

        return tiles;
    }

    /// <summary>Memory the machine has available now, as the .NET runtime sees it.</summary>
    /// <returns>Bytes.</returns>
    public static long AvailableMemoryBytes()
    {
        var info = GC.GetGCMemoryInfo();
        return Math.Max(0, info.TotalAvailableMemoryBytes - info.MemoryLoadBytes);
    }

    /// <summary>Throws, before anything is allocated, when the score matrix would not fit.</summary>
    /// <param name="queryCount">Number of queries.</param>
    /// <param name="keyCount">Number of keys.</param>
    /// <param name="memoryBudgetBytes">Budget, or null for <see cref="AvailableMemoryBytes"/>.</param>
    /// <exception cref="InsufficientMemoryException">It would not fit.</exception>
    public static void EnsureScoresFit(int queryCount, int keyCount, long? memoryBudgetBytes = null)
    {
        var needed = MaterializedScoreBytes(queryCount, keyCount);
        var available = memoryBudgetBytes ?? AvailableMemoryBytes();
        if (needed > available || RoundUp(queryCount, QueryBlock) * (long)RoundUp(keyCount, KeyBlock) > Array.MaxLength)
        {
            throw new InsufficientMemoryException(
                $"materializing attention for {queryCount:N0} queries x {keyCount:N0} keys needs {Bytes(needed)} for its score matrix, but {Bytes(available)} is available: " +
                $"use {nameof(FastAttention)}.{nameof(Tiled)}, whose extra memory grows with n·d instead of n².");
        }
    }

    /// <summary>Tiled attention on MathNet matrices (converted to fp32 and back), for notebooks and tests.</summary>
    /// <param name="queries">Q [n x d].</param>
    /// <param name="keys">K [m x d].</param>
    /// <param name="values">V [m x d_v].</param>
    /// <param name="mask">Masks.</param>
    /// <returns>The output [n x d_v].</returns>
    public static Matrix<double> Tiled(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, FastMask mask = default)
    {
        var (q, k, v) = Floats(queries, keys, values);
        var output = new float[queries.RowCount * values.ColumnCount];
        Tiled(q, k, v, output, queries.RowCount, keys.RowCount, queries.ColumnCount, values.ColumnCount, mask);
        return Doubles(output, queries.RowCount, values.ColumnCount);
    }

    /// <summary>Materializing attention on MathNet matrices (converted to fp32 and back), for notebooks and tests.</summary>
    /// <param name="queries">Q [n x d].</param>
    /// <param name="keys">K [m x d].</param>
    /// <param name="values">V [m x d_v].</param>
    /// <param name="mask">Masks.</param>
    /// <returns>The output [n x d_v].</returns>
    public static Matrix<double> Materialized(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, FastMask mask = default)
    {
        var (q, k, v) = Floats(queries, keys, values);
        var output = new float[queries.RowCount * values.ColumnCount];
        Materialized(q, k, v, output, queries.RowCount, keys.RowCount, queries.ColumnCount, values.ColumnCount, mask);
        return Doubles(output, queries.RowCount, values.ColumnCount);
    }

    /// <summary>Whether any query of the block may see any key of the key block (fully hidden tiles are skipped).</summary>
    private static bool TileVisible(int firstQuery, int firstKey, int validQueries, int validKeys, FastMask mask)
    {
        var lastQuery = Math.Min(firstQuery + QueryBlock, validQueries) - 1;
        var lastKey = firstKey + KeyBlock - 1;
        if (firstKey >= validKeys || (mask.Causal && firstKey > lastQuery))
        {
            return false;
        }

        return mask.Window is not { } w || (firstKey <= lastQuery + w && lastKey >= firstQuery - w);
    }

    internal static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        _ => $"{bytes / 1024.0:0.0} KiB",
    };

    internal static float[] RowMajor(Matrix<double> matrix)
    {
        var data = new float[matrix.RowCount * matrix.ColumnCount];
        for (var r = 0; r < matrix.RowCount; r++)
        {
            for (var c = 0; c < matrix.ColumnCount; c++)
            {
                data[(r * matrix.ColumnCount) + c] = (float)matrix[r, c];
            }
        }

        return data;
    }

    internal static Matrix<double> Doubles(float[] data, int rows, int columns) =>
        Matrix<double>.Build.Dense(rows, columns, (r, c) => data[(r * columns) + c]);

    private static (float[] Q, float[] K, float[] V) Floats(Matrix<double> queries, Matrix<double> keys, Matrix<double> values)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        Check.Finite(queries, "queries Q", nameof(queries));
        Check.Finite(keys, "keys K", nameof(keys));
        Check.Finite(values, "values V", nameof(values));
        return (RowMajor(queries), RowMajor(keys), RowMajor(values));
    }

    /// <summary>One attention problem in padded, pinned buffers that worker threads share.</summary>
    private sealed unsafe class Problem
    {
        private readonly int queryCount;
        private readonly int keyCount;
        private readonly int depth;
        private readonly int valueDepth;
        private readonly int paddedQueries;
        private readonly int paddedKeys;
        private readonly int paddedValueDepth;
        private readonly FastMask mask;
        private readonly int validQueries;
        private readonly int validKeys;
        private readonly float[] scaledQueries;     // [paddedQueries x depth], Q / sqrt(d)
        private readonly float[] packedKeys;        // per key block: [depth x KeyBlock], K transposed
        private readonly float[] paddedValues;      // [paddedKeys x paddedValueDepth]
        private readonly float[] accumulated;       // [paddedQueries x paddedValueDepth]

        public Problem(ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int queryCount, int keyCount, int depth, int valueDepth, FastMask mask)
        {
            Check.AtLeast(queryCount, 1, "query count", nameof(queryCount));
            Check.AtLeast(keyCount, 1, "key count", nameof(keyCount));
            Check.AtLeast(depth, 1, "d_k", nameof(depth));
            Check.AtLeast(valueDepth, 1, "d_v", nameof(valueDepth));
            CheckLength(queries.Length, (long)queryCount * depth, "queries", $"[{queryCount} x {depth}]");
            CheckLength(keys.Length, (long)keyCount * depth, "keys", $"[{keyCount} x {depth}]");
            CheckLength(values.Length, (long)keyCount * valueDepth, "values", $"[{keyCount} x {valueDepth}]");
            mask.Validate(queryCount, keyCount);
            this.queryCount = queryCount;
            this.keyCount = keyCount;
            this.depth = depth;
            this.valueDepth = valueDepth;
            this.mask = mask;
            validQueries = mask.ValidLength ?? queryCount;
            validKeys = mask.ValidLength ?? keyCount;
            paddedQueries = RoundUp(queryCount, QueryBlock);
            paddedKeys = RoundUp(keyCount, KeyBlock);
            paddedValueDepth = RoundUp(valueDepth, Microkernels.Columns);

            scaledQueries = GC.AllocateArray<float>(paddedQueries * depth, pinned: true);
            TensorPrimitives.Multiply(queries, 1f / MathF.Sqrt(depth), scaledQueries.AsSpan(0, queryCount * depth));
            packedKeys = GC.AllocateArray<float>(paddedKeys * depth, pinned: true);
            for (var key = 0; key < keyCount; key++)
            {
                var block = key / KeyBlock;
                var column = key % KeyBlock;
                var row = keys.Slice(key * depth, depth);
                for (var t = 0; t < depth; t++)
                {
                    packedKeys[(block * KeyBlock * depth) + (t * KeyBlock) + column] = row[t];
                }
            }

            paddedValues = GC.AllocateArray<float>(paddedKeys * paddedValueDepth, pinned: true);
            for (var key = 0; key < keyCount; key++)
            {
                values.Slice(key * valueDepth, valueDepth).CopyTo(paddedValues.AsSpan(key * paddedValueDepth));
            }

            accumulated = GC.AllocateArray<float>(paddedQueries * paddedValueDepth, pinned: true);
        }

        private int QueryBlocks => paddedQueries / QueryBlock;

        private int KeyBlocks => paddedKeys / KeyBlock;

        public void RunTiled(CancellationToken cancellation) =>
            ForEachQueryBlock(() => new Scratch(QueryBlock * KeyBlock), (block, scratch) => TiledBlock(block, scratch, cancellation), cancellation);

        public void RunMaterialized(CancellationToken cancellation)
        {
            var scores = GC.AllocateUninitializedArray<float>(checked(paddedQueries * paddedKeys), pinned: true);
            ForEachQueryBlock(() => scores, (block, all) => MaterializedBlock(block, all, cancellation), cancellation);
        }

        /// <summary>
        /// One worker per core, each taking the next query block from a shared counter (no more threads than cores,
        /// which keeps each core's tiles in its own cache).
        /// </summary>
        private void ForEachQueryBlock<TScratch>(Func<TScratch> scratch, Action<int, TScratch> work, CancellationToken cancellation)
        {
            var next = -1;
            var workers = Math.Min(Environment.ProcessorCount, QueryBlocks);
            Parallel.For(0, workers, new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = workers }, _ =>
            {
                var own = scratch();
                for (var block = Interlocked.Increment(ref next); block < QueryBlocks; block = Interlocked.Increment(ref next))
                {
                    work(block, own);
                }
            });
        }

        public void CopyOutput(Span<float> output)
        {
            CheckLength(output.Length, (long)queryCount * valueDepth, "output", $"[{queryCount} x {valueDepth}]");
            for (var query = 0; query < queryCount; query++)
            {
                var target = output.Slice(query * valueDepth, valueDepth);
                if (query < validQueries)
                {
                    accumulated.AsSpan(query * paddedValueDepth, valueDepth).CopyTo(target);
                }
                else
                {
                    target.Clear();
                }
            }
        }

        private void TiledBlock(int block, Scratch scratch, CancellationToken cancellation)
        {
            var first = block * QueryBlock;
            if (first >= validQueries)
            {
                return;
            }

            var rowMax = scratch.RowMax;
            var rowSum = scratch.RowSum;
            rowMax.AsSpan().Fill(float.NegativeInfinity);
            Array.Clear(rowSum);
            fixed (float* q = scaledQueries, k = packedKeys, v = paddedValues, o = accumulated, s = scratch.Scores)
            {
                var outputRows = o + (first * paddedValueDepth);
                for (var keyBlock = 0; keyBlock < KeyBlocks; keyBlock++)
                {
                    var firstKey = keyBlock * KeyBlock;
                    if (!BlockVisible(first, firstKey))
                    {
                        continue;
                    }

                    cancellation.ThrowIfCancellationRequested();
                    Microkernels.RowsTimesColumns(q + (first * depth), depth, k + (firstKey * depth), KeyBlock, depth, s, KeyBlock, QueryBlock, KeyBlock);
                    MaskTile(s, KeyBlock, first, firstKey, KeyBlock);
                    for (var r = 0; r < QueryBlock; r++)
                    {
                        var row = s + (r * KeyBlock);
                        var tileMax = Microkernels.RowMax(row, KeyBlock);
                        if (float.IsNegativeInfinity(tileMax))
                        {
                            new Span<float>(row, KeyBlock).Clear();
                            continue;
                        }

                        var newMax = MathF.Max(rowMax[r], tileMax);
                        var correction = MathF.Exp(rowMax[r] - newMax);
                        rowSum[r] = (rowSum[r] * correction) + Microkernels.ExpShiftedInPlace(row, KeyBlock, newMax);
                        if (correction != 1f)
                        {
                            Microkernels.Scale(outputRows + (r * paddedValueDepth), paddedValueDepth, correction);
                        }

                        rowMax[r] = newMax;
                    }

                    Microkernels.AccumulateProduct(s, KeyBlock, v + (firstKey * paddedValueDepth), paddedValueDepth, KeyBlock, outputRows, paddedValueDepth, QueryBlock, paddedValueDepth);
                }

                for (var r = 0; r < QueryBlock; r++)
                {
                    if (rowSum[r] > 0)
                    {
                        Microkernels.Scale(outputRows + (r * paddedValueDepth), paddedValueDepth, 1f / rowSum[r]);
                    }
                    else
                    {
                        new Span<float>(outputRows + (r * paddedValueDepth), paddedValueDepth).Clear();
                    }
                }
            }
        }

        private void MaterializedBlock(int block, float[] scores, CancellationToken cancellation)
        {
            var first = block * QueryBlock;
            if (first >= validQueries)
            {
                return;
            }

            fixed (float* q = scaledQueries, k = packedKeys, v = paddedValues, o = accumulated, all = scores)
            {
                var s = all + ((long)first * paddedKeys);
                for (var keyBlock = 0; keyBlock < KeyBlocks; keyBlock++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var firstKey = keyBlock * KeyBlock;
                    Microkernels.RowsTimesColumns(q + (first * depth), depth, k + (firstKey * depth), KeyBlock, depth, s + firstKey, paddedKeys, QueryBlock, KeyBlock);
                    MaskTile(s + firstKey, paddedKeys, first, firstKey, KeyBlock);
                }

                for (var r = 0; r < QueryBlock; r++)
                {
                    var row = s + ((long)r * paddedKeys);
                    var max = Microkernels.RowMax(row, paddedKeys);
                    if (float.IsNegativeInfinity(max))
                    {
                        new Span<float>(row, paddedKeys).Clear();
                        continue;
                    }

                    Microkernels.Scale(row, paddedKeys, 1f / Microkernels.ExpShiftedInPlace(row, paddedKeys, max));
                }

                cancellation.ThrowIfCancellationRequested();
                Microkernels.AccumulateProduct(s, paddedKeys, v, paddedValueDepth, paddedKeys, o + (first * paddedValueDepth), paddedValueDepth, QueryBlock, paddedValueDepth);
            }
        }

        private bool BlockVisible(int firstQuery, int firstKey) => TileVisible(firstQuery, firstKey, validQueries, validKeys, mask);

        /// <summary>Minus infinity for every hidden pair in a tile, including padding keys past the real ones.</summary>
        private void MaskTile(float* tile, int stride, int firstQuery, int firstKey, int width)
        {
            var needsPadding = firstKey + width > validKeys;
            var needsCausal = mask.Causal && firstKey + width - 1 > firstQuery;
            var needsWindow = mask.Window is { } w && (firstKey < firstQuery + QueryBlock - 1 - w || firstKey + width - 1 > firstQuery - w);
            if (!needsPadding && !needsCausal && !needsWindow)
            {
                return;
            }

            for (var r = 0; r < QueryBlock; r++)
            {
                var row = tile + ((long)r * stride);
                var query = firstQuery + r;
                for (var j = 0; j < width; j++)
                {
                    var key = firstKey + j;
                    if (key >= validKeys || (mask.Causal && key > query) || (mask.Window is { } window && Math.Abs(query - key) > window))
                    {
                        row[j] = float.NegativeInfinity;
                    }
                }
            }
        }

        private static void CheckLength(long actual, long expected, string what, string shape)
        {
            if (actual != expected)
            {
                throw new ArgumentException($"{what} has {actual:N0} floats but a row-major {shape} matrix needs {expected:N0}: check the counts and d.", what);
            }
        }
    }

    private sealed class Scratch(int scoreTile)
    {
        public float[] Scores { get; } = GC.AllocateUninitializedArray<float>(scoreTile, pinned: true);

        public float[] RowMax { get; } = new float[QueryBlock];

        public float[] RowSum { get; } = new float[QueryBlock];
    }
}
