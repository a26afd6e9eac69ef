using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Tokens;

/// <summary>
/// The sinusoidal positional encoding of Vaswani et al. (2017): attention by itself does not know word
/// order, so each position gets a fixed vector that is added to the token vector.
/// </summary>
/// <remarks>
/// PE[pos, 2i] = sin(pos / 10000^(2i / d_model)) and PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model)).
/// With an odd d_model the last column is a sine.
/// </remarks>
public static class PositionalEncoding
{
    /// <summary>The encoding for positions 0 to <paramref name="length"/> - 1, shape [length x dModel].</summary>
    /// <param name="length">Number of positions (at least 1).</param>
    /// <param name="dModel">Vector length (at least 1).</param>
    /// <returns>PE with row pos the encoding of position pos.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public static Matrix<double> Sinusoidal(int length, int dModel)
    {
        if (length < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"positional encoding length is {length}: it must be at least 1 (one row per token).");
        }

        if (dModel < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dModel), dModel, $"positional encoding d_model is {dModel}: it must be at least 1.");
        }

        return Matrix<double>.Build.Dense(length, dModel, (pos, column) =>
        {
            var pairIndex = column / 2;
            var angle = pos / Math.Pow(10000.0, 2.0 * pairIndex / dModel);
            return column % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle);
        });
    }

    /// <summary>Adds the encoding to token vectors: X + PE, shape [tokens x d_model].</summary>
    /// <param name="tokenVectors">X, shape [tokens x d_model].</param>
    /// <returns>A new matrix; <paramref name="tokenVectors"/> is unchanged.</returns>
    public static Matrix<double> AddTo(Matrix<double> tokenVectors)
    {
        ArgumentNullException.ThrowIfNull(tokenVectors);
        return tokenVectors + Sinusoidal(tokenVectors.RowCount, tokenVectors.ColumnCount);
    }
}
