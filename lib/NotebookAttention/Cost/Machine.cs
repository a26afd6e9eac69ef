using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NotebookAttention.Cost;

/// <summary>One level of the CPU cache.</summary>
/// <param name="Name">E.g. "L2".</param>
/// <param name="Bytes">Size of one instance.</param>
public sealed record CacheLevel(string Name, long Bytes);

/// <summary>What this machine can do: its FMA ceiling, measured, and its caches, read from the system.</summary>
public static class Machine
{
    /// <summary>
    /// Measures the machine's fp32 FMA ceiling: every core runs a loop of fused multiply-adds on 12 independent
    /// 8-float registers (no memory traffic). Each FMA counts as 16 FLOPs. The time is split into five rounds and
    /// the best round counts, since a ceiling is what the machine can reach, and other programs only lower it.
    /// </summary>
    /// <param name="duration">Total measuring time (at least 250 ms).</param>
    /// <param name="threads">Cores to use; null for all.</param>
    /// <returns>GFLOP/s of all cores together.</returns>
    public static double MeasureFmaCeiling(TimeSpan duration, int? threads = null)
    {
        var round = TimeSpan.FromTicks(Math.Max(duration.Ticks, TimeSpan.FromMilliseconds(250).Ticks) / 5);
        return Enumerable.Range(0, 5).Max(_ => MeasureRound(round, threads, wide: false));
    }

    /// <summary>
    /// The same ceiling with 16-float AVX-512 registers (each FMA 32 FLOPs), or null where AVX-512 is missing. The
    /// fast encoder's packed products use these; the attention kernels use 8-float ones.
    /// </summary>
    /// <param name="duration">Total measuring time (at least 250 ms).</param>
    /// <param name="threads">Cores to use; null for all.</param>
    /// <returns>GFLOP/s of all cores together, or null.</returns>
    public static double? MeasureWideFmaCeiling(TimeSpan duration, int? threads = null)
    {
        if (!Avx512F.IsSupported)
        {
            return null;
        }

        var round = TimeSpan.FromTicks(Math.Max(duration.Ticks, TimeSpan.FromMilliseconds(250).Ticks) / 5);
        return Enumerable.Range(0, 5).Max(_ => MeasureRound(round, threads, wide: true));
    }

    private static double MeasureRound(TimeSpan duration, int? threads, bool wide)
    {
        var workers = threads ?? Environment.ProcessorCount;
        Check.AtLeast(workers, 1, "threads", nameof(threads));
        var seconds = Math.Max(duration.TotalSeconds, 0.05);
        var flops = new double[workers];
        var elapsed = new double[workers];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            Func<long, float> loop = wide ? WideFmaLoop : FmaLoop;
            loop(1_000_000);
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            long rounds = 0;
            while (stopwatch.Elapsed.TotalSeconds < seconds)
            {
                loop(1_000_000);
                rounds++;
            }

            elapsed[worker] = stopwatch.Elapsed.TotalSeconds;
            flops[worker] = rounds * 1_000_000.0 * 12 * (wide ? 32 : 16);
        });
        return Enumerable.Range(0, workers).Sum(w => flops[w] / elapsed[w]) / 1e9;
    }

    /// <summary>The data caches in one line ("L1 48 KiB, L2 1024 KiB, L3 32768 KiB"), or a line saying the system does not list them.</summary>
    public static string CacheSummary()
    {
        var caches = Caches();
        return caches.Count == 0
            ? "unknown (this system does not list its caches in /sys/devices/system/cpu/cpu0/cache)"
            : string.Join(", ", caches.Select(c => FormattableString.Invariant($"{c.Name} {c.Bytes / 1024} KiB")));
    }

    /// <summary>The data caches, from /sys on Linux; empty where the system does not say.</summary>
    /// <returns>L1d, L2 and L3 as found.</returns>
    public static IReadOnlyList<CacheLevel> Caches()
    {
        const string root = "/sys/devices/system/cpu/cpu0/cache";
        if (!Directory.Exists(root))
        {
            return [];
        }

        var levels = new List<CacheLevel>();
        foreach (var index in Directory.GetDirectories(root, "index*").Order(StringComparer.Ordinal))
        {
            var type = Read(index, "type");
            if (type is not ("Data" or "Unified"))
            {
                continue;
            }

            var size = Read(index, "size");
            if (size is null || !long.TryParse(size.TrimEnd('K', 'M'), NumberStyles.Integer, CultureInfo.InvariantCulture, out var amount))
            {
                continue;
            }

            var bytes = amount * (size.EndsWith('M') ? 1L << 20 : size.EndsWith('K') ? 1L << 10 : 1);
            levels.Add(new CacheLevel($"L{Read(index, "level")}", bytes));
        }

        return levels;
    }

    private static string? Read(string folder, string file)
    {
        var path = Path.Combine(folder, file);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static float FmaLoop(long iterations)
    {
        if (!Fma.IsSupported)
        {
            var s = 0f;
            for (long i = 0; i < iterations * 96; i++)
            {
                s = MathF.FusedMultiplyAdd(s, 0.999f, 1e-3f);
            }

            return s;
        }

        var m = Vector256.Create(0.999f);
        var a = Vector256.Create(1e-3f);
        Vector256<float> x0 = m, x1 = m, x2 = m, x3 = m, x4 = m, x5 = m, x6 = m, x7 = m, x8 = m, x9 = m, x10 = m, x11 = m;
        for (long i = 0; i < iterations; i++)
        {
            x0 = Fma.MultiplyAdd(x0, m, a);
            x1 = Fma.MultiplyAdd(x1, m, a);
            x2 = Fma.MultiplyAdd(x2, m, a);
            x3 = Fma.MultiplyAdd(x3, m, a);
            x4 = Fma.MultiplyAdd(x4, m, a);
            x5 = Fma.MultiplyAdd(x5, m, a);
            x6 = Fma.MultiplyAdd(x6, m, a);
            x7 = Fma.MultiplyAdd(x7, m, a);
            x8 = Fma.MultiplyAdd(x8, m, a);
            x9 = Fma.MultiplyAdd(x9, m, a);
            x10 = Fma.MultiplyAdd(x10, m, a);
            x11 = Fma.MultiplyAdd(x11, m, a);
        }

        return Vector256.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static float WideFmaLoop(long iterations)
    {
        var m = Vector512.Create(0.999f);
        var a = Vector512.Create(1e-3f);
        Vector512<float> x0 = m, x1 = m, x2 = m, x3 = m, x4 = m, x5 = m, x6 = m, x7 = m, x8 = m, x9 = m, x10 = m, x11 = m;
        for (long i = 0; i < iterations; i++)
        {
            x0 = Avx512F.FusedMultiplyAdd(x0, m, a);
            x1 = Avx512F.FusedMultiplyAdd(x1, m, a);
            x2 = Avx512F.FusedMultiplyAdd(x2, m, a);
            x3 = Avx512F.FusedMultiplyAdd(x3, m, a);
            x4 = Avx512F.FusedMultiplyAdd(x4, m, a);
            x5 = Avx512F.FusedMultiplyAdd(x5, m, a);
            x6 = Avx512F.FusedMultiplyAdd(x6, m, a);
            x7 = Avx512F.FusedMultiplyAdd(x7, m, a);
            x8 = Avx512F.FusedMultiplyAdd(x8, m, a);
            x9 = Avx512F.FusedMultiplyAdd(x9, m, a);
            x10 = Avx512F.FusedMultiplyAdd(x10, m, a);
            x11 = Avx512F.FusedMultiplyAdd(x11, m, a);
        }

        return Vector512.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }
}
