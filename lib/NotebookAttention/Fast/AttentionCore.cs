using System.Buffers;
using System.Runtime.CompilerServices;

namespace NotebookAttention.Fast;

/// <summary>fp32 rows read or written in place: row r starts at <see cref="Data"/> + r · <see cref="Stride"/>.</summary>
/// <remarks>A head's queries are a column slice of the projected tokens: its first column, and the full row width as stride.</remarks>
internal readonly unsafe struct StridedRows(float* data, int stride)
{
    public float* Data { get; } = data;

    public int Stride { get; } = stride;
}

/// <summary>How <see cref="AttentionCore"/> walks the score matrix.</summary>
internal enum AttentionPass
{
    /// <summary>Query blocks outside, key blocks inside, online softmax: O(n d) extra memory (FlashAttention-2's order).</summary>
    Tiled,

    /// <summary>Every score of a strip of queries, then softmax and P V, kept in one [queries x keys] matrix (n² memory).</summary>
    Materialized,

    /// <summary>The same strips with only one strip of scores alive at a time: the fastest exact order for short rows.</summary>
    Strips,
}

/// <summary>
/// The attention core of the fast path: softmax(Q K^T / sqrt(d_k)) V for one head, with padding, causal and window
/// masks, on fp32 rows read and written in place through row strides. <see cref="FastAttention"/>,
/// <see cref="FastMultiHeadAttention"/> and the pretrained encoder all run it; the products are
/// <see cref="Microkernels.Product"/> tiles and the row steps <see cref="VectorRows"/>.
/// </summary>
/// <remarks>
/// <para>K is copied once, transposed per block of <see cref="KeyBlock"/> keys ([d_k x 128], so 16 or 32 keys of one
/// dimension are contiguous for the tile); Q, V and the output stay where they are when their widths are whole tiles,
/// otherwise a block is copied to scratch. Extra memory is n·d floats plus a few tiles per worker.</para>
/// <para>Callers validate shapes and masks where input enters; with <c>checkNumbers</c> each finished row is checked
/// (finite, positive softmax sum when the mask lets it see a key), so fp32 overflow is reported with the query row
/// instead of a NaN row or a zero row that would look like padding.</para>
/// </remarks>
internal sealed unsafe class AttentionCore
{
    /// <summary>Queries per block (a multiple of the 6-row register tile).</summary>
    public const int QueryBlock = 96;

    /// <summary>Keys per block (a multiple of the 32-column register tile).</summary>
    public const int KeyBlock = 128;

    /// <summary>Query rows the strip passes score, normalise and sum at a time (a multiple of 6).</summary>
    private const int Strip = 24;

    private readonly StridedRows queries;
    private readonly StridedRows output;
    private readonly StridedRows values;       // V in place, or its padded copy
    private readonly int queryCount;
    private readonly int depth;
    private readonly int valueDepth;
    private readonly int paddedValueDepth;
    private readonly float scale;
    private readonly FastMask mask;
    private readonly int validQueries;
    private readonly int validKeys;
    private readonly int queryBlocks;
    private readonly int keyBlocks;
    private readonly int parts;                // each query block runs as this many parts of partRows rows (1, 2 or 4)
    private readonly int partRows;
    private readonly float[] packedKeys;       // per key block: [depth x KeyBlock], K transposed; rented
    private readonly float[]? paddedValues;    // V with columns padded to 16, when V cannot be read in place; rented
    private readonly int threads;
    private readonly bool checkNumbers;
    private ArgumentException? failure;        // the first overflow a worker found; the caller's thread throws it

    private AttentionCore(StridedRows queries, StridedRows keys, StridedRows values, StridedRows output,
        int queryCount, int keyCount, int depth, int valueDepth, FastMask mask, int threads, bool checkNumbers)
    {
        this.queries = queries;
        this.output = output;
        this.queryCount = queryCount;
        this.depth = depth;
        this.valueDepth = valueDepth;
        this.mask = mask;
        this.threads = Math.Max(1, threads);
        this.checkNumbers = checkNumbers;
        scale = 1f / MathF.Sqrt(depth);
        validQueries = mask.ValidLength ?? queryCount;
        validKeys = mask.ValidLength ?? keyCount;
        queryBlocks = (int)(FastAttention.RoundUp(queryCount, QueryBlock) / QueryBlock);
        keyBlocks = (int)(FastAttention.RoundUp(keyCount, KeyBlock) / KeyBlock);

        // Few blocks for the workers (short sequences): halves or quarters of blocks (48 or 24 rows, whole tiles and
        // strips) are handed out instead, so that no core waits while another finishes a last whole block (n = 256 is
        // 3 blocks: one core would do two, the other one). Which key blocks are visited is still decided per block.
        parts = this.threads == 1 ? 1 : queryBlocks < 2 * this.threads ? 4 : queryBlocks < 8 * this.threads ? 2 : 1;
        partRows = QueryBlock / parts;
        paddedValueDepth = (int)FastAttention.RoundUp(valueDepth, Microkernels.Columns);

        var pool = ArrayPool<float>.Shared;
        packedKeys = pool.Rent(keyBlocks * KeyBlock * depth);
        new Span<float>(packedKeys, (keyBlocks - 1) * KeyBlock * depth, KeyBlock * depth).Clear();   // keys past the last are zero
        for (var key = 0; key < keyCount; key++)
        {
            var target = ((key / KeyBlock) * KeyBlock * depth) + (key % KeyBlock);
            var row = keys.Data + ((long)key * keys.Stride);
            for (var t = 0; t < depth; t++)
            {
                packedKeys[target + (t * KeyBlock)] = row[t];
            }
        }

        // P V reads V rows up to the score columns it computed (keys rounded up to 16) and paddedValueDepth columns.
        if (valueDepth == paddedValueDepth && keyCount % Microkernels.Columns == 0)
        {
            this.values = values;
            return;
        }

        paddedValues = pool.Rent(keyBlocks * KeyBlock * paddedValueDepth);
        new Span<float>(paddedValues, 0, keyBlocks * KeyBlock * paddedValueDepth).Clear();
        for (var key = 0; key < keyCount; key++)
        {
            new ReadOnlySpan<float>(values.Data + ((long)key * values.Stride), valueDepth).CopyTo(paddedValues.AsSpan(key * paddedValueDepth));
        }

        this.values = new StridedRows(null, paddedValueDepth);
    }

    /// <summary>
    /// Runs one head: output = softmax(Q K^T / sqrt(d_k)) V, rows past the mask's valid length zero.
    /// </summary>
    /// <remarks>
    /// Q [queryCount x depth], K [keyCount x depth], V [keyCount x valueDepth] and the output [queryCount x valueDepth]
    /// are read and written through their strides; shapes and the mask are the caller's to check first.
    /// <paramref name="threads"/> workers take query blocks; one runs on the calling thread (for callers that run
    /// heads in parallel themselves).
    /// </remarks>
    /// <exception cref="ArgumentException">With <paramref name="checkNumbers"/>: the scores or sums overflowed fp32.</exception>
    public static void Run(AttentionPass pass, StridedRows queries, StridedRows keys, StridedRows values, StridedRows output,
        int queryCount, int keyCount, int depth, int valueDepth, FastMask mask, int threads, bool checkNumbers, CancellationToken cancellation)
    {
        var core = new AttentionCore(queries, keys, values, output, queryCount, keyCount, depth, valueDepth, mask, threads, checkNumbers);
        try
        {
            core.Run(pass, cancellation);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(core.packedKeys);
            if (core.paddedValues is not null)
            {
                ArrayPool<float>.Shared.Return(core.paddedValues);
            }
        }
    }

    private void Run(AttentionPass pass, CancellationToken cancellation)
    {
        switch (pass)
        {
            case AttentionPass.Tiled:
                ForEachPart(QueryBlock * KeyBlock, (part, scratch) => TiledPart(part, scratch, cancellation), cancellation);
                break;
            case AttentionPass.Materialized:
                // Whole blocks of queries by whole blocks of keys: FastAttention.MaterializedScoreBytes counts the same.
                var matrix = GC.AllocateUninitializedArray<float>(checked(queryBlocks * QueryBlock * keyBlocks * KeyBlock), pinned: true);
                fixed (float* all = matrix)
                {
                    var scores = new StridedRows(all, keyBlocks * KeyBlock);
                    ForEachPart(0, (part, scratch) => StripPart(part, scratch, scores, cancellation), cancellation);
                }

                break;
            default:
                // Rows of scores 16 floats apart from a multiple of 128, so the rows of a strip do not share cache sets.
                var stride = (keyBlocks * KeyBlock) + 16;
                ForEachPart(Strip * stride, (part, scratch) => StripPart(part, scratch, default, cancellation), cancellation);
                break;
        }
    }

    /// <summary>
    /// One worker per core up to <see cref="threads"/>, each taking the next part of a query block from a shared counter;
    /// with one worker the parts run on the calling thread.
    /// </summary>
    private void ForEachPart(int scoreLength, Action<int, Scratch> work, CancellationToken cancellation)
    {
        var items = queryBlocks * parts;
        var workers = Math.Min(threads, items);
        if (workers == 1)
        {
            using var own = new Scratch(scoreLength, depth, paddedValueDepth);
            for (var item = 0; item < items && failure is null; item++)
            {
                work(item, own);
            }
        }
        else
        {
            var next = -1;
            // The library's spinning workers rather than the thread pool: a short sequence's whole pass (n = 256: about
            // 0.1 ms a core) is shorter than an idle pool thread can take to wake.
            cancellation.ThrowIfCancellationRequested();
            Workers.Run(workers, _ =>
            {
                using var own = new Scratch(scoreLength, depth, paddedValueDepth);
                for (var item = Interlocked.Increment(ref next); item < items && Volatile.Read(ref failure) is null; item = Interlocked.Increment(ref next))
                {
                    work(item, own);
                }
            }, workers);
        }

        // Thrown here, on the caller's thread, so it arrives as itself rather than inside an AggregateException.
        if (failure is not null)
        {
            throw failure;
        }
    }

    /// <summary>
    /// One part of a query block, key block by key block, with a running row maximum m and sum l: a new block's maximum
    /// rescales what was summed so far by exp((m_old - m_new) / sqrt(d)), and the output is divided by l once at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TiledPart(int part, Scratch scratch, CancellationToken cancellation)
    {
        var (blockFirst, first, rows) = Part(part);
        if (rows <= 0)
        {
            return;
        }

        var rowMax = scratch.RowMax;
        var rowSum = scratch.RowSum;
        rowMax.AsSpan(0, QueryBlock).Fill(float.NegativeInfinity);
        Array.Clear(rowSum, 0, QueryBlock);
        fixed (float* k = packedKeys, v = paddedValues, s = scratch.Scores, queryScratch = scratch.Queries, outputScratch = scratch.Output)
        {
            var q = PartRows(first, rows, queryScratch, outputScratch, out var outputRows);
            var values = ValueRows(v);
            var height = (int)FastAttention.RoundUp(rows, Microkernels.Rows);
            for (var keyBlock = 0; keyBlock < keyBlocks && first < validQueries; keyBlock++)
            {
                var firstKey = keyBlock * KeyBlock;
                if (!FastAttention.TileVisible(blockFirst, firstKey, validQueries, validKeys, mask))
                {
                    continue;
                }

                cancellation.ThrowIfCancellationRequested();
                var width = KeysInBlock(firstKey);
                Microkernels.Product(q.Data, q.Stride, k + ((long)firstKey * depth), KeyBlock, depth, s, KeyBlock, height, width, accumulate: false);
                MaskTile(s, KeyBlock, first, firstKey, width, height);
                for (var r = 0; r < height; r++)
                {
                    var row = s + (r * KeyBlock);
                    var tileMax = VectorRows.RowMax(row, width);
                    if (float.IsNegativeInfinity(tileMax))
                    {
                        new Span<float>(row, width).Clear();
                        continue;
                    }

                    var newMax = MathF.Max(rowMax[r], tileMax);
                    var correction = MathF.Exp((rowMax[r] - newMax) * scale);
                    rowSum[r] = (rowSum[r] * correction) + VectorRows.ExpShiftedInPlace(row, width, newMax, scale);
                    if (correction != 1f)
                    {
                        VectorRows.Scale(outputRows.Data + ((long)r * outputRows.Stride), paddedValueDepth, correction);
                    }

                    rowMax[r] = newMax;
                }

                Microkernels.Product(s, KeyBlock, values.Data + ((long)firstKey * values.Stride), values.Stride, width, outputRows.Data, outputRows.Stride, height, paddedValueDepth, accumulate: true);
            }

            FinishPart(first, outputRows, rows, rowSum);
        }
    }

    /// <summary>
    /// One part of a query block, a strip of rows at a time: all scores of the strip, each row's shifted exponentials and their
    /// sum, P V, and the division by the sum on the d_v outputs instead of the n weights. The scores go to the kept
    /// matrix when <paramref name="matrix"/> has data, else to the worker's scratch strip.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StripPart(int part, Scratch scratch, StridedRows matrix, CancellationToken cancellation)
    {
        var (_, first, rows) = Part(part);
        if (rows <= 0)
        {
            return;
        }

        var used = (int)FastAttention.RoundUp(validKeys, Microkernels.Columns);
        fixed (float* k = packedKeys, v = paddedValues, stripScores = scratch.Scores, queryScratch = scratch.Queries, outputScratch = scratch.Output)
        {
            var q = PartRows(first, rows, queryScratch, outputScratch, out var outputRows);
            var values = ValueRows(v);
            var sums = scratch.RowSum;
            for (var strip = 0; strip < rows && first + strip < validQueries; strip += Strip)
            {
                var height = Math.Min(Strip, (int)FastAttention.RoundUp(rows - strip, Microkernels.Rows));
                var scoreStride = matrix.Data == null ? (keyBlocks * KeyBlock) + 16 : matrix.Stride;
                var s = matrix.Data == null ? stripScores : matrix.Data + ((long)(first + strip) * matrix.Stride);
                var stripQueries = q.Data + ((long)strip * q.Stride);
                var stripOutput = outputRows.Data + ((long)strip * outputRows.Stride);
                for (var firstKey = 0; firstKey < validKeys; firstKey += KeyBlock)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var width = KeysInBlock(firstKey);
                    Microkernels.Product(stripQueries, q.Stride, k + ((long)firstKey * depth), KeyBlock, depth, s + firstKey, scoreStride, height, width, accumulate: false);
                    MaskTile(s + firstKey, scoreStride, first + strip, firstKey, width, height);
                }

                for (var r = 0; r < height; r++)
                {
                    var row = s + ((long)r * scoreStride);
                    var max = VectorRows.RowMax(row, used);
                    if (float.IsNegativeInfinity(max))
                    {
                        new Span<float>(row, used).Clear();
                        sums[strip + r] = 0;
                        continue;
                    }

                    sums[strip + r] = VectorRows.ExpShiftedInPlace(row, used, max, scale);
                }

                for (var firstKey = 0; firstKey < validKeys; firstKey += KeyBlock)
                {
                    Microkernels.Product(s + firstKey, scoreStride, values.Data + ((long)firstKey * values.Stride), values.Stride, KeysInBlock(firstKey), stripOutput, outputRows.Stride, height, paddedValueDepth, accumulate: true);
                }
            }

            FinishPart(first, outputRows, rows, sums);
        }
    }

    /// <summary>Score columns a key block needs: its visible keys rounded up to whole 16-column tiles.</summary>
    private int KeysInBlock(int firstKey) => Math.Min(KeyBlock, (int)FastAttention.RoundUp(validKeys - firstKey, Microkernels.Columns));

    private StridedRows ValueRows(float* padded) => paddedValues is null ? values : new StridedRows(padded, paddedValueDepth);

    /// <summary>A part's query block's first row, its own first row, and its rows (0 or less past the last query).</summary>
    private (int BlockFirst, int First, int Rows) Part(int item)
    {
        var blockFirst = item / parts * QueryBlock;
        var first = blockFirst + (item % parts * partRows);
        return (blockFirst, first, Math.Min(partRows, queryCount - first));
    }

    /// <summary>Where a part's query rows and output rows live: in place, or in scratch for a ragged part.</summary>
    private StridedRows PartRows(int first, int rows, float* queryScratch, float* outputScratch, out StridedRows outputRows)
    {
        var inPlaceOutput = rows == partRows && valueDepth == paddedValueDepth;
        outputRows = inPlaceOutput ? new StridedRows(output.Data + ((long)first * output.Stride), output.Stride) : new StridedRows(outputScratch, paddedValueDepth);
        for (var r = 0; r < rows; r++)
        {
            new Span<float>(outputRows.Data + ((long)r * outputRows.Stride), paddedValueDepth).Clear();
        }

        if (rows == partRows)
        {
            return new StridedRows(queries.Data + ((long)first * queries.Stride), queries.Stride);
        }

        // A ragged part: its rows, then zero rows up to a whole register tile.
        new Span<float>(queryScratch, QueryBlock * depth).Clear();
        new Span<float>(outputScratch, QueryBlock * paddedValueDepth).Clear();
        for (var r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(queries.Data + ((long)(first + r) * queries.Stride), depth).CopyTo(new Span<float>(queryScratch + (r * depth), depth));
        }

        return new StridedRows(queryScratch, depth);
    }

    /// <summary>Divides each row by its softmax sum, checks it, and writes the part's rows (zero past the valid length).</summary>
    private void FinishPart(int first, StridedRows outputRows, int rows, float[] sums)
    {
        for (var r = 0; r < rows; r++)
        {
            var row = outputRows.Data + ((long)r * outputRows.Stride);
            var target = new Span<float>(output.Data + ((long)(first + r) * output.Stride), valueDepth);
            if (first + r >= validQueries)
            {
                target.Clear();
                continue;
            }

            VectorRows.Scale(row, paddedValueDepth, sums[r] > 0 ? 1f / sums[r] : 0f);
            if (checkNumbers && !RowIsSound(first + r, sums[r], row))
            {
                return;
            }

            if (row != output.Data + ((long)(first + r) * output.Stride))
            {
                new ReadOnlySpan<float>(row, valueDepth).CopyTo(target);
            }
        }
    }

    /// <summary>
    /// Checks a finished query row: its softmax sum must be finite, and positive when the mask lets the query see any
    /// key (the largest term is exactly 1 then), and its output finite. A zero sum for a query that sees keys means
    /// every score overflowed to minus infinity, which would otherwise look like a masked row.
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

        var bad = VectorRows.FirstNonFinite(outputRow, valueDepth);
        if (bad >= 0)
        {
            Interlocked.CompareExchange(ref failure, new ArgumentException(
                $"output row {query}, column {bad} came out {Check.Name(outputRow[bad])}: the weighted sum of values V overflowed fp32 (±3.4e38), although V is finite " +
                "(the fast path sums up to n unnormalised weights times V before dividing by their sum). Scale V down, or use the fp64 reference path."), null);
            return false;
        }

        return true;
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

    /// <summary>One worker's tiles, rented for the run.</summary>
    private sealed class Scratch(int scoreLength, int depth, int paddedValueDepth) : IDisposable
    {
        public float[] Scores { get; } = ArrayPool<float>.Shared.Rent(scoreLength);

        public float[] Queries { get; } = ArrayPool<float>.Shared.Rent(QueryBlock * depth);

        public float[] Output { get; } = ArrayPool<float>.Shared.Rent(QueryBlock * paddedValueDepth);

        public float[] RowMax { get; } = ArrayPool<float>.Shared.Rent(QueryBlock);

        public float[] RowSum { get; } = ArrayPool<float>.Shared.Rent(QueryBlock);

        public void Dispose()
        {
            foreach (var array in new[] { Scores, Queries, Output, RowMax, RowSum })
            {
                ArrayPool<float>.Shared.Return(array);
            }
        }
    }
}
