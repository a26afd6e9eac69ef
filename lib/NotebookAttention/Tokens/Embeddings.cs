using System.Text;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;

namespace NotebookAttention.Tokens;

/// <summary>
/// Seeded token embeddings: every token text gets a fixed random vector of length <see cref="Dimension"/>.
/// </summary>
/// <remarks>
/// The vector of a token depends only on its text, the dimension and the seed, never on the sentence or on
/// the order in which tokens were seen, so "attention" has the same vector in every sentence. It is drawn
/// from a uniform distribution on [-sqrt(3), sqrt(3)] (mean 0, variance 1) by a xoshiro256** generator seeded
/// with an FNV-1a hash of the token's UTF-8 bytes mixed with <see cref="Seed"/>. Both use only integer
/// arithmetic and one multiply-add per entry, so the same sentence and seed give bit-identical vectors on
/// every machine. These vectors carry no meaning (nothing was trained); they make the mechanics visible.
/// </remarks>
public sealed class Embeddings
{
    private static readonly double HalfWidth = Math.Sqrt(3.0);

    /// <summary>Creates an embedding table.</summary>
    /// <param name="dimension">d_model, the length of every token vector (at least 1).</param>
    /// <param name="seed">Seed; the same seed gives the same vectors.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is below 1.</exception>
    public Embeddings(int dimension, int seed = 0)
    {
        if (dimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"embedding dimension d_model is {dimension}: it must be at least 1.");
        }

        Dimension = dimension;
        Seed = seed;
    }

    /// <summary>d_model: the length of every token vector.</summary>
    public int Dimension { get; }

    /// <summary>The seed the vectors are drawn with.</summary>
    public int Seed { get; }

    /// <summary>The vector of one token.</summary>
    /// <param name="token">Token text.</param>
    /// <returns>A vector of length <see cref="Dimension"/>.</returns>
    public Vector<double> VectorOf(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var random = new Xoshiro256StarStar(TokenSeed(token, Seed), threadSafe: false);
        var uniform = new ContinuousUniform(-HalfWidth, HalfWidth, random);
        return Vector<double>.Build.Random(Dimension, uniform);
    }

    /// <summary>The token vectors of a sentence stacked as rows: X, shape [tokens x d_model].</summary>
    /// <param name="tokens">Tokens from <see cref="Tokenizer.Tokenize"/>.</param>
    /// <returns>X with row i the vector of token i.</returns>
    public Matrix<double> Embed(IReadOnlyList<Token> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return Embed(tokens.Select(t => t.Text).ToList());
    }

    /// <summary>The vectors of token texts stacked as rows, shape [tokens x d_model].</summary>
    /// <param name="tokens">Token texts.</param>
    /// <returns>X with row i the vector of token i.</returns>
    /// <exception cref="ArgumentException">There are no tokens.</exception>
    public Matrix<double> Embed(IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Count == 0)
        {
            throw new ArgumentException("there are 0 tokens to embed: tokenize a sentence with at least one word first.", nameof(tokens));
        }

        var cache = new Dictionary<string, Vector<double>>(StringComparer.Ordinal);
        return Matrix<double>.Build.DenseOfRowVectors(tokens.Select(t =>
        {
            if (!cache.TryGetValue(t, out var vector))
            {
                vector = VectorOf(t);
                cache.Add(t, vector);
            }

            return vector;
        }));
    }

    /// <summary>FNV-1a (32 bit) over the UTF-8 bytes of the token, then the seed mixed in.</summary>
    private static int TokenSeed(string token, int seed)
    {
        const uint offsetBasis = 2166136261;
        const uint prime = 16777619;
        var hash = offsetBasis;
        foreach (var b in Encoding.UTF8.GetBytes(token))
        {
            hash = (hash ^ b) * prime;
        }

        hash ^= (uint)seed * 0x9E3779B9u;
        hash *= prime;
        return unchecked((int)hash);
    }
}
