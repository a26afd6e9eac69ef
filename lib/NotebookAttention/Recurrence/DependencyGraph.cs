namespace NotebookAttention.Recurrence;

/// <summary>The kinds of layer whose dependency graphs the series compares (Table 1 of Vaswani et al., 2017).</summary>
public enum LayerKind
{
    /// <summary>A recurrent layer: state i reads the input at i and the state at i - 1.</summary>
    Recurrent,

    /// <summary>A causal convolution with kernel k: state i reads inputs i - k + 1 .. i.</summary>
    Convolution,

    /// <summary>A causal dilated convolution: layer l reads inputs i - m k^(l-1) for m = 0 .. k - 1 (WaveNet).</summary>
    DilatedConvolution,

    /// <summary>Self-attention: every state reads every input.</summary>
    SelfAttention,

    /// <summary>Self-attention restricted to a window: state i reads inputs within r positions.</summary>
    RestrictedSelfAttention,
}

/// <summary>A layer kind with its size parameter.</summary>
/// <param name="Kind">The kind of layer.</param>
/// <param name="Size">Kernel k for convolutions, window r for restricted attention; ignored otherwise.</param>
public sealed record Architecture(LayerKind Kind, int Size = 0)
{
    /// <summary>A recurrent layer.</summary>
    public static Architecture Recurrent { get; } = new(LayerKind.Recurrent);

    /// <summary>Full self-attention.</summary>
    public static Architecture SelfAttention { get; } = new(LayerKind.SelfAttention);

    /// <summary>A causal convolution with kernel <paramref name="kernel"/> (at least 2).</summary>
    /// <param name="kernel">Kernel size k.</param>
    public static Architecture Convolution(int kernel) => Sized(LayerKind.Convolution, kernel, 2, "kernel");

    /// <summary>A causal dilated convolution with kernel <paramref name="kernel"/> (at least 2).</summary>
    /// <param name="kernel">Kernel size k (dilation k^(l-1) at layer l).</param>
    public static Architecture DilatedConvolution(int kernel) => Sized(LayerKind.DilatedConvolution, kernel, 2, "kernel");

    /// <summary>Self-attention restricted to a window of <paramref name="window"/> positions on each side (at least 1).</summary>
    /// <param name="window">Window r.</param>
    public static Architecture Restricted(int window) => Sized(LayerKind.RestrictedSelfAttention, window, 1, "window");

    /// <summary>A short name for legends.</summary>
    public string Name => Kind switch
    {
        LayerKind.Recurrent => "recurrent",
        LayerKind.Convolution => $"convolution k = {Size}",
        LayerKind.DilatedConvolution => $"dilated convolution k = {Size}",
        LayerKind.SelfAttention => "self-attention",
        _ => $"restricted self-attention r = {Size}",
    };

    /// <summary>
    /// Complexity per layer as in Table 1 of Vaswani et al. (2017), n the length and d the width: O(n²·d) for
    /// self-attention against O(n·d²) for recurrence, so attention is cheaper per layer while n &lt; d.
    /// </summary>
    public string ComplexityPerLayer => Kind switch
    {
        LayerKind.Recurrent => "O(n·d²)",
        LayerKind.Convolution or LayerKind.DilatedConvolution => "O(k·n·d²)",
        LayerKind.SelfAttention => "O(n²·d)",
        _ => "O(r·n·d)",
    };

    /// <summary>Sequential operations per layer as in Table 1: O(n) for recurrence, O(1) for every other kind.</summary>
    public string SequentialOperations => Kind == LayerKind.Recurrent ? "O(n)" : "O(1)";

    /// <summary>
    /// The growth of the maximum path length. Table 1 lists O(log_k n) for convolutions, the depth of a stack of
    /// dilated convolutions; a stack of contiguous kernels needs O(n/k) layers (the paper's section 4), which is what
    /// <see cref="LayerKind.Convolution"/> draws.
    /// </summary>
    public string MaximumPathLengthOrder => Kind switch
    {
        LayerKind.Recurrent => "O(n)",
        LayerKind.Convolution => "O(n/k) (section 4)",
        LayerKind.DilatedConvolution => "O(log_k n) (Table 1)",
        LayerKind.SelfAttention => "O(1)",
        _ => "O(n/r)",
    };

    /// <summary>
    /// Layers a stack needs so that every earlier position reaches every later one:
    /// 1 for recurrent and self-attention, ceil((n-1)/(k-1)) for convolution, ceil(log_k n) for dilated convolution,
    /// ceil((n-1)/r) for restricted self-attention.
    /// </summary>
    /// <param name="n">Sequence length.</param>
    public int LayersNeeded(int n)
    {
        Check.AtLeast(n, 1, "sequence length n", nameof(n));
        var span = n - 1;
        return Kind switch
        {
            LayerKind.Recurrent or LayerKind.SelfAttention => 1,
            LayerKind.Convolution => Math.Max(1, (span + Size - 2) / (Size - 1)),
            LayerKind.DilatedConvolution => Math.Max(1, DilatedDepth(n)),
            _ => Math.Max(1, (span + Size - 1) / Size),
        };
    }

    /// <summary>The states of the layer below (and, for recurrence, of the same layer) that state (layer, i) reads.</summary>
    /// <param name="layer">Layer, 1 or more (layer 0 is the input).</param>
    /// <param name="position">Position i.</param>
    /// <param name="n">Sequence length.</param>
    /// <returns>(layer, position) pairs.</returns>
    public IEnumerable<(int Layer, int Position)> Reads(int layer, int position, int n)
    {
        switch (Kind)
        {
            case LayerKind.Recurrent:
                yield return (layer - 1, position);
                if (position > 0)
                {
                    yield return (layer, position - 1);
                }

                break;
            case LayerKind.Convolution:
                for (var m = 0; m < Size && position - m >= 0; m++)
                {
                    yield return (layer - 1, position - m);
                }

                break;
            case LayerKind.DilatedConvolution:
                var dilation = (long)Math.Pow(Size, layer - 1);
                for (var m = 0; m < Size && position - (m * dilation) >= 0; m++)
                {
                    yield return (layer - 1, (int)(position - (m * dilation)));
                }

                break;
            case LayerKind.SelfAttention:
                for (var j = 0; j < n; j++)
                {
                    yield return (layer - 1, j);
                }

                break;
            default:
                for (var j = Math.Max(0, position - Size); j <= Math.Min(n - 1, position + Size); j++)
                {
                    yield return (layer - 1, j);
                }

                break;
        }
    }

    private int DilatedDepth(int n)
    {
        var depth = 0;
        for (long reach = 1; reach < n; reach *= Size)
        {
            depth++;
        }

        return depth;
    }

    private static Architecture Sized(LayerKind kind, int size, int minimum, string what)
    {
        Check.AtLeast(size, minimum, what, nameof(size));
        return new Architecture(kind, size);
    }
}

/// <summary>
/// The dependency graph of a stack of layers over n positions: node (l, i) is the state at layer l and position i
/// (layer 0 holds the inputs), and an edge goes from each state to every state that reads it. Path lengths are
/// found by breadth-first search, not by formula.
/// </summary>
public sealed class DependencyGraph
{
    private readonly int[] readerStart;
    private readonly int[] readers;

    private DependencyGraph(Architecture architecture, int n, int layers)
    {
        Architecture = architecture;
        N = n;
        Layers = layers;
        var lists = new List<int>[(layers + 1) * n];
        for (var node = 0; node < lists.Length; node++)
        {
            lists[node] = [];
        }

        for (var layer = 1; layer <= layers; layer++)
        {
            for (var position = 0; position < n; position++)
            {
                foreach (var (readLayer, readPosition) in architecture.Reads(layer, position, n))
                {
                    lists[Node(readLayer, readPosition)].Add(Node(layer, position));
                }
            }
        }

        readerStart = new int[lists.Length + 1];
        for (var node = 0; node < lists.Length; node++)
        {
            readerStart[node + 1] = readerStart[node] + lists[node].Count;
        }

        readers = [.. lists.SelectMany(l => l)];
    }

    /// <summary>The layer kind.</summary>
    public Architecture Architecture { get; }

    /// <summary>Number of positions.</summary>
    public int N { get; }

    /// <summary>Number of layers above the input.</summary>
    public int Layers { get; }

    /// <summary>Number of edges (reads).</summary>
    public int EdgeCount => readers.Length;

    /// <summary>Builds the graph of a stack deep enough for every earlier position to reach every later one.</summary>
    /// <param name="architecture">The layer kind.</param>
    /// <param name="n">Number of positions (at least 1).</param>
    /// <param name="layers">Stack depth, or null for <see cref="Architecture.LayersNeeded"/>.</param>
    public static DependencyGraph Build(Architecture architecture, int n, int? layers = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        Check.AtLeast(n, 1, "sequence length n", nameof(n));
        var depth = layers ?? architecture.LayersNeeded(n);
        Check.AtLeast(depth, 1, "layers", nameof(layers));
        if ((long)(depth + 1) * n > 5_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(n), $"{depth} layers x {n} positions is {(long)(depth + 1) * n:N0} nodes, more than this graph search is meant for (5,000,000): use a shorter sequence.");
        }

        return new DependencyGraph(architecture, n, depth);
    }

    /// <summary>
    /// Shortest path, in edges, from input <paramref name="source"/> to each position: the fewest reads through
    /// which the input at <paramref name="source"/> reaches a state at position j in some layer. -1 when it cannot.
    /// </summary>
    /// <param name="source">Input position.</param>
    /// <returns>One length per position.</returns>
    public int[] PathLengthsFrom(int source)
    {
        if ((uint)source >= (uint)N)
        {
            throw new ArgumentOutOfRangeException(nameof(source), source, $"position {source} is not in a sequence of {N}: use 0 to {N - 1}.");
        }

        var distance = new int[(Layers + 1) * N];
        Array.Fill(distance, -1);
        var queue = new Queue<int>();
        distance[Node(0, source)] = 0;
        queue.Enqueue(Node(0, source));
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            for (var e = readerStart[node]; e < readerStart[node + 1]; e++)
            {
                var reader = readers[e];
                if (distance[reader] < 0)
                {
                    distance[reader] = distance[node] + 1;
                    queue.Enqueue(reader);
                }
            }
        }

        var best = new int[N];
        for (var position = 0; position < N; position++)
        {
            best[position] = -1;
            for (var layer = 1; layer <= Layers; layer++)
            {
                var d = distance[Node(layer, position)];
                if (d >= 0 && (best[position] < 0 || d < best[position]))
                {
                    best[position] = d;
                }
            }
        }

        return best;
    }

    /// <summary>
    /// One shortest path from input <paramref name="from"/> to the nearest state at position <paramref name="to"/>,
    /// as (layer, position) nodes starting at the input; empty when there is none.
    /// </summary>
    /// <param name="from">Input position.</param>
    /// <param name="to">Target position.</param>
    /// <returns>The nodes along the path.</returns>
    public IReadOnlyList<(int Layer, int Position)> ShortestPath(int from, int to)
    {
        if ((uint)from >= (uint)N || (uint)to >= (uint)N)
        {
            throw new ArgumentOutOfRangeException(nameof(to), $"positions {from} and {to} must both be in 0 to {N - 1}.");
        }

        var parent = new int[(Layers + 1) * N];
        Array.Fill(parent, -2);
        var queue = new Queue<int>();
        parent[Node(0, from)] = -1;
        queue.Enqueue(Node(0, from));
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (node >= N && node % N == to)
            {
                var path = new List<(int, int)>();
                for (var at = node; at >= 0; at = parent[at])
                {
                    path.Add((at / N, at % N));
                }

                path.Reverse();
                return path;
            }

            for (var e = readerStart[node]; e < readerStart[node + 1]; e++)
            {
                if (parent[readers[e]] == -2)
                {
                    parent[readers[e]] = node;
                    queue.Enqueue(readers[e]);
                }
            }
        }

        return [];
    }

    /// <summary>Every edge as (reader, read) node pairs, for drawing the graph.</summary>
    public IEnumerable<((int Layer, int Position) Read, (int Layer, int Position) Reader)> Edges()
    {
        for (var node = 0; node < readerStart.Length - 1; node++)
        {
            for (var e = readerStart[node]; e < readerStart[node + 1]; e++)
            {
                yield return ((node / N, node % N), (readers[e] / N, readers[e] % N));
            }
        }
    }

    /// <summary>Path lengths between every pair: [from, to], -1 where the signal cannot travel.</summary>
    /// <returns>An n x n table.</returns>
    public int[,] PathLengths()
    {
        var table = new int[N, N];
        Parallel.For(0, N, source =>
        {
            var row = PathLengthsFrom(source);
            for (var j = 0; j < N; j++)
            {
                table[source, j] = row[j];
            }
        });
        return table;
    }

    /// <summary>The longest of the shortest paths from any position to any later one (the Table 1 column).</summary>
    public int MaximumPathLength()
    {
        var table = PathLengths();
        var longest = 0;
        for (var i = 0; i < N; i++)
        {
            for (var j = i; j < N; j++)
            {
                longest = Math.Max(longest, table[i, j]);
            }
        }

        return longest;
    }

    /// <summary>
    /// Sequential steps of one layer: the longest chain of states in that layer that must be computed one after
    /// another because each reads the one before (n for recurrence, 1 when all positions are independent).
    /// </summary>
    public int SequentialSteps()
    {
        var depth = new int[N];
        for (var position = 0; position < N; position++)
        {
            depth[position] = 1;
            foreach (var (layer, read) in Architecture.Reads(1, position, N))
            {
                if (layer == 1)
                {
                    depth[position] = Math.Max(depth[position], depth[read] + 1);
                }
            }
        }

        return depth.Max();
    }

    private int Node(int layer, int position) => (layer * N) + position;
}
