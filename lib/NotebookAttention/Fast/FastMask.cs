namespace NotebookAttention.Fast;

/// <summary>
/// The masks the fast paths understand, described instead of stored (an n x n table would defeat the tiled path).
/// </summary>
/// <param name="ValidLength">
/// Padding: only the first ValidLength positions are real. Keys past it are hidden from every query, and queries
/// past it attend to nothing (zero output), as <see cref="Attention.Mask.Padding(int, int)"/>. Null: all real.
/// </param>
/// <param name="Causal">Query i sees keys 0..i only, as <see cref="Attention.Mask.Causal"/>.</param>
/// <param name="Window">
/// Sliding window: query i sees keys i - Window..i + Window only (with <paramref name="Causal"/>, i - Window..i).
/// Null: no window.
/// </param>
public readonly record struct FastMask(int? ValidLength = null, bool Causal = false, int? Window = null)
{
    /// <summary>Whether query <paramref name="query"/> may see key <paramref name="key"/>.</summary>
    /// <param name="query">Query position.</param>
    /// <param name="key">Key position.</param>
    /// <returns>True when allowed.</returns>
    public bool Allows(int query, int key) =>
        (ValidLength is not { } valid || (query < valid && key < valid))
        && (!Causal || key <= query)
        && (Window is not { } w || Math.Abs(query - key) <= w);

    /// <summary>The same mask as a table, for the reference path and for pictures.</summary>
    /// <exception cref="ArgumentException">The valid length does not fit or the window is negative.</exception>
    public Attention.Mask ToMask(int queries, int keys)
    {
        Check.AtLeast(queries, 1, "mask query count", nameof(queries));
        Check.AtLeast(keys, 1, "mask key count", nameof(keys));
        Validate(queries, keys);
        var self = this;
        return Attention.Mask.FromFunction(queries, keys, self.Allows);
    }

    internal void Validate(int queries, int keys)
    {
        if (ValidLength is { } valid && (valid < 0 || valid > Math.Min(queries, keys)))
        {
            throw new ArgumentException($"valid length {valid} does not fit {queries} queries and {keys} keys: it must be between 0 and {Math.Min(queries, keys)}.");
        }

        if (Window is { } window && window < 0)
        {
            throw new ArgumentException($"window {window} is negative: a token sees the tokens at most Window positions away, so use 0 or more.");
        }
    }
}
