using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention.Training;

/// <summary>
/// Layer normalisation (Ba, Kiros and Hinton 2016) of every token vector (row) on its own:
/// y = g ∘ (x - μ) / sqrt(σ² + ε) + b, with μ and σ² the mean and variance of the row's d entries.
/// </summary>
/// <remarks>
/// It keeps the vectors that flow between sublayers at unit scale whatever the weights do, which is what lets a
/// transformer train with one learning rate for every layer. ε = 1e-5 (PyTorch's default) keeps a constant row finite.
/// </remarks>
public sealed class LayerNorm
{
    /// <summary>ε, added to the variance before the square root.</summary>
    public const double Epsilon = 1e-5;

    /// <summary>A LayerNorm with given gain and bias (both updated in place by training).</summary>
    /// <param name="gain">g, shape [1 x d].</param>
    /// <param name="bias">b, shape [1 x d].</param>
    /// <exception cref="ArgumentException">g and b are not [1 x d] of the same d.</exception>
    public LayerNorm(Matrix<double> gain, Matrix<double> bias)
    {
        ArgumentNullException.ThrowIfNull(gain);
        ArgumentNullException.ThrowIfNull(bias);
        if (gain.RowCount != 1 || bias.RowCount != 1 || gain.ColumnCount != bias.ColumnCount)
        {
            throw new ArgumentException($"gain is {Check.Shape(gain)} and bias is {Check.Shape(bias)}: both must be [1 x d] with the same d.", nameof(bias));
        }

        Gain = gain;
        Bias = bias;
    }

    /// <summary>g, shape [1 x d].</summary>
    public Matrix<double> Gain { get; }

    /// <summary>b, shape [1 x d].</summary>
    public Matrix<double> Bias { get; }

    /// <summary>Vector length d.</summary>
    public int Size => Gain.ColumnCount;

    /// <summary>Normalises every row: x̂ = (x - μ) / sqrt(σ² + ε), then y = g ∘ x̂ + b.</summary>
    /// <param name="input">X, shape [tokens x d].</param>
    /// <returns>Y [tokens x d] and what the backward pass needs (x̂ and 1/sqrt(σ² + ε) per row).</returns>
    /// <exception cref="ArgumentException">X does not have d columns.</exception>
    public LayerNormResult Forward(Matrix<double> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.ColumnCount != Size)
        {
            throw new ArgumentException($"X is {Check.Shape(input)} but this LayerNorm normalises vectors of length {Size}: X needs {Size} columns.", nameof(input));
        }

        var normalized = Matrix<double>.Build.Dense(input.RowCount, Size);
        var inverseDeviation = Vector<double>.Build.Dense(input.RowCount);
        for (var row = 0; row < input.RowCount; row++)
        {
            var x = input.Row(row);
            var mean = x.Sum() / Size;                                  // μ
            var centered = x - mean;                                    // x - μ
            var variance = centered.DotProduct(centered) / Size;       // σ² (biased, as in the paper and PyTorch)
            inverseDeviation[row] = 1 / Math.Sqrt(variance + Epsilon);  // 1 / sqrt(σ² + ε)
            normalized.SetRow(row, centered * inverseDeviation[row]);   // x̂
        }

        var output = normalized.Clone();
        output.MapIndexedInplace((_, column, value) => (Gain.At(0, column) * value) + Bias.At(0, column)); // y = g ∘ x̂ + b
        return new LayerNormResult(output, normalized, inverseDeviation);
    }

    /// <summary>
    /// Backward pass, per row with r = 1/sqrt(σ² + ε) and dx̂ = dy ∘ g:
    /// dx = r (dx̂ - mean(dx̂) - x̂ mean(dx̂ ∘ x̂)); dg = column sums of dY ∘ X̂; db = column sums of dY.
    /// </summary>
    /// <remarks>
    /// x̂ depends on every entry of its row through μ and σ², which gives the two subtracted means: moving all
    /// entries together moves μ and not x̂ (first mean), scaling the row moves σ² and not x̂ (second mean).
    /// </remarks>
    /// <param name="forward">This LayerNorm's forward result.</param>
    /// <param name="outputGradient">dY, shape [tokens x d].</param>
    /// <returns>dX [tokens x d], dg and db (length d).</returns>
    /// <exception cref="ArgumentException">dY does not have the output's shape.</exception>
    public LayerNormGradients Backward(LayerNormResult forward, Matrix<double> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(outputGradient);
        if (outputGradient.RowCount != forward.Output.RowCount || outputGradient.ColumnCount != Size)
        {
            throw new ArgumentException($"the output is {Check.Shape(forward.Output)} but dY is {Check.Shape(outputGradient)}: the gradient has the output's shape.", nameof(outputGradient));
        }

        var gain = Gain.Row(0);
        var inputGradient = Matrix<double>.Build.Dense(outputGradient.RowCount, Size);
        for (var row = 0; row < outputGradient.RowCount; row++)
        {
            var normalizedGradient = outputGradient.Row(row).PointwiseMultiply(gain);              // dx̂ = dy ∘ g
            var normalized = forward.Normalized.Row(row);                                           // x̂
            var meanGradient = normalizedGradient.Sum() / Size;                                     // mean(dx̂)
            var meanProjection = normalizedGradient.DotProduct(normalized) / Size;                  // mean(dx̂ ∘ x̂)
            var rowGradient = forward.InverseDeviation[row] * (normalizedGradient - meanGradient - (normalized * meanProjection));
            inputGradient.SetRow(row, rowGradient);
        }

        var gainGradient = outputGradient.PointwiseMultiply(forward.Normalized).ColumnSums();      // dg
        var biasGradient = outputGradient.ColumnSums();                                             // db
        return new LayerNormGradients(inputGradient, gainGradient, biasGradient);
    }
}

/// <summary>What <see cref="LayerNorm.Forward"/> computed.</summary>
/// <param name="Output">Y = g ∘ X̂ + b, shape [tokens x d].</param>
/// <param name="Normalized">X̂, each row with mean 0 and variance σ²/(σ² + ε), shape [tokens x d].</param>
/// <param name="InverseDeviation">1/sqrt(σ² + ε) of each row.</param>
public sealed record LayerNormResult(Matrix<double> Output, Matrix<double> Normalized, Vector<double> InverseDeviation);

/// <summary>The gradients of a LayerNorm.</summary>
/// <param name="DInput">dX, shape [tokens x d].</param>
/// <param name="DGain">dg, length d.</param>
/// <param name="DBias">db, length d.</param>
public sealed record LayerNormGradients(Matrix<double> DInput, Vector<double> DGain, Vector<double> DBias);
