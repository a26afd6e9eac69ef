using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Analysis;

/// <summary>Follows one token through a stack of attention layers.</summary>
public static class LayerProbe
{
    /// <summary>
    /// Where one query token looks in each layer: its row of attention weights averaged over the layer's heads.
    /// </summary>
    /// <param name="layers">Each layer's multi-head attention, first layer first, all over the same tokens.</param>
    /// <param name="query">Position of the query token.</param>
    /// <returns>[layers x keys]: row l is layer l's mean weight from the query to every key (each row sums to 1).</returns>
    /// <exception cref="ArgumentException">There are no layers, or they do not share one sequence length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The position is outside the sequence.</exception>
    public static Matrix<double> MeanOverHeads(IReadOnlyList<MultiHeadAttentionResult> layers, int query)
    {
        var keys = CheckQuery(layers, query);
        return Matrix<double>.Build.Dense(layers.Count, keys, (layer, key) => layers[layer].Heads.Average(h => h.Weights.At(query, key)));
    }

    /// <summary>The mean weight (over heads) from one token to another, layer by layer.</summary>
    /// <param name="layers">Each layer's multi-head attention, first layer first.</param>
    /// <param name="query">Position of the query token.</param>
    /// <param name="key">Position of the key token.</param>
    /// <returns>One value per layer.</returns>
    public static IReadOnlyList<double> MeanWeight(IReadOnlyList<MultiHeadAttentionResult> layers, int query, int key)
    {
        CheckKey(CheckQuery(layers, query), key);
        return [.. layers.Select(layer => layer.Heads.Average(h => h.Weights.At(query, key)))];
    }

    /// <summary>The largest weight any head gives from one token to another, layer by layer.</summary>
    /// <param name="layers">Each layer's multi-head attention, first layer first.</param>
    /// <param name="query">Position of the query token.</param>
    /// <param name="key">Position of the key token.</param>
    /// <returns>One (value, head) per layer.</returns>
    public static IReadOnlyList<(double Weight, int Head)> StrongestHead(IReadOnlyList<MultiHeadAttentionResult> layers, int query, int key)
    {
        CheckKey(CheckQuery(layers, query), key);
        return [.. layers.Select(layer => layer.Heads
            .Select((h, i) => (Weight: h.Weights.At(query, key), Head: i))
            .MaxBy(p => p.Weight))];
    }

    /// <summary>Checks the layers share one sequence and the query is in it; returns the number of keys.</summary>
    private static int CheckQuery(IReadOnlyList<MultiHeadAttentionResult> layers, int query)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("there are no layers: pass each layer's multi-head attention result.", nameof(layers));
        }

        var keys = layers[0].Heads[0].Weights.ColumnCount;
        var queries = layers[0].Heads[0].Weights.RowCount;
        if (layers.Any(l => l.Heads[0].Weights.ColumnCount != keys || l.Heads[0].Weights.RowCount != queries))
        {
            throw new ArgumentException("the layers attend over different numbers of tokens: probe layers of one forward pass.", nameof(layers));
        }

        if ((uint)query >= (uint)queries)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query, $"the query tokens are at positions 0 to {queries - 1}.");
        }

        return keys;
    }

    private static void CheckKey(int keys, int key)
    {
        if ((uint)key >= (uint)keys)
        {
            throw new ArgumentOutOfRangeException(nameof(key), key, $"the key tokens are at positions 0 to {keys - 1}.");
        }
    }
}
