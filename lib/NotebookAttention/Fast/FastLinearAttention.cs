using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NotebookAttention.Fast;

/// <summary>
/// Fast fp32 linear attention (Katharopoulos et al., 2020): output_i = phi(q_i)^T S / phi(q_i)^T z with
/// S = sum_j phi(k_j) v_j^T [d x d_v] and z = sum_j phi(k_j) [d], phi(x) = elu(x) + 1. Its arithmetic is
/// <see cref="Flops"/>, about 4 n d d_v: linear in n. The fp64 version that reads like the equations is
/// <see cref="Approximations.LinearAttention.Compute"/>.
/// </summary>
/// <remarks>
/// <para>Non-causal: each core sums S and z over a fixed, contiguous share of the keys (blocks of <see cref="Chunk"/>
/// keys, phi(K) transposed times V on the same register tiles as the tiled exact kernel, <see cref="Microkernels.Product"/>), the shares
/// are added in order (so a run gives the same bits every time with the same number of threads), then blocks of
/// queries multiply phi(Q) S on the same kernel.</para>
/// <para>Causal (query i uses keys 0..i, the running sums of an RNN): the sequence is cut into one part per core;
/// a first pass sums each part's S and z, their prefix sums give every part its starting state, and a second pass
/// runs each part block by block: phi(Q_b) S_before + the lower triangle of phi(Q_b) phi(K_b)^T times V_b, then
/// S += phi(K_b)^T V_b. That is about 1.7x the arithmetic of <see cref="Flops"/> (the triangles and the first pass).</para>
/// <para>Inputs are checked once at entry. phi(x) = e^x underflows to 0 in fp32 below x = -87.3 (the fp64 version
/// keeps logarithms); a query whose every feature underflowed, or sums that overflow fp32, are reported with the
/// row. Buffers come from <see cref="ArrayPool{T}.Shared"/> once per call and per worker.</para>
/// </remarks>
public static class FastLinearAttention
{
    /// <summary>Keys and queries per step (a multiple of the register tiles' 6 rows and 16 columns).</summary>
    public const int Chunk = 48;

    private const string InputRemedy = "every entry must be a finite number; look at the step that produced this buffer";

    /// <summary>Linear attention on row-major fp32 buffers (self-attention: as many keys as queries).</summary>
    /// <param name="queries">Q [n x depth].</param>
    /// <param name="keys">K [n x depth].</param>
    /// <param name="values">V [n x valueDepth].</param>
    /// <param name="output">Receives [n x valueDepth].</param>
    /// <param name="n">Sequence length.</param>
    /// <param name="depth">d_k.</param>
    /// <param name="valueDepth">d_v.</param>
    /// <param name="causal">Token i uses keys 0..i only.</param>
    /// <param name="threads">Cores to use; null for all.</param>
    /// <param name="cancellation">Stops a long run between blocks.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length, an input holds NaN or infinity, every feature of a query underflowed, or a sum overflowed fp32.</exception>
    public static void Compute(
        ReadOnlySpan<float> queries, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        int n, int depth, int valueDepth, bool causal = false, int? threads = null, CancellationToken cancellation = default)
    {
        Check.AtLeast(n, 1, "n", nameof(n));
        Check.AtLeast(depth, 1, "d_k", nameof(depth));
        Check.AtLeast(valueDepth, 1, "d_v", nameof(valueDepth));
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
                var problem = new Problem(q, k, v, o, n, depth, valueDepth, Math.Max(1, threads ?? Environment.ProcessorCount));
                if (causal)
                {
                    problem.RunCausal(cancellation);
                }
                else
                {
                    problem.Run(cancellation);
                }
            }
        }
    }

    /// <summary>
    /// The arithmetic linear attention needs, as a model: phi(K)^T V and phi(Q) S (2 n d d_v FLOPs each), z and the
    /// n denominators (n d and 2 n d), counted as <see cref="Cost.AttentionCost.Flops"/> counts (the feature map and
    /// the division are not counted). The causal form needs the same arithmetic in principle (running sums), but this
    /// is not what the kernel does: the causal kernel does about 1.7x as much on 2 cores (a first pass over all but
    /// the last part, and each block's own lower triangle), so a GFLOP/s computed from this count is a lower bound of
    /// the causal kernel's real rate.
    /// </summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="depth">d_k.</param>
    /// <param name="valueDepth">d_v.</param>
    /// <returns>FLOPs.</returns>
    public static double Flops(long n, int depth, int valueDepth) => (4.0 * n * depth * valueDepth) + (3.0 * n * depth);

    /// <summary>phi(x) = elu(x) + 1 on <paramref name="count"/> floats: x + 1 above 0, e^x at or below (0 below -87.3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Features(float* x, int count, float* phi)
    {
        var i = 0;
        if (Microkernels.Accelerated)
        {
            var zero = Vector256<float>.Zero;
            var one = Vector256.Create(1f);
            for (; i <= count - 8; i += 8)
            {
                var v = Avx.LoadVector256(x + i);
                var positive = Avx.CompareGreaterThan(v, zero);
                Avx.Store(phi + i, Avx.BlendVariable(VectorRows.Exp(Avx.Min(v, zero)), Avx.Add(v, one), positive));
            }
        }

        for (; i < count; i++)
        {
            phi[i] = x[i] > 0 ? x[i] + 1 : MathF.Exp(x[i]);
        }
    }

    /// <summary>target[i] += source[i] for i &lt; count (AVX where available).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void AddInto(float* target, float* source, int count)
    {
        var i = 0;
        if (Microkernels.Accelerated)
        {
            for (; i <= count - 8; i += 8)
            {
                Avx.Store(target + i, Avx.Add(Avx.LoadVector256(target + i), Avx.LoadVector256(source + i)));
            }
        }

        for (; i < count; i++)
        {
            target[i] += source[i];
        }
    }

    /// <summary>sum_i a[i] b[i] for i &lt; count (AVX/FMA where available).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal static unsafe float Dot(float* a, float* b, int count)
    {
        var i = 0;
        var sum = 0f;
        if (Microkernels.Accelerated && count >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= count - 8; i += 8)
            {
                acc = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Avx.LoadVector256(b + i), acc);
            }

            sum = Vector256.Sum(acc);
        }

        for (; i < count; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>
    /// Whether every entry is finite: x * 0 is 0 for a finite x and NaN for NaN or infinity, so one sum of them
    /// tells. Written out (not TensorPrimitives) so that the first calls of a run are compiled optimized too.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal static unsafe bool AllFinite(float* row, int count)
    {
        var i = 0;
        var zero = 0f;
        if (Microkernels.Accelerated && count >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= count - 8; i += 8)
            {
                acc = Avx.Add(acc, Avx.Multiply(Avx.LoadVector256(row + i), Vector256<float>.Zero));
            }

            zero = Vector256.Sum(acc);
        }

        for (; i < count; i++)
        {
            zero += row[i] * 0f;
        }

        return zero == 0f;
    }

    /// <summary>Self-attention inputs as fp32 buffers: Q, K [n x d] and V [n x d_v], refused with a clear message when the shapes differ.</summary>
    internal static (float[] Q, float[] K, float[] V, int N, int D, int Dv) SelfAttentionInputs(MathNet.Numerics.LinearAlgebra.Matrix<double> queries, MathNet.Numerics.LinearAlgebra.Matrix<double> keys, MathNet.Numerics.LinearAlgebra.Matrix<double> values)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        if (queries.RowCount != keys.RowCount || queries.ColumnCount != keys.ColumnCount || values.RowCount != keys.RowCount)
        {
            throw new ArgumentException(
                $"Q is {Check.Shape(queries)}, K is {Check.Shape(keys)} and V is {Check.Shape(values)}: this is self-attention, so Q and K need the same shape [n x d] and V n rows.",
                nameof(keys));
        }

        return (Fp32.FromMatrix(queries, "queries Q", nameof(queries)), Fp32.FromMatrix(keys, "keys K", nameof(keys)), Fp32.FromMatrix(values, "values V", nameof(values)),
            queries.RowCount, queries.ColumnCount, values.ColumnCount);
    }

    /// <summary>One call: pointers into the caller's pinned buffers; scratch is pooled per worker.</summary>
    private sealed unsafe class Problem(float* queries, float* keys, float* values, float* output, int n, int depth, int valueDepth, int threads)
    {
        private readonly int paddedDepth = (int)FastAttention.RoundUp(depth, Microkernels.Rows);        // rows of S: whole register tiles
        private readonly int paddedValueDepth = (int)FastAttention.RoundUp(valueDepth, Microkernels.Columns);
        private readonly int chunks = (n + Chunk - 1) / Chunk;
        private ArgumentException? failure;

        /// <summary>Floats of one state: S [paddedDepth x paddedValueDepth], then z [paddedDepth].</summary>
        private int StateSize => (paddedDepth * paddedValueDepth) + paddedDepth;

        public void Run(CancellationToken cancellation)
        {
            var workers = Math.Min(threads, chunks);
            var states = ArrayPool<float>.Shared.Rent(workers * StateSize);
            try
            {
                Array.Clear(states, 0, workers * StateSize);
                int FirstChunk(int worker) => (int)((long)worker * chunks / workers);

                // Each worker sums a fixed, contiguous range of key blocks in order, and the ranges are added in
                // index order: the same bits on every run with the same number of threads (fp32 addition is not
                // associative, so handing blocks out first come, first served would change the sums run to run).
                Parallel.For(0, workers, new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = workers }, own =>
                {
                    using var scratch = new Scratch(this);
                    fixed (float* state = &states[own * StateSize])
                    {
                        for (var chunk = FirstChunk(own); chunk < FirstChunk(own + 1); chunk++)
                        {
                            cancellation.ThrowIfCancellationRequested();
                            AddKeys(chunk * Chunk, state, scratch);
                        }
                    }
                });

                var next = -1;
                fixed (float* all = states)
                {
                    for (var w = 1; w < workers; w++)
                    {
                        AddInto(all, all + (w * StateSize), StateSize);
                    }
                }

                Parallel.For(0, workers, new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = workers }, _ =>
                {
                    using var scratch = new Scratch(this);
                    fixed (float* state = states)
                    {
                        for (var chunk = Interlocked.Increment(ref next); chunk < chunks && Volatile.Read(ref failure) is null; chunk = Interlocked.Increment(ref next))
                        {
                            cancellation.ThrowIfCancellationRequested();
                            Answer(chunk * Chunk, state, scratch, causal: false);
                        }
                    }
                });
            }
            finally
            {
                ArrayPool<float>.Shared.Return(states);
            }

            if (failure is not null)
            {
                throw failure;
            }
        }

        public void RunCausal(CancellationToken cancellation)
        {
            var parts = Math.Min(threads, chunks);
            var states = ArrayPool<float>.Shared.Rent(parts * StateSize);
            try
            {
                Array.Clear(states, 0, parts * StateSize);
                int FirstChunk(int part) => (int)((long)part * chunks / parts);

                // Pass 1: the sums of every part but the last; then each part's start is the sum of the parts before it.
                Parallel.For(0, parts - 1, new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = parts }, part =>
                {
                    using var scratch = new Scratch(this);
                    fixed (float* state = &states[(part + 1) * StateSize])
                    {
                        for (var chunk = FirstChunk(part); chunk < FirstChunk(part + 1); chunk++)
                        {
                            cancellation.ThrowIfCancellationRequested();
                            AddKeys(chunk * Chunk, state, scratch);
                        }
                    }
                });

                fixed (float* all = states)
                {
                    for (var part = 2; part < parts; part++)
                    {
                        AddInto(all + (part * StateSize), all + ((part - 1) * StateSize), StateSize);
                    }
                }

                // Pass 2: each part from its starting state, block by block.
                Parallel.For(0, parts, new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = parts }, part =>
                {
                    using var scratch = new Scratch(this);
                    fixed (float* state = &states[part * StateSize])
                    {
                        for (var chunk = FirstChunk(part); chunk < FirstChunk(part + 1) && Volatile.Read(ref failure) is null; chunk++)
                        {
                            cancellation.ThrowIfCancellationRequested();
                            Answer(chunk * Chunk, state, scratch, causal: true);
                            AddKeys(chunk * Chunk, state, scratch, featuresReady: true);
                        }
                    }
                });
            }
            finally
            {
                ArrayPool<float>.Shared.Return(states);
            }

            if (failure is not null)
            {
                throw failure;
            }
        }

        /// <summary>S += phi(K_b)^T V_b and z += sum of phi(k_j) over keys first .. first + Chunk - 1.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void AddKeys(int first, float* state, Scratch scratch, bool featuresReady = false)
        {
            var count = Math.Min(Chunk, n - first);
            if (!featuresReady)
            {
                KeyFeatures(first, count, scratch);
            }

            AddInto(state + (paddedDepth * paddedValueDepth), scratch.KeySums, depth);
            Microkernels.Product(scratch.KeysT, Chunk, ValueRows(first, count, scratch), paddedValueDepth, count, state, paddedValueDepth, paddedDepth, paddedValueDepth, accumulate: true);
        }

        /// <summary>phi(K_b) transposed into scratch [paddedDepth x Chunk]; columns past the block's keys and rows past d are 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void KeyFeatures(int first, int count, Scratch scratch)
        {
            var row = scratch.Row;
            new Span<float>(scratch.KeysT, paddedDepth * Chunk).Clear();
            new Span<float>(scratch.KeySums, depth).Clear();
            for (var j = 0; j < count; j++)
            {
                Features(keys + ((long)(first + j) * depth), depth, row);
                AddInto(scratch.KeySums, row, depth);
                for (var t = 0; t < depth; t++)
                {
                    scratch.KeysT[(t * Chunk) + j] = row[t];
                }
            }
        }

        /// <summary>V_b with rows of paddedValueDepth floats: in place when d_v is a multiple of 16, else copied.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private float* ValueRows(int first, int count, Scratch scratch)
        {
            if (valueDepth == paddedValueDepth)
            {
                return values + ((long)first * valueDepth);
            }

            for (var j = 0; j < count; j++)
            {
                var target = new Span<float>(scratch.Values + (j * paddedValueDepth), paddedValueDepth);
                new ReadOnlySpan<float>(values + ((long)(first + j) * valueDepth), valueDepth).CopyTo(target);
                target[valueDepth..].Clear();
            }

            return scratch.Values;
        }

        /// <summary>
        /// Output rows first .. first + Chunk - 1: phi(q_i)^T S / phi(q_i)^T z, and with <paramref name="causal"/> the
        /// block's own keys j &lt;= i added (S and z then hold the keys before the block only).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Answer(int first, float* state, Scratch scratch, bool causal)
        {
            var count = Math.Min(Chunk, n - first);
            var tileRows = (int)FastAttention.RoundUp(count, Microkernels.Rows);
            var phiQ = scratch.Queries;   // [Chunk x paddedDepth]
            new Span<float>(phiQ, Chunk * paddedDepth).Clear();
            for (var r = 0; r < count; r++)
            {
                Features(queries + ((long)(first + r) * depth), depth, phiQ + (r * paddedDepth));
            }

            var outputRows = scratch.Output;
            var sums = state + (paddedDepth * paddedValueDepth);
            new Span<float>(outputRows, tileRows * paddedValueDepth).Clear();
            Microkernels.Product(phiQ, paddedDepth, state, paddedValueDepth, paddedDepth, outputRows, paddedValueDepth, tileRows, paddedValueDepth, accumulate: true);
            for (var r = 0; r < count; r++)
            {
                scratch.Denominators[r] = Dot(phiQ + (r * paddedDepth), sums, depth);
            }

            if (causal)
            {
                // The block's own keys: similarities phi(q_i) . phi(k_j) [Chunk x Chunk], upper triangle (j > i) dropped.
                // Each 6-row register tile computes and sums only the keys up to its last row (the triangle, in whole
                // 16-column tiles), about 0.6 of the square.
                KeyFeatures(first, count, scratch);
                var similarity = scratch.Similarities;
                var values = ValueRows(first, count, scratch);
                for (var r0 = 0; r0 < tileRows; r0 += Microkernels.Rows)
                {
                    var seen = Math.Min(r0 + Microkernels.Rows, count);   // keys any row of this tile may see
                    Microkernels.Product(phiQ + (r0 * paddedDepth), paddedDepth, scratch.KeysT, Chunk, paddedDepth, similarity + (r0 * Chunk), Chunk, Microkernels.Rows, (int)FastAttention.RoundUp(seen, Microkernels.Columns), accumulate: false);
                    for (var r = r0; r < r0 + Microkernels.Rows; r++)
                    {
                        var row = similarity + (r * Chunk);
                        new Span<float>(row + r + 1, Chunk - r - 1).Clear();
                        for (var j = 0; j <= r && j < count; j++)
                        {
                            scratch.Denominators[r] += row[j];
                        }
                    }

                    Microkernels.Product(similarity + (r0 * Chunk), Chunk, values, paddedValueDepth, seen, outputRows + (r0 * paddedValueDepth), paddedValueDepth, Microkernels.Rows, paddedValueDepth, accumulate: true);
                }
            }

            for (var r = 0; r < count; r++)
            {
                var query = first + r;
                var denominator = scratch.Denominators[r];
                var row = outputRows + (r * paddedValueDepth);
                if (!float.IsFinite(denominator) || denominator <= 0)
                {
                    Fail($"query {query}: the denominator phi(q_i) . sum_j phi(k_j) came out {denominator} in fp32 (every feature e^x underflows below x = -87.3, and sums overflow beyond ±3.4e38). " +
                        "Scale Q and K toward 1, or use the fp64 LinearAttention.Compute, which keeps the features as logarithms.");
                    return;
                }

                VectorRows.Scale(row, paddedValueDepth, 1f / denominator);
                if (!AllFinite(row, valueDepth))
                {
                    var bad = VectorRows.FirstNonFinite(row, valueDepth);
                    Fail($"output row {query}, column {bad} came out {Check.Name(row[bad])}: the sum of phi(k_j) v_j overflowed fp32 (±3.4e38), although V is finite. Scale V down, or use the fp64 LinearAttention.Compute.");
                    return;
                }

                new ReadOnlySpan<float>(row, valueDepth).CopyTo(new Span<float>(output + ((long)query * valueDepth), valueDepth));
            }
        }

        private void Fail(string message) => Interlocked.CompareExchange(ref failure, new ArgumentException(message), null);

        /// <summary>One worker's tiles, rented once per call and pinned while it works.</summary>
        private sealed class Scratch : IDisposable
        {
            private readonly float[] buffer;
            private GCHandle handle;

            public Scratch(Problem problem)
            {
                var sizes = new[] { problem.paddedDepth * Chunk, Chunk * problem.paddedValueDepth, Chunk * problem.paddedDepth, Chunk * problem.paddedValueDepth, Chunk * Chunk, Chunk, problem.paddedDepth, problem.paddedDepth };
                buffer = ArrayPool<float>.Shared.Rent(sizes.Sum());
                handle = GCHandle.Alloc(buffer, GCHandleType.Pinned);
                var at = (float*)handle.AddrOfPinnedObject();
                KeysT = at;
                Values = at += sizes[0];
                Queries = at += sizes[1];
                Output = at += sizes[2];
                Similarities = at += sizes[3];
                Denominators = at += sizes[4];
                Row = at += sizes[5];
                KeySums = at + sizes[6];
            }

            public float* KeysT { get; }

            public float* Values { get; }

            public float* Queries { get; }

            public float* Output { get; }

            public float* Similarities { get; }

            public float* Denominators { get; }

            public float* Row { get; }

            public float* KeySums { get; }

            public void Dispose()
            {
                handle.Free();
                ArrayPool<float>.Shared.Return(buffer);
            }
        }
    }
}
