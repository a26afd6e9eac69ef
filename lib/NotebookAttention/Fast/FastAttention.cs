using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Fast;

/// <summary>
/// Fast fp32 scaled dot-product attention, softmax(Q K^T / sqrt(d)) V, in two exact variants.
/// </summary>
/// <remarks>
/// <para><b>Materialized</b> builds the whole [queries x keys] score matrix, a strip of query rows at a time its
/// shifted exponentials, P V and the division by each row's sum: memory grows as n^2. It refuses, before allocating,
/// a size whose score matrix would not fit in available memory.</para>
/// <para><b>Tiled</b> follows the FlashAttention-2 loop order: blocks of <see cref="QueryBlock"/> queries outside,
/// blocks of <see cref="KeyBlock"/> keys and values inside, a running row maximum and sum (online softmax), and one
/// normalisation at the end. Extra memory is O(n d). Key blocks that the mask hides completely are skipped.</para>
/// <para>Extra memory of the tiled path is K packed transposed (n d floats) plus small tiles; Q, V and the output are
/// used in place when d_v and the key count are multiples of 16 (V is copied, padded, otherwise).</para>
/// <para>Bad numbers never come back as output: a NaN or infinity in Q, K or V is refused before the pass (one
/// vectorised scan of each), and finite inputs whose scores or sums leave the fp32 range (±3.4e38) are reported
/// with the query row where it happened, instead of a NaN row or a zero row that would look like padding.</para>
/// <para>Both are passes of the one <see cref="AttentionCore"/> (which the pretrained encoder runs too): the register
/// tiles of <see cref="Microkernels"/> (AVX-512, AVX2 or portable) and a vectorised exp, query blocks in parallel on
/// all cores. Scratch comes from the shared array pool, so inner loops allocate nothing.</para>
/// </remarks>
public static class FastAttention
{
    /// <summary>Queries per block (a multiple of the 6-row register tile).</summary>
    public const int QueryBlock = AttentionCore.QueryBlock;

    /// <summary>Keys per block (a multiple of the register tiles' 16 and 32 columns).</summary>
    public const int KeyBlock = AttentionCore.KeyBlock;

    private const string InputRemedy = "every entry must be a finite number; look at the step that produced this buffer";

    /// <summary>
    /// Tiled attention with online softmax: extra memory O(n d).
    /// </summary>
    /// <remarks>
    /// Row-major Q [queryCount x depth], K [keyCount x depth], V [keyCount x valueDepth] into the output
    /// [queryCount x valueDepth]; the mask holds padding, causal and window masks; null threads means all cores.
    /// </remarks>
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
    /// with the number checks optional, so the benchmark can measure what they cost.
    /// </summary>
    internal static void Tiled(
        ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        int queryCount, int keyCount, int depth, int valueDepth, FastMask mask, int? threads, bool checkNumbers, CancellationToken cancellation)
    {
        Validate(queries, keys, values, output, queryCount, keyCount, depth, valueDepth, mask, checkNumbers);
        Run(AttentionPass.Tiled, queries, keys, values, output, queryCount, keyCount, depth, valueDepth, mask, threads, checkNumbers, cancellation);
    }

    /// <summary>
    /// Materializing attention: builds the full score matrix (4 bytes per query-key pair), then softmax, then P V.
    /// </summary>
    /// <remarks>
    /// Row-major Q [queryCount x depth], K [keyCount x depth], V [keyCount x valueDepth] into the output
    /// [queryCount x valueDepth]; the mask holds padding, causal and window masks; a null memory budget means what the machine has available now.
    /// </remarks>
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
        Validate(queries, keys, values, output, queryCount, keyCount, depth, valueDepth, mask, checkNumbers: true);
        Run(AttentionPass.Materialized, queries, keys, values, output, queryCount, keyCount, depth, valueDepth, mask, null, checkNumbers: true, cancellation);
    }

    /// <summary>Bytes the materializing path allocates for its score matrix (padded to whole blocks).</summary>
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
    public static long AvailableMemoryBytes()
    {
        var info = GC.GetGCMemoryInfo();
        return Math.Max(0, info.TotalAvailableMemoryBytes - info.MemoryLoadBytes);
    }

    /// <summary>Throws, before anything is allocated, when the score matrix would not fit.</summary>
    /// <remarks>A null budget means <see cref="AvailableMemoryBytes"/>.</remarks>
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
    /// <returns>The output [n x d_v] for Q [n x d], K [m x d], V [m x d_v].</returns>
    public static Matrix<double> Tiled(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, FastMask mask = default) =>
        OnMatrices(queries, keys, values, (q, k, v, o, n, m, d, dv) => Tiled(q, k, v, o, n, m, d, dv, mask));

    /// <summary>Materializing attention on MathNet matrices (converted to fp32 and back), for notebooks and tests.</summary>
    /// <returns>The output [n x d_v] for Q [n x d], K [m x d], V [m x d_v].</returns>
    public static Matrix<double> Materialized(Matrix<double> queries, Matrix<double> keys, Matrix<double> values, FastMask mask = default) =>
        OnMatrices(queries, keys, values, (q, k, v, o, n, m, d, dv) => Materialized(q, k, v, o, n, m, d, dv, mask));

    /// <summary>Whether any query of the block may see any key of the key block (fully hidden tiles are skipped).</summary>
    internal static bool TileVisible(int firstQuery, int firstKey, int validQueries, int validKeys, FastMask mask)
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

    /// <summary>Checks the sizes, the mask and (with the number checks) the entries once, where the input enters.</summary>
    private static void Validate(
        ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, ReadOnlySpan<float> output,
        int queryCount, int keyCount, int depth, int valueDepth, FastMask mask, bool checkNumbers)
    {
        Check.AtLeast(queryCount, 1, "query count", nameof(queryCount));
        Check.AtLeast(keyCount, 1, "key count", nameof(keyCount));
        Check.AtLeast(depth, 1, "d_k", nameof(depth));
        Check.AtLeast(valueDepth, 1, "d_v", nameof(valueDepth));
        Check.Length(queries.Length, queryCount, depth, "queries", "queryCount x d_k", nameof(queries));
        Check.Length(keys.Length, keyCount, depth, "keys", "keyCount x d_k", nameof(keys));
        Check.Length(values.Length, keyCount, valueDepth, "values", "keyCount x d_v", nameof(values));
        Check.Length(output.Length, queryCount, valueDepth, "output", "queryCount x d_v", nameof(output));
        mask.Validate(queryCount, keyCount);
        Check.TableFits(RoundUp(keyCount, KeyBlock), depth, "K packed in whole blocks of 128 keys", "use fewer keys or a smaller d_k", nameof(keys));
        Check.TableFits(RoundUp(keyCount, KeyBlock), RoundUp(valueDepth, Microkernels.Columns), "V padded to whole blocks of 128 keys and 16 columns", "use fewer keys or a smaller d_v", nameof(values));
        if (checkNumbers)
        {
            Check.Finite(queries, queryCount, depth, "queries Q", InputRemedy, nameof(queries));
            Check.Finite(keys, keyCount, depth, "keys K", InputRemedy, nameof(keys));
            Check.Finite(values, keyCount, valueDepth, "values V", InputRemedy, nameof(values));
        }
    }

    /// <summary>One head on contiguous row-major buffers, through the shared <see cref="AttentionCore"/>.</summary>
    private static unsafe void Run(
        AttentionPass pass, ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        int queryCount, int keyCount, int depth, int valueDepth, FastMask mask, int? threads, bool checkNumbers, CancellationToken cancellation)
    {
        fixed (float* q = queries, k = keys, v = values, o = output)
        {
            AttentionCore.Run(pass, new StridedRows(q, depth), new StridedRows(k, depth), new StridedRows(v, valueDepth), new StridedRows(o, valueDepth),
                queryCount, keyCount, depth, valueDepth, mask, threads ?? Environment.ProcessorCount, checkNumbers, cancellation);
        }
    }
}
