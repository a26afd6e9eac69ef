using System.Runtime.CompilerServices;
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
/// normalisation at the end. Extra memory is O(n d). Key blocks that the mask hides completely are skipped.</para>
/// <para>Extra memory of the tiled path is K packed transposed (n d floats) plus small tiles; Q, V and the output are
/// used in place when d_v is a multiple of 16.</para>
/// <para>Bad numbers never come back as output: a NaN or infinity in Q, K or V is refused before the pass (one
/// vectorised scan of each), and finite inputs whose scores or sums leave the fp32 range (±3.4e38) are reported
/// with the query row where it happened, instead of a NaN row or a zero row that would look like padding.</para>
/// <para>Both use the AVX2/FMA register-tiled kernels and a vectorised exp (portable loops elsewhere), and run
/// query blocks in parallel on all cores. Inner loops allocate nothing.</para>
/// </remarks>
public static class FastAttention
{
    /// <summary>Queries per block (a multiple of the 6-row register tile).</summary>
    public const int QueryBlock = 96;

    /// <summary>Keys per block (a multiple of the 16-column register tile).</summary>
    public const int KeyBlock = 128;

    /// <summary>Query rows the materializing path scores, normalises and sums at a time (a multiple of 6).</summary>
    private const int MaterializedStrip = 24;

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
    /// <param name="threads">Cores to use; null for all.</param>
    /// <param name="cancellation">Stops a long run between blocks.</param>
    /// <exception cref="ArgumentException">
    /// A buffer has the wrong length, the mask does not fit, an input holds NaN or infinity, or the scores or sums
    /// overflow fp32.
    /// </exception>
    public static void Tiled(
        ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        int queryCount, int keyCount, int depth, int valueDepth, FastMask mask = default, int? threads = null, CancellationToken cancellation = default) =>
        Tiled(queries, keys, values, output, queryCount, keyCount, depth, valueDepth, mask, threads, checkNumbers: true, cancellation);

    /// <summary>
    /// <see cref="Tiled(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, int, FastMask, int?, CancellationToken)"/>
    /// with the number checks optional, so the benchmark can measure what they cost; <c>scanInputs: false</c> skips
    /// only the scan of Q, K and V, for a caller that checked them already (each head of a checked multi-head layer).
    /// </summary>
    internal static void Tiled(
        ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        int queryCount, int keyCount, int depth, int valueDepth, FastMask mask, int? threads, bool checkNumbers, CancellationToken cancellation, bool scanInputs = true)
    {
        unsafe
        {
            fixed (float* q = queries, k = keys, v = values, o = output)
            {
                new Problem(q, queries.Length, k, keys.Length, v, values.Length, o, output.Length, queryCount, keyCount, depth, valueDepth, mask, threads, checkNumbers, scanInputs).RunTiled(cancellation);
            }
        }
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
    /// <exception cref="ArgumentException">
    /// A buffer has the wrong length, the mask does not fit, an input holds NaN or infinity, or the scores or sums
    /// overflow fp32.
    /// </exception>
    public static void Materialized(
        ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        int queryCount, int keyCount, int depth, int valueDepth, FastMask mask = default, long? memoryBudgetBytes = null, CancellationToken cancellation = default)
    {
        EnsureScoresFit(queryCount, keyCount, memoryBudgetBytes);
        unsafe
        {
            fixed (float* q = queries, k = keys, v = values, o = output)
            {
                new Problem(q, queries.Length, k, keys.Length, v, values.Length, o, output.Length, queryCount, keyCount, depth, valueDepth, mask, null, checkNumbers: true, scanInputs: true).RunMaterialized(cancellation);
            }
        }
    }

    /// <summary>Bytes the materializing path allocates for its score matrix (padded to whole blocks).</summary>
    /// <param name="queryCount">Number of queries.</param>
    /// <param name="keyCount">Number of keys.</param>
    /// <returns>The bytes, or <see cref="long.MaxValue"/> when they exceed what a long counts (about 8 EiB, more than any machine has).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1.</exception>
    public static long MaterializedScoreBytes(int queryCount, int keyCount)
    {
        Check.AtLeast(queryCount, 1, "query count", nameof(queryCount));
        Check.AtLeast(keyCount, 1, "key count", nameof(keyCount));
        var rows = RoundUp(queryCount, QueryBlock);
        var columns = RoundUp(keyCount, KeyBlock);
        return rows > long.MaxValue / sizeof(float) / columns ? long.MaxValue : sizeof(float) * rows * columns;
    }

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
        var valid = mask.ValidLength ?? n;
        long tiles = 0;
        // The visible key blocks of one query block are one contiguous run (TileVisible's conditions are bounds on
        // the first and last key), so each query block is counted in O(1) and n = int.MaxValue takes a moment.
        for (long first = 0; first < valid; first += QueryBlock)
        {
            var last = Math.Min(first + QueryBlock, valid) - 1;
            var lastVisibleKey = valid - 1L;
            var firstVisibleKey = 0L;
            if (mask.Causal)
            {
                lastVisibleKey = Math.Min(lastVisibleKey, last);
            }

            if (mask.Window is { } w)
            {
                lastVisibleKey = Math.Min(lastVisibleKey, last + w);
                firstVisibleKey = Math.Max(0, first - w);
            }

            if (lastVisibleKey >= firstVisibleKey)
            {
                tiles += (lastVisibleKey / KeyBlock) - (firstVisibleKey / KeyBlock) + 1;
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
        var entries = (double)RoundUp(queryCount, QueryBlock) * RoundUp(keyCount, KeyBlock);
        if (needed > available || entries > Array.MaxLength)
        {
            throw new InsufficientMemoryException(
                $"materializing attention for {queryCount:N0} queries x {keyCount:N0} keys needs {Check.Bytes(entries * sizeof(float))} for its score matrix, but {Check.Bytes(available)} is available{(entries > Array.MaxLength ? $" and one array holds at most {Array.MaxLength:N0} entries" : string.Empty)}: " +
                $"use {nameof(FastAttention)}.{nameof(Tiled)}, whose extra memory grows with n·d instead of n².");
        }
    }

    /// <summary>Tiled attention on MathNet matrices (converted to fp32 and back), for notebooks and tests.</summary>
    /// <param name="queries">Q [n x d].</param>
    /// <param name="keys">K [m x d].</param>
    /// <param name="values">V [m x d_v].</param>
    /// <param name="mask">Masks.</param>
    /// <returns>The output [n x d_v].</returns>
    public static Matrix<double> Tiled(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, FastMask mask = default) =>
        OnMatrices(queries, keys, values, (q, k, v, o, n, m, d, dv) => Tiled(q, k, v, o, n, m, d, dv, mask));

    /// <summary>Materializing attention on MathNet matrices (converted to fp32 and back), for notebooks and tests.</summary>
    /// <param name="queries">Q [n x d].</param>
    /// <param name="keys">K [m x d].</param>
    /// <param name="values">V [m x d_v].</param>
    /// <param name="mask">Masks.</param>
    /// <returns>The output [n x d_v].</returns>
    public static Matrix<double> Materialized(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, FastMask mask = default) =>
        OnMatrices(queries, keys, values, (q, k, v, o, n, m, d, dv) => Materialized(q, k, v, o, n, m, d, dv, mask));

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

    /// <summary>The smallest multiple of <paramref name="multiple"/> at least <paramref name="value"/>, in long so int.MaxValue cannot wrap.</summary>
    internal static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private delegate void Kernel(float[] q, float[] k, float[] v, float[] output, int queries, int keys, int depth, int valueDepth);

    /// <summary>Checks MathNet inputs, runs a fast kernel on their fp32 copies and converts the output back.</summary>
    private static Matrix<double> OnMatrices(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, Kernel kernel)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        if (queries.ColumnCount != keys.ColumnCount)
        {
            throw new ArgumentException(
                $"Q is {Check.Shape(queries)} but K is {Check.Shape(keys)}: a query and a key are compared by dot product, so both need the same length d_k (same number of columns).",
                nameof(keys));
        }

        if (values.RowCount != keys.RowCount)
        {
            throw new ArgumentException(
                $"K is {Check.Shape(keys)} but V is {Check.Shape(values)}: every key needs its value, so both need the same number of rows.",
                nameof(values));
        }

        // The conversions refuse NaN, infinity and doubles beyond the fp32 range, naming the matrix and the entry.
        var q = Fp32.FromMatrix(queries, "queries Q", nameof(queries));
        var k = Fp32.FromMatrix(keys, "keys K", nameof(keys));
        var v = Fp32.FromMatrix(values, "values V", nameof(values));
        var output = new float[queries.RowCount * values.ColumnCount];
        kernel(q, k, v, output, queries.RowCount, keys.RowCount, queries.ColumnCount, values.ColumnCount);
        return Fp32.ToMatrix(output, queries.RowCount, values.ColumnCount);
    }

    /// <summary>
    /// One attention problem that worker threads share. Q, V and the output are used in place (the caller's
    /// buffers stay pinned while it runs); only K is copied, transposed per key block, so the extra memory is
    /// n·d floats plus one small tile per thread and per ragged edge.
    /// </summary>
    private sealed unsafe class Problem
    {
        private readonly float* queries;
        private readonly float* values;
        private readonly float* output;
        private readonly int queryCount;
        private readonly int keyCount;
        private readonly int depth;
        private readonly int valueDepth;
        private readonly int paddedValueDepth;
        private readonly float scale;
        private readonly FastMask mask;
        private readonly int validQueries;
        private readonly int validKeys;
        private readonly int queryBlocks;
        private readonly int keyBlocks;
        private readonly float[] packedKeys;        // per key block: [depth x KeyBlock], K transposed
        private readonly float[]? paddedValues;     // V with rows padded to whole blocks and columns to 16, when V cannot be used in place
        private readonly int threads;
        private const string InputRemedy = "every entry must be a finite number; look at the step that produced this buffer";
        private readonly bool checkNumbers;
        private ArgumentException? failure;        // the first overflow a worker found; the caller's thread throws it

        public Problem(float* queries, int queriesLength, float* keys, int keysLength, float* values, int valuesLength, float* output, int outputLength,
            int queryCount, int keyCount, int depth, int valueDepth, FastMask mask, int? threads, bool checkNumbers, bool scanInputs)
        {
            this.threads = Math.Max(1, threads ?? Environment.ProcessorCount);
            this.checkNumbers = checkNumbers;
            Check.AtLeast(queryCount, 1, "query count", nameof(queryCount));
            Check.AtLeast(keyCount, 1, "key count", nameof(keyCount));
            Check.AtLeast(depth, 1, "d_k", nameof(depth));
            Check.AtLeast(valueDepth, 1, "d_v", nameof(valueDepth));
            Check.Length(queriesLength, queryCount, depth, "queries", "queryCount x d_k", nameof(queries));
            Check.Length(keysLength, keyCount, depth, "keys", "keyCount x d_k", nameof(keys));
            Check.Length(valuesLength, keyCount, valueDepth, "values", "keyCount x d_v", nameof(values));
            Check.Length(outputLength, queryCount, valueDepth, "output", "queryCount x d_v", nameof(output));
            mask.Validate(queryCount, keyCount);
            queryBlocks = (int)(RoundUp(queryCount, QueryBlock) / QueryBlock);
            keyBlocks = (int)(RoundUp(keyCount, KeyBlock) / KeyBlock);
            paddedValueDepth = (int)RoundUp(valueDepth, Microkernels.Columns);
            Check.TableFits(RoundUp(keyCount, KeyBlock), depth, "K packed in whole blocks of 128 keys", "use fewer keys or a smaller d_k", nameof(keys));
            Check.TableFits(RoundUp(keyCount, KeyBlock), paddedValueDepth, "V padded to whole blocks of 128 keys and 16 columns", "use fewer keys or a smaller d_v", nameof(values));
            if (checkNumbers && scanInputs)
            {
                Check.Finite(queries, queryCount, depth, "queries Q", InputRemedy, nameof(queries));
                Check.Finite(keys, keyCount, depth, "keys K", InputRemedy, nameof(keys));
                Check.Finite(values, keyCount, valueDepth, "values V", InputRemedy, nameof(values));
            }

            this.queries = queries;
            this.output = output;
            this.queryCount = queryCount;
            this.keyCount = keyCount;
            this.depth = depth;
            this.valueDepth = valueDepth;
            this.mask = mask;
            scale = 1f / MathF.Sqrt(depth);
            validQueries = mask.ValidLength ?? queryCount;
            validKeys = mask.ValidLength ?? keyCount;

            packedKeys = GC.AllocateArray<float>(keyBlocks * KeyBlock * depth, pinned: true);
            for (var key = 0; key < keyCount; key++)
            {
                var block = key / KeyBlock;
                var column = key % KeyBlock;
                var row = keys + ((long)key * depth);
                var target = (block * KeyBlock * depth) + column;
                for (var t = 0; t < depth; t++)
                {
                    packedKeys[target + (t * KeyBlock)] = row[t];
                }
            }

            if (valueDepth == paddedValueDepth && keyCount % KeyBlock == 0)
            {
                this.values = values;
            }
            else
            {
                paddedValues = GC.AllocateArray<float>(keyBlocks * KeyBlock * paddedValueDepth, pinned: true);
                for (var key = 0; key < keyCount; key++)
                {
                    new ReadOnlySpan<float>(values + ((long)key * valueDepth), valueDepth).CopyTo(paddedValues.AsSpan(key * paddedValueDepth));
                }

                fixed (float* padded = paddedValues)
                {
                    this.values = padded;   // pinned array: the address stays valid
                }
            }
        }

        public void RunTiled(CancellationToken cancellation) =>
            ForEachQueryBlock(() => new Scratch(QueryBlock * KeyBlock, depth, paddedValueDepth), (block, scratch) => TiledBlock(block, scratch, cancellation), cancellation);

        public void RunMaterialized(CancellationToken cancellation)
        {
            var scores = GC.AllocateUninitializedArray<float>(checked(queryBlocks * QueryBlock * keyBlocks * KeyBlock), pinned: true);
            ForEachQueryBlock(() => new Scratch(0, depth, paddedValueDepth), (block, scratch) => MaterializedBlock(block, scores, scratch, cancellation), cancellation);
        }

        /// <summary>
        /// Checks a finished query row: its softmax sum must be finite, and positive when the mask lets the query see
        /// any key (the largest term is exactly 1 then), and its output finite. A zero sum for a query that sees keys
        /// means every score overflowed to minus infinity, which would otherwise look like a masked row.
        /// </summary>
        /// <returns>False, with <see cref="failure"/> set, when the row overflowed fp32.</returns>
        private bool RowIsSound(int query, float softmaxSum, float* outputRow)
        {
            if (!float.IsFinite(softmaxSum) || (softmaxSum <= 0 && SeesAnyKey(query)))
            {
                Interlocked.CompareExchange(ref failure, new ArgumentException(
                    $"the scores of query {query} (row {query} of Q K^T / sqrt(d)) overflowed fp32 (±3.4e38): their softmax sum came out {softmaxSum}, although Q and K are finite. " +
                    "The fast path computes in fp32: scale Q and K down (for example normalise the vectors), or use the fp64 reference path ScaledDotProductAttention."), null);
                return false;
            }

            var bad = Microkernels.FirstNonFinite(outputRow, valueDepth);
            if (bad >= 0)
            {
                Interlocked.CompareExchange(ref failure, new ArgumentException(
                    $"output row {query}, column {bad} came out {Check.Name(outputRow[bad])}: the weighted sum of values V overflowed fp32 (±3.4e38), although V is finite " +
                    "(the tiled pass sums up to n unnormalised weights times V). Scale V down, or use Materialized or the fp64 reference path."), null);
                return false;
            }

            return true;
        }

        /// <summary>
        /// One worker per core, each taking the next query block from a shared counter (no more threads than cores,
        /// which keeps each core's tiles in its own cache).
        /// </summary>
        private void ForEachQueryBlock<TScratch>(Func<TScratch> scratch, Action<int, TScratch> work, CancellationToken cancellation)
        {
            var next = -1;
            var workers = Math.Min(threads, queryBlocks);
            Parallel.For(0, workers, new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = workers }, _ =>
            {
                var own = scratch();
                for (var block = Interlocked.Increment(ref next); block < queryBlocks && Volatile.Read(ref failure) is null; block = Interlocked.Increment(ref next))
                {
                    work(block, own);
                }
            });

            // Thrown here, on the caller's thread, so it arrives as itself rather than inside an AggregateException.
            if (failure is not null)
            {
                throw failure;
            }
        }

        /// <summary>Where a block's query rows and output rows live: in place, or in scratch for a ragged block.</summary>
        private float* BlockRows(int block, Scratch scratch, float* queryScratch, float* outputScratch, out float* outputRows, out int stride, out int rows)
        {
            var first = block * QueryBlock;
            rows = Math.Min(QueryBlock, queryCount - first);
            var inPlaceQueries = rows == QueryBlock;
            var inPlaceOutput = rows == QueryBlock && valueDepth == paddedValueDepth;
            if (!inPlaceQueries)
            {
                Array.Clear(scratch.Queries);
                new ReadOnlySpan<float>(queries + ((long)first * depth), rows * depth).CopyTo(scratch.Queries);
            }

            outputRows = inPlaceOutput ? output + ((long)first * valueDepth) : outputScratch;
            stride = inPlaceOutput ? valueDepth : paddedValueDepth;
            for (var r = 0; r < QueryBlock; r++)
            {
                new Span<float>(outputRows + ((long)r * stride), paddedValueDepth).Clear();
            }

            return inPlaceQueries ? queries + ((long)first * depth) : queryScratch;
        }

        private void FinishBlock(int block, float* outputRows, int stride, int rows)
        {
            var first = block * QueryBlock;
            for (var r = 0; r < rows; r++)
            {
                var target = new Span<float>(output + ((long)(first + r) * valueDepth), valueDepth);
                if (first + r >= validQueries)
                {
                    target.Clear();
                }
                else if (outputRows + ((long)r * stride) != output + ((long)(first + r) * valueDepth))
                {
                    new ReadOnlySpan<float>(outputRows + ((long)r * stride), valueDepth).CopyTo(target);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void TiledBlock(int block, Scratch scratch, CancellationToken cancellation)
        {
            var first = block * QueryBlock;
            var rowMax = scratch.RowMax;
            var rowSum = scratch.RowSum;
            rowMax.AsSpan().Fill(float.NegativeInfinity);
            Array.Clear(rowSum);
            fixed (float* k = packedKeys, s = scratch.Scores, queryScratch = scratch.Queries, outputScratch = scratch.Output)
            {
                var q = BlockRows(block, scratch, queryScratch, outputScratch, out var outputRows, out var stride, out var rows);
                for (var keyBlock = 0; keyBlock < keyBlocks && first < validQueries; keyBlock++)
                {
                    var firstKey = keyBlock * KeyBlock;
                    if (!BlockVisible(first, firstKey))
                    {
                        continue;
                    }

                    cancellation.ThrowIfCancellationRequested();
                    Microkernels.RowsTimesColumns(q, depth, k + (firstKey * depth), KeyBlock, depth, s, KeyBlock, QueryBlock, KeyBlock);
                    MaskTile(s, KeyBlock, first, firstKey, KeyBlock, QueryBlock);
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
                        var correction = MathF.Exp((rowMax[r] - newMax) * scale);
                        rowSum[r] = (rowSum[r] * correction) + Microkernels.ExpShiftedInPlace(row, KeyBlock, newMax, scale);
                        if (correction != 1f)
                        {
                            Microkernels.Scale(outputRows + ((long)r * stride), paddedValueDepth, correction);
                        }

                        rowMax[r] = newMax;
                    }

                    Microkernels.AccumulateProduct(s, KeyBlock, values + ((long)firstKey * paddedValueDepth), paddedValueDepth, KeyBlock, outputRows, stride, QueryBlock, paddedValueDepth);
                }

                for (var r = 0; r < QueryBlock; r++)
                {
                    Microkernels.Scale(outputRows + ((long)r * stride), paddedValueDepth, rowSum[r] > 0 ? 1f / rowSum[r] : 0f);
                }

                for (var r = 0; checkNumbers && r < rows && first + r < validQueries; r++)
                {
                    if (!RowIsSound(first + r, rowSum[r], outputRows + ((long)r * stride)))
                    {
                        return;
                    }
                }

                FinishBlock(block, outputRows, stride, rows);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void MaterializedBlock(int block, float[] scores, Scratch scratch, CancellationToken cancellation)
        {
            var first = block * QueryBlock;
            var width = keyBlocks * KeyBlock;
            fixed (float* k = packedKeys, all = scores, queryScratch = scratch.Queries, outputScratch = scratch.Output)
            {
                var q = BlockRows(block, scratch, queryScratch, outputScratch, out var outputRows, out var stride, out var rows);
                var sums = scratch.RowSum;   // softmax sums of the strip's rows, checked once the strip is done
                // The block's rows of the score matrix are filled, normalised and used a strip of
                // MaterializedStrip rows at a time, so each strip is still in cache when P V reads it.
                for (var strip = 0; strip < QueryBlock && first + strip < validQueries; strip += MaterializedStrip)
                {
                    var s = all + ((long)(first + strip) * width);
                    var stripQueries = q + ((long)strip * depth);
                    var stripOutput = outputRows + ((long)strip * stride);
                    for (var keyBlock = 0; keyBlock < keyBlocks; keyBlock++)
                    {
                        cancellation.ThrowIfCancellationRequested();
                        var firstKey = keyBlock * KeyBlock;
                        Microkernels.RowsTimesColumns(stripQueries, depth, k + (firstKey * depth), KeyBlock, depth, s + firstKey, width, MaterializedStrip, KeyBlock);
                        MaskTile(s + firstKey, width, first + strip, firstKey, KeyBlock, MaterializedStrip);
                    }

                    for (var r = 0; r < MaterializedStrip; r++)
                    {
                        var row = s + ((long)r * width);
                        var max = Microkernels.RowMax(row, width);
                        if (float.IsNegativeInfinity(max))
                        {
                            new Span<float>(row, width).Clear();
                            sums[r] = 0;
                            continue;
                        }

                        sums[r] = Microkernels.ExpShiftedInPlace(row, width, max, scale);
                        Microkernels.Scale(row, width, 1f / sums[r]);
                    }

                    for (var keyBlock = 0; keyBlock < keyBlocks; keyBlock++)
                    {
                        var firstKey = keyBlock * KeyBlock;
                        Microkernels.AccumulateProduct(s + firstKey, width, values + ((long)firstKey * paddedValueDepth), paddedValueDepth, KeyBlock, stripOutput, stride, MaterializedStrip, paddedValueDepth);
                    }

                    for (var r = 0; checkNumbers && r < MaterializedStrip && strip + r < rows && first + strip + r < validQueries; r++)
                    {
                        if (!RowIsSound(first + strip + r, sums[r], stripOutput + ((long)r * stride)))
                        {
                            return;
                        }
                    }
                }

                FinishBlock(block, outputRows, stride, rows);
            }
        }

        /// <summary>Whether the mask lets <paramref name="query"/> see at least one key (a window may leave none when keys are fewer than queries).</summary>
        private bool SeesAnyKey(int query)
        {
            var lastKey = validKeys - 1L;
            var firstKey = 0L;
            if (mask.Causal)
            {
                lastKey = Math.Min(lastKey, query);
            }

            if (mask.Window is { } w)
            {
                lastKey = Math.Min(lastKey, (long)query + w);
                firstKey = Math.Max(0, (long)query - w);
            }

            return lastKey >= firstKey;
        }

        private bool BlockVisible(int firstQuery, int firstKey) => TileVisible(firstQuery, firstKey, validQueries, validKeys, mask);

        /// <summary>Minus infinity for every hidden pair in a tile, including padding keys past the real ones.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void MaskTile(float* tile, int stride, int firstQuery, int firstKey, int width, int height)
        {
            var needsPadding = firstKey + width > validKeys;
            var needsCausal = mask.Causal && firstKey + width - 1 > firstQuery;
            var needsWindow = mask.Window is { } w && (firstKey < firstQuery + height - 1 - w || firstKey + width - 1 > firstQuery - w);
            if (!needsPadding && !needsCausal && !needsWindow)
            {
                return;
            }

            for (var r = 0; r < height; r++)
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
    }

    private sealed class Scratch(int scoreTile, int depth, int paddedValueDepth)
    {
        public float[] Scores { get; } = GC.AllocateUninitializedArray<float>(scoreTile, pinned: true);

        public float[] Queries { get; } = GC.AllocateArray<float>(QueryBlock * depth, pinned: true);

        public float[] Output { get; } = GC.AllocateArray<float>(QueryBlock * paddedValueDepth, pinned: true);

        public float[] RowMax { get; } = new float[QueryBlock];

        public float[] RowSum { get; } = new float[QueryBlock];
    }
}
