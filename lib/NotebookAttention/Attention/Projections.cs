using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;

namespace NotebookAttention.Attention;

/// <summary>
/// A linear projection Y = X W + b applied to every token vector (every row of X) at once.
/// </summary>
/// <remarks>
/// Seeded initialisation follows common practice (and PyTorch's <c>nn.MultiheadAttention</c>): the weight is
/// drawn from the Xavier/Glorot uniform distribution U(-a, a) with a = sqrt(6 / (in + out)), which keeps the
/// variance of activations roughly the same through the layer; the optional bias from U(-1/sqrt(in), 1/sqrt(in)),
/// as PyTorch's <c>nn.Linear</c> does. Draws come from MathNet's xoshiro256** generator, so a seed gives the
/// same weights on every machine.
/// </remarks>
public sealed class LinearProjection
{
    /// <summary>Creates a projection from explicit weights, for hand-made examples and pretrained models.</summary>
    /// <param name="weight">W, shape [in x out].</param>
    /// <param name="bias">b, length out, or null for no bias.</param>
    /// <exception cref="ArgumentException">A size does not match or an entry is not finite.</exception>
    public LinearProjection(Matrix<double> weight, Vector<double>? bias = null)
    {
        Check.Finite(weight, "projection weight W", nameof(weight));
        if (bias is not null)
        {
            if (bias.Count != weight.ColumnCount)
            {
                throw new ArgumentException(
                    $"bias has length {bias.Count} but W is {Check.Shape(weight)}: the bias needs one entry per output column ({weight.ColumnCount}).",
                    nameof(bias));
            }

            Check.Finite(bias.ToRowMatrix(), "projection bias b", nameof(bias));
        }

        Weight = weight;
        Bias = bias;
    }

    /// <summary>W, shape [in x out].</summary>
    public Matrix<double> Weight { get; }

    /// <summary>b, length out, or null when the projection has no bias.</summary>
    public Vector<double>? Bias { get; }

    /// <summary>Input vector length.</summary>
    public int InputSize => Weight.RowCount;

    /// <summary>Output vector length.</summary>
    public int OutputSize => Weight.ColumnCount;

    /// <summary>A seeded Xavier-uniform projection (see the remarks on <see cref="LinearProjection"/>).</summary>
    /// <param name="inputSize">Input vector length.</param>
    /// <param name="outputSize">Output vector length.</param>
    /// <param name="seed">Seed; the same seed gives the same weights.</param>
    /// <param name="bias">Whether to add a bias vector.</param>
    public static LinearProjection Create(int inputSize, int outputSize, int seed, bool bias = false) =>
        Create(inputSize, outputSize, new Xoshiro256StarStar(seed, threadSafe: false), bias);

    /// <summary>The identity projection (W = I, no bias): Y = X.</summary>
    /// <param name="size">Vector length.</param>
    public static LinearProjection Identity(int size)
    {
        Check.AtLeast(size, 1, "identity projection size", nameof(size));
        Check.Fits(size, size, 1, "an identity projection", "choose a smaller size", nameof(size));
        return new LinearProjection(Matrix<double>.Build.DenseIdentity(size));
    }

    /// <summary>Projects every row: Y = X W + b, shape [tokens x out].</summary>
    /// <param name="input">X, shape [tokens x in].</param>
    /// <returns>Y.</returns>
    /// <exception cref="ArgumentException">X has the wrong number of columns or holds NaN or infinity.</exception>
    public Matrix<double> Apply(Matrix<double> input)
    {
        AttentionChecks.ProjectionInput(input, Weight);
        return ApplyUnchecked(input);
    }

    /// <summary><see cref="Apply"/> on an X an entry point has checked: finite, <see cref="InputSize"/> columns.</summary>
    internal Matrix<double> ApplyUnchecked(Matrix<double> input)
    {
        var output = input * Weight;   // X W  [tokens x out]
        if (Bias is not null)
        {
            output.MapIndexedInplace((_, column, value) => value + Bias[column]);   // + b on every row
        }

        AttentionChecks.ProjectionInRange(output);
        return output;
    }

    /// <summary>
    /// Backward pass of Y = X W + b: given dY = dLoss/dY, returns dX = dY W^T [tokens x in], dW = X^T dY [in x out]
    /// and db = the column sums of dY [out] (every token row added the same b, so its gradient sums over rows).
    /// </summary>
    /// <param name="input">X, the [tokens x in] matrix the forward pass projected.</param>
    /// <param name="outputGradient">dY, shape [tokens x out].</param>
    /// <returns>dX, dW and db (db is null when the projection has no bias).</returns>
    /// <exception cref="ArgumentException">X or dY has the wrong shape.</exception>
    public LinearProjectionGradients Backward(Matrix<double> input, Matrix<double> outputGradient)
    {
        AttentionChecks.ProjectionGradient(input, outputGradient, Weight);
        var inputGradient = outputGradient * Weight.Transpose();          // dX = dY W^T      [tokens x in]
        var weightGradient = input.TransposeThisAndMultiply(outputGradient); // dW = X^T dY   [in x out]
        var biasGradient = Bias is null ? null : outputGradient.ColumnSums(); // db = 1^T dY [out]
        return new LinearProjectionGradients(inputGradient, weightGradient, biasGradient);
    }

    internal static LinearProjection Create(int inputSize, int outputSize, Random random, bool bias)
    {
        Check.AtLeast(inputSize, 1, "projection input size", nameof(inputSize));
        Check.AtLeast(outputSize, 1, "projection output size", nameof(outputSize));
        Check.Fits(inputSize, outputSize, 1, "a projection W", "choose smaller sizes", nameof(inputSize));
        var limit = Math.Sqrt(6.0 / (inputSize + outputSize));
        var weight = Matrix<double>.Build.Random(inputSize, outputSize, new ContinuousUniform(-limit, limit, random));
        Vector<double>? b = null;
        if (bias)
        {
            var biasLimit = 1.0 / Math.Sqrt(inputSize);
            b = Vector<double>.Build.Random(outputSize, new ContinuousUniform(-biasLimit, biasLimit, random));
        }

        return new LinearProjection(weight, b);
    }
}

/// <summary>The gradients of one linear projection Y = X W + b, from <see cref="LinearProjection.Backward"/>.</summary>
/// <param name="DInput">dX = dY W^T, shape [tokens x in].</param>
/// <param name="DWeight">dW = X^T dY, shape [in x out] (the library's layout of W).</param>
/// <param name="DBias">db = column sums of dY, length out; null when the projection has no bias.</param>
public sealed record LinearProjectionGradients(Matrix<double> DInput, Matrix<double> DWeight, Vector<double>? DBias);

/// <summary>
/// The three projections that turn token vectors X into queries Q = X W_Q, keys K = X W_K and values V = X W_V.
/// </summary>
public sealed class QkvProjections
{
    /// <summary>Groups three projections; queries and keys must have the same length d_k.</summary>
    /// <param name="query">W_Q (and b_Q), [d_model x d_k].</param>
    /// <param name="key">W_K (and b_K), [d_model x d_k].</param>
    /// <param name="value">W_V (and b_V), [d_model x d_v].</param>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public QkvProjections(LinearProjection query, LinearProjection key, LinearProjection value)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (query.InputSize != key.InputSize || query.InputSize != value.InputSize)
        {
            throw new ArgumentException(
                $"W_Q is {Check.Shape(query.Weight)}, W_K is {Check.Shape(key.Weight)} and W_V is {Check.Shape(value.Weight)}: all three must read vectors of the same length d_model (same number of rows).",
                nameof(key));
        }

        if (query.OutputSize != key.OutputSize)
        {
            throw new ArgumentException(
                $"W_Q is {Check.Shape(query.Weight)} but W_K is {Check.Shape(key.Weight)}: queries and keys are compared by dot product, so both need the same length d_k (same number of columns).",
                nameof(key));
        }

        Query = query;
        Key = key;
        Value = value;
    }

    /// <summary>W_Q (and b_Q), [d_model x d_k].</summary>
    public LinearProjection Query { get; }

    /// <summary>W_K (and b_K), [d_model x d_k].</summary>
    public LinearProjection Key { get; }

    /// <summary>W_V (and b_V), [d_model x d_v].</summary>
    public LinearProjection Value { get; }

    /// <summary>Token vector length d_model.</summary>
    public int DModel => Query.InputSize;

    /// <summary>Query and key length d_k.</summary>
    public int DK => Query.OutputSize;

    /// <summary>Value length d_v.</summary>
    public int DV => Value.OutputSize;

    /// <summary>Seeded projections (Xavier uniform, see <see cref="LinearProjection"/>), drawn in the order W_Q, W_K, W_V.</summary>
    /// <param name="dModel">Token vector length.</param>
    /// <param name="dK">Query and key length.</param>
    /// <param name="dV">Value length.</param>
    /// <param name="seed">Seed; the same seed gives the same weights.</param>
    /// <param name="bias">Whether each projection has a bias.</param>
    public static QkvProjections Create(int dModel, int dK, int dV, int seed, bool bias = false)
    {
        var random = new Xoshiro256StarStar(seed, threadSafe: false);
        return new QkvProjections(
            LinearProjection.Create(dModel, dK, random, bias),
            LinearProjection.Create(dModel, dK, random, bias),
            LinearProjection.Create(dModel, dV, random, bias));
    }

    /// <summary>Projects the token vectors into queries, keys and values.</summary>
    /// <param name="tokenVectors">X, shape [tokens x d_model].</param>
    /// <returns>Q [tokens x d_k], K [tokens x d_k], V [tokens x d_v].</returns>
    /// <exception cref="ArgumentException">X has the wrong number of columns or holds NaN or infinity.</exception>
    public (Matrix<double> Queries, Matrix<double> Keys, Matrix<double> Values) Project(Matrix<double> tokenVectors)
    {
        AttentionChecks.ProjectionInput(tokenVectors, Query.Weight);   // W_K and W_V read the same d_model (constructor)
        return (Query.ApplyUnchecked(tokenVectors), Key.ApplyUnchecked(tokenVectors), Value.ApplyUnchecked(tokenVectors));
    }
}
