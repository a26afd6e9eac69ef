using System.Numerics;
using System.Runtime.CompilerServices;
using NotebookAttention.Cost;
using NotebookAttention.Fast;

namespace NotebookAttention.Recurrence;

/// <summary>
/// Wall-clock time of a forward pass against n on a given number of cores, for a recurrent layer and for
/// self-attention. A recurrent layer must take its n steps one after another, so extra cores can only share the
/// small work inside a step; attention computes all positions at once and spreads query blocks over the cores,
/// but does n^2 work. Where the curves cross is measured, not assumed.
/// </summary>
public static class Parallelism
{
    /// <summary>Times an fp32 Elman layer (hidden = input = <paramref name="width"/>) over n steps.</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="threads">Cores sharing each step's matrix-vector products.</param>
    /// <param name="width">Hidden and input size.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    public static IReadOnlyList<CostPoint> Recurrent(IEnumerable<int> lengths, int threads, int width = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null)
    {
        Check.AtLeast(threads, 1, "threads", nameof(threads));
        return Measurement.Curve(lengths, n =>
        {
            var random = new Random(n);
            float[] w = Fill(random, width * width, 0.1f), u = Fill(random, width * width, 0.1f), x = Fill(random, n * width, 1f);
            var state = new float[width];
            var next = new float[width];
            return () => RunRecurrent(w, u, x, state, next, n, width, threads);
        }, repeats: 3, maxSecondsPerRun, progress);
    }

    /// <summary>Times tiled self-attention (one head, d = <paramref name="width"/>) on the given cores.</summary>
    /// <param name="lengths">The n values.</param>
    /// <param name="threads">Cores.</param>
    /// <param name="width">Head dimension.</param>
    /// <param name="maxSecondsPerRun">Stop the sweep after a run this long.</param>
    /// <param name="progress">One line per n.</param>
    public static IReadOnlyList<CostPoint> Attention(IEnumerable<int> lengths, int threads, int width = 64, double maxSecondsPerRun = 2, IProgress<string>? progress = null)
    {
        Check.AtLeast(threads, 1, "threads", nameof(threads));
        return Measurement.Curve(lengths, n =>
        {
            var random = new Random(n);
            float[] q = Fill(random, n * width, 1f), k = Fill(random, n * width, 1f), v = Fill(random, n * width, 1f), o = new float[n * width];
            return () => FastAttention.Tiled(q, k, v, o, n, n, width, width, threads: threads);
        }, repeats: 3, maxSecondsPerRun, progress);
    }

    /// <summary>
    /// How many measured lengths must show a crossing before it counts: the crossing length and at least one longer
    /// one, so that one noisy point cannot make a crossing.
    /// </summary>
    public const int LengthsToConfirm = 2;

    /// <summary>
    /// FLOPs of the Elman layer over n steps: each step multiplies the state and the input by a
    /// [<paramref name="width"/> x <paramref name="width"/>] matrix (2 d^2 FLOPs each, multiply and add counted
    /// separately), so 4 n d^2 (tanh and the sums of the two products not counted). Compare
    /// <see cref="AttentionCost.Flops"/>, 4 n^2 d: attention does n/d times the arithmetic.
    /// </summary>
    /// <param name="n">Steps (sequence length).</param>
    /// <param name="width">Hidden and input size d.</param>
    /// <returns>FLOPs.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public static double RecurrentFlops(long n, int width)
    {
        Check.AtLeast(n, 1, "sequence length n", nameof(n));
        Check.AtLeast(width, 1, "width d", nameof(width));
        return 4.0 * n * width * width;
    }

    /// <summary>
    /// The length from which the second curve is slower than the first at every longer length both measured, or null
    /// when there is none. A length counts only if at least <see cref="LengthsToConfirm"/> lengths show it (it and
    /// the longer ones): a point where the second curve is slower but a longer length contradicts it is noise,
    /// not a crossing, and a crossing seen only at the longest length is not yet confirmed.
    /// </summary>
    /// <param name="faster">The curve compared against (e.g. the recurrent layer).</param>
    /// <param name="slower">The curve that may become slower (e.g. attention).</param>
    /// <returns>The first common n of the longest run of common lengths, up to the longest, where <paramref name="slower"/> takes longer.</returns>
    public static int? Crossover(IReadOnlyList<CostPoint> faster, IReadOnlyList<CostPoint> slower)
    {
        ArgumentNullException.ThrowIfNull(faster);
        ArgumentNullException.ThrowIfNull(slower);
        var common = slower
            .Select(s => (s.N, Slower: faster.FirstOrDefault(f => f.N == s.N) is { } match ? s.Seconds > match.Seconds : (bool?)null))
            .Where(p => p.Slower is not null)
            .OrderBy(p => p.N)
            .ToList();
        var from = common.Count;
        while (from > 0 && common[from - 1].Slower == true)
        {
            from--;
        }

        return common.Count - from >= LengthsToConfirm ? common[from].N : null;
    }

    // The recurrent loop and its dot product are compiled fully optimized from the first call, as attention's kernels
    // are. Otherwise the short runs would time the JIT's quick first compilation instead of the recurrence (a library
    // dot product stays unoptimized for its first calls: 30 us per step at n = 64 against 2.8 at n = 8,192).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRecurrent(float[] w, float[] u, float[] x, float[] state, float[] next, int n, int width, int threads)
    {
        Array.Clear(state);
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        for (var t = 0; t < n; t++)
        {
            var input = x.AsSpan(t * width, width);
            if (threads == 1)
            {
                Step(w, u, state, input, next, 0, width, width);
            }
            else
            {
                var inputCopy = input.ToArray();
                var chunk = (width + threads - 1) / threads;
                Parallel.For(0, threads, options, part => Step(w, u, state, inputCopy, next, part * chunk, Math.Min(width, (part + 1) * chunk), width));
            }

            (state, next) = (next, state);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Step(float[] w, float[] u, float[] state, ReadOnlySpan<float> input, float[] next, int from, int to, int width)
    {
        for (var row = from; row < to; row++)
        {
            next[row] = MathF.Tanh(Dot(w.AsSpan(row * width, width), state) + Dot(u.AsSpan(row * width, width), input));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sums = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            sums += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        }

        var sum = Vector.Sum(sums);
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static float[] Fill(Random random, int count, float scale) => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1) * scale)];
}
