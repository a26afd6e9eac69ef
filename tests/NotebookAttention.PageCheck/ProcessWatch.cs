using System.Diagnostics;
using System.Net;

namespace NotebookAttention.PageCheck;

/// <summary>A process seen in a watched tree.</summary>
/// <param name="Pid">Its id.</param>
/// <param name="Command">Its command line.</param>
public sealed record WatchedProcess(int Pid, string Command)
{
    /// <inheritdoc />
    public override string ToString() => $"pid {Pid} ({Command})";
}

/// <summary>
/// Watches a process tree (the notebook server and the kernels it starts): every process seen in it, and every TCP
/// socket they listen on, sampled from Linux's /proc while the notebooks run. At the end it can end the processes
/// that outlived their server, by id, and only those it saw (a process id reused by another program since is left
/// alone: its start time differs).
/// </summary>
/// <param name="root">The server's process id.</param>
public sealed class ProcessWatch(int root)
{
    private readonly Lock gate = new();
    private readonly Dictionary<int, (long Start, string Command)> seen = [];
    private readonly HashSet<ListeningSocket> listening = [];

    /// <summary>The server's process id, the root of the watched tree.</summary>
    public int Root => root;

    /// <summary>How many times the tree was sampled.</summary>
    public int Samples { get; private set; }

    /// <summary>Every listening socket seen in the tree, each once.</summary>
    public IReadOnlyList<ListeningSocket> Listening
    {
        get
        {
            lock (gate)
            {
                return [.. listening.OrderBy(s => s.Pid).ThenBy(s => s.Port)];
            }
        }
    }

    /// <summary>
    /// The loopback rule: what is wrong with the sockets a server and its kernels listened on. Every socket must be
    /// on 127.0.0.1 (IPv4, or IPv4 mapped into IPv6), the address the server, its kernels' Jupyter sockets and the
    /// kernel's HTTP server are each told to use: anything else, ::1 included, means a component ignored its setting.
    /// The server must have been seen on its own port and at least one kernel socket must have been seen, or the
    /// watch proved nothing.
    /// </summary>
    /// <param name="sockets">The sockets seen.</param>
    /// <param name="serverPid">The server's process id.</param>
    /// <param name="serverPort">The port the server was told to use.</param>
    /// <returns>One line per problem; empty when the rule holds.</returns>
    public static IReadOnlyList<string> Problems(IReadOnlyCollection<ListeningSocket> sockets, int serverPid, int serverPort)
    {
        ArgumentNullException.ThrowIfNull(sockets);
        var problems = new List<string>();
        var elsewhere = sockets.Where(s => !IPAddress.Loopback.Equals(s.Address.IsIPv4MappedToIPv6 ? s.Address.MapToIPv4() : s.Address)).ToList();
        if (elsewhere.Count > 0)
        {
            var exposed = elsewhere.Where(s => !s.IsLoopback).ToList();
            problems.Add($"listening on other addresses than 127.0.0.1: {string.Join(", ", elsewhere)}"
                + (exposed.Count > 0 ? $"; reachable from other machines: {string.Join(", ", exposed)}" : string.Empty));
        }

        if (!sockets.Any(s => s.Pid == serverPid && s.Port == serverPort))
        {
            problems.Add($"the server was never seen listening on port {serverPort}: the socket watch did not see the server's sockets, so it proves nothing");
        }

        if (!sockets.Any(s => s.Pid != serverPid))
        {
            problems.Add("no kernel socket was seen while the notebooks ran: the socket watch did not see the kernels, so it proves nothing");
        }

        return problems;
    }

    /// <summary>Reads the tree once: its processes and their listening sockets.</summary>
    public void Sample()
    {
        var tree = ListeningSockets.Tree(root);
        var sockets = ListeningSockets.HeldBy(tree);
        lock (gate)
        {
            foreach (var pid in tree)
            {
                if (!seen.ContainsKey(pid) && StartTime(pid) is long start)
                {
                    seen[pid] = (start, ListeningSockets.CommandLine(pid));
                }
            }

            listening.UnionWith(sockets);
            Samples++;
        }
    }

    /// <summary>Samples every <paramref name="interval"/> until cancelled.</summary>
    /// <param name="interval">Time between samples.</param>
    /// <param name="cancel">Stops the watch.</param>
    /// <returns>A task that ends when cancelled.</returns>
    public async Task WatchAsync(TimeSpan interval, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            Sample();
            try
            {
                await Task.Delay(interval, cancel);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Processes seen in the tree that are still alive (same id, same start time).</summary>
    /// <returns>The processes.</returns>
    public IReadOnlyList<WatchedProcess> Alive()
    {
        lock (gate)
        {
            return [.. seen.Where(p => StartTime(p.Key) == p.Value.Start).Select(p => new WatchedProcess(p.Key, p.Value.Command))];
        }
    }

    /// <summary>Kills every process seen in the tree that is still alive, one by one by id.</summary>
    /// <returns>The processes it had to kill.</returns>
    public IReadOnlyList<WatchedProcess> EndSurvivors()
    {
        var survivors = Alive();
        foreach (var survivor in survivors)
        {
            try
            {
                using var process = Process.GetProcessById(survivor.Pid);
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(5));
            }
            catch (Exception error) when (error is ArgumentException or InvalidOperationException)
            {
                // It ended on its own meanwhile.
            }
        }

        return survivors;
    }

    /// <summary>When a process started, in clock ticks after boot; null when it has gone.</summary>
    private static long? StartTime(int pid) => ListeningSockets.StatField(pid, field: 22);
}
