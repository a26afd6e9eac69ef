using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace NotebookAttention.PageCheck;

/// <summary>A TCP socket in the LISTEN state.</summary>
/// <param name="Address">The local address it accepts connections on.</param>
/// <param name="Port">The local port.</param>
/// <param name="Pid">The process that holds it.</param>
public sealed record ListeningSocket(IPAddress Address, int Port, int Pid)
{
    /// <summary>True when only this machine can connect (127.0.0.0/8, ::1, or IPv4-mapped loopback).</summary>
    public bool IsLoopback => IPAddress.IsLoopback(Address.IsIPv4MappedToIPv6 ? Address.MapToIPv4() : Address);

    /// <summary>Address and port as a URL writes them: <c>127.0.0.1:2048</c>, <c>[::1]:2048</c>.</summary>
    public string Endpoint => $"{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address)}:{Port}";

    /// <inheritdoc />
    public override string ToString() => $"{Endpoint} (pid {Pid})";
}

/// <summary>
/// What a process tree listens on, read from Linux's /proc: the tree from each process's parent id, its sockets from
/// /proc/PID/fd, and their addresses from /proc/net/tcp and /proc/net/tcp6, matched by socket inode.
/// </summary>
public static class ListeningSockets
{
    private const string ListenState = "0A";

    private static readonly string[] Tables = ["/proc/net/tcp", "/proc/net/tcp6"];

    /// <summary>A process and all its descendants that are alive now.</summary>
    /// <param name="root">The root process id.</param>
    /// <returns>Their ids, the root included while it lives.</returns>
    public static IReadOnlySet<int> Tree(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var pid in AllProcesses())
        {
            if (ParentOf(pid) is int parent)
            {
                if (!children.TryGetValue(parent, out var list))
                {
                    children[parent] = list = [];
                }

                list.Add(pid);
            }
        }

        var tree = new HashSet<int>();
        var pending = new Stack<int>([root]);
        while (pending.Count > 0)
        {
            var pid = pending.Pop();
            if (tree.Add(pid) && children.TryGetValue(pid, out var list))
            {
                list.ForEach(pending.Push);
            }
        }

        tree.RemoveWhere(pid => !Directory.Exists($"/proc/{pid}"));
        return tree;
    }

    /// <summary>The command line of a process, its arguments joined by spaces; empty when it has gone.</summary>
    /// <param name="pid">Process id.</param>
    /// <returns>The command line.</returns>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>The TCP sockets in the LISTEN state held by any of these processes.</summary>
    /// <param name="pids">Process ids.</param>
    /// <returns>Each listening socket once per process that holds it.</returns>
    public static IReadOnlyList<ListeningSocket> HeldBy(IEnumerable<int> pids)
    {
        var owners = new Dictionary<long, int>();
        foreach (var pid in pids)
        {
            foreach (var inode in SocketInodes(pid))
            {
                owners.TryAdd(inode, pid);
            }
        }

        return [.. Tables.SelectMany(table => InTable(File.ReadLines(table), owners))];
    }

    /// <summary>
    /// The LISTEN rows of a /proc/net/tcp or /proc/net/tcp6 table whose socket inode one of the processes holds.
    /// </summary>
    /// <param name="lines">The table's lines, its heading line first.</param>
    /// <param name="owners">Socket inode to the id of a process that holds it.</param>
    /// <returns>One socket per matching row.</returns>
    public static IEnumerable<ListeningSocket> InTable(IEnumerable<string> lines, IReadOnlyDictionary<long, int> owners)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(owners);
        foreach (var line in lines.Skip(1))
        {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 9 && fields[3] == ListenState && owners.TryGetValue(long.Parse(fields[9], CultureInfo.InvariantCulture), out var owner))
            {
                var (address, port) = ParseEndpoint(fields[1]);
                yield return new ListeningSocket(address, port, owner);
            }
        }
    }

    /// <summary>
    /// Reads a /proc/net/tcp(6) endpoint such as <c>0100007F:0800</c> (127.0.0.1:2048): the address is printed as
    /// 32-bit words in the machine's byte order (little-endian on every platform .NET runs Linux on), the port in hex.
    /// </summary>
    /// <param name="endpoint">The hex endpoint.</param>
    /// <returns>Address and port.</returns>
    public static (IPAddress Address, int Port) ParseEndpoint(string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var parts = endpoint.Split(':');
        var hex = parts[0];
        var bytes = new byte[hex.Length / 2];
        for (var word = 0; word < hex.Length / 8; word++)
        {
            var value = uint.Parse(hex.AsSpan(word * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(word * 4, 4), value);
        }

        return (new IPAddress(bytes), int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
    }

    private static IEnumerable<int> AllProcesses() =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => name is { Length: > 0 } && name.All(char.IsAsciiDigit))
            .Select(name => int.Parse(name!, CultureInfo.InvariantCulture));

    /// <summary>
    /// A field of /proc/PID/stat, numbered as proc(5) numbers them from 3 (state) on: 4 is the parent's id, 22 the
    /// start time in clock ticks after boot. Null when the process has gone.
    /// </summary>
    /// <param name="pid">Process id.</param>
    /// <param name="field">The field's number in proc(5), 3 or more.</param>
    /// <returns>The field's value.</returns>
    internal static long? StatField(int pid, int field)
    {
        try
        {
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count fields after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[field - 3], CultureInfo.InvariantCulture);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static int? ParentOf(int pid) => (int?)StatField(pid, field: 4);

    private static List<long> SocketInodes(int pid)
    {
        var inodes = new List<long>();
        try
        {
            foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
            {
                string? target;
                try
                {
                    target = new FileInfo(fd).LinkTarget;
                }
                catch (Exception error) when (error is IOException or UnauthorizedAccessException)
                {
                    continue;
                }

                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(long.Parse(target["socket:[".Length..^1], CultureInfo.InvariantCulture));
                }
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // The process ended while we looked: it holds nothing any more.
        }

        return inodes;
    }
}
