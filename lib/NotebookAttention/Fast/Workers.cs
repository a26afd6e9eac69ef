using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace NotebookAttention.Fast;

/// <summary>
/// A few long-lived worker threads for short parallel steps (a matrix product of a fraction of a millisecond).
/// </summary>
/// <remarks>
/// <c>Parallel.For</c> hands work to the thread pool, whose idle threads can take longer to wake than such a step
/// lasts, so the caller often ends up doing every part itself. These workers spin briefly after each step, when the
/// next one usually follows, and then sleep on an event. A call made while another is running (from a second thread,
/// or from inside a step) runs its parts one after another on the calling thread, so nothing ever waits on itself.
/// </remarks>
internal static class Workers
{
    private static readonly Lock Gate = new();
    private static readonly ManualResetEventSlim Wake = new(false);
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000; // 100 microseconds
    private static Thread[]? threads;
    private static Action<int>? job;
    private static int jobParts;
    private static long generation;
    private static int pending;
    private static ExceptionDispatchInfo? failure;

    [ThreadStatic]
    private static bool inside;

    /// <summary>Runs <paramref name="body"/>(0) ... <paramref name="body"/>(parts - 1), in parallel where cores allow.</summary>
    /// <param name="parts">Number of parts; at most the number of cores run at once.</param>
    /// <param name="body">The work of one part.</param>
    /// <param name="maxCores">At most this many cores (null for all), so a caller can be timed on fewer.</param>
    public static void Run(int parts, Action<int> body, int? maxCores = null)
    {
        var cores = Math.Min(parts, Math.Min(maxCores ?? Environment.ProcessorCount, Environment.ProcessorCount));
        if (cores <= 1 || inside || !Gate.TryEnter())
        {
            for (var part = 0; part < parts; part++)
            {
                body(part);
            }

            return;
        }

        try
        {
            EnsureThreads(Environment.ProcessorCount - 1);
            failure = null;
            job = part => { for (var p = part; p < parts; p += cores) { body(p); } };
            jobParts = cores;
            Volatile.Write(ref pending, cores - 1);
            Interlocked.Increment(ref generation);
            Wake.Set();
            Execute(0);
            var spin = default(SpinWait);
            while (Volatile.Read(ref pending) > 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }

            Wake.Reset();
            job = null;
        }
        finally
        {
            Gate.Exit();
        }

        failure?.Throw();
    }

    private static void Execute(int part)
    {
        inside = true;
        try
        {
            job!(part);
        }
        catch (Exception error)
        {
            Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(error), null);
        }
        finally
        {
            inside = false;
        }
    }

    private static void EnsureThreads(int count)
    {
        if (threads is not null)
        {
            return;
        }

        threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            var index = i + 1;
            threads[i] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"NotebookAttention worker {index}" };
            threads[i].Start();
        }
    }

    private static void Loop(int index)
    {
        long seen = 0;
        while (true)
        {
            var started = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref generation) == seen)
            {
                if (Stopwatch.GetTimestamp() - started < SpinTicks)
                {
                    Thread.SpinWait(20);
                }
                else
                {
                    Wake.Wait();
                }
            }

            seen = Volatile.Read(ref generation);
            if (index < jobParts)
            {
                Execute(index);
                Interlocked.Decrement(ref pending);
            }
        }
    }
}
