namespace NotebookAttention.Cost;

/// <summary>What an attention forward pass costs, by formula.</summary>
/// <param name="Flops">Floating-point operations (multiply and add counted separately).</param>
/// <param name="ScoreMatrixBytes">Bytes of the score matrices one layer holds at once when materialized.</param>
/// <param name="Seconds">Time at the given speed.</param>
public sealed record CostEstimate(double Flops, double ScoreMatrixBytes, double Seconds);

/// <summary>
/// The FLOPs of one transformer encoder layer for n tokens, by part (multiply and add counted separately; biases,
/// softmax, LayerNorm and the activation are lower-order terms and left out).
/// </summary>
/// <param name="N">Sequence length.</param>
/// <param name="AttentionCore">Q K^T and the weighted sum A V over all heads: 4 n^2 d_model.</param>
/// <param name="Projections">W_Q, W_K, W_V and W_O: 4 products of [n x d_model] by [d_model x d_model], 8 n d_model^2.</param>
/// <param name="FeedForward">The two FFN layers, d_model to width f and back: 4 n d_model f (16 n d_model^2 when f = 4 d_model).</param>
public sealed record LayerFlops(long N, double AttentionCore, double Projections, double FeedForward)
{
    /// <summary>The parts that grow with n: projections and FFN.</summary>
    public double Linear => Projections + FeedForward;

    /// <summary>All of it.</summary>
    public double Total => AttentionCore + Linear;

    /// <summary>Attention's core as a share of the layer's FLOPs.</summary>
    public double AttentionShare => AttentionCore / Total;
}

/// <summary>
/// The cost of exact attention as formulas: Q K^T is n x n dot products of length d (2 n^2 d FLOPs), and the
/// weighted sum A V as many again, so 4 n^2 d per head; a causal mask needs only half of the pairs. The score
/// matrix holds n^2 numbers per head. Time and memory grow with the square of the sequence length.
/// </summary>
public static class AttentionCost
{
    /// <summary>FLOPs of one attention forward pass: 4 n^2 d per head, half of it with a causal mask.</summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="d">Head dimension d_k (= d_v).</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="causal">Whether a causal mask halves the pairs.</param>
    /// <returns>FLOPs.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public static double Flops(long n, int d, int heads = 1, bool causal = false)
    {
        Check.AtLeast(n, 1, "sequence length n", nameof(n));
        Check.AtLeast(d, 1, "head dimension d", nameof(d));
        Check.AtLeast(heads, 1, "heads", nameof(heads));
        return heads * 4.0 * n * n * d * (causal ? 0.5 : 1.0);
    }

    /// <summary>
    /// The FLOPs of one transformer encoder layer, by part: attention's core 4 n^2 d, the projections 8 n d^2, the
    /// feed-forward network 4 n d f (d = d_model, f = FFN width; with f = 4d the projections and FFN make 24 n d^2).
    /// </summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="dModel">Model width d_model (all heads together).</param>
    /// <param name="ffnWidth">Width of the FFN's hidden layer (4 d_model in BERT and MiniLM).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public static LayerFlops Layer(long n, int dModel, int ffnWidth)
    {
        Check.AtLeast(n, 1, "sequence length n", nameof(n));
        Check.AtLeast(dModel, 1, "model width d_model", nameof(dModel));
        Check.AtLeast(ffnWidth, 1, "FFN width", nameof(ffnWidth));
        return new LayerFlops(n, Flops(n, dModel), 8.0 * n * dModel * dModel, 4.0 * n * dModel * ffnWidth);
    }

    /// <summary>
    /// The length at which attention's core costs as much as the projections and FFN of its layer:
    /// 4 n^2 d = 8 n d^2 + 4 n d f gives n = 2d + f, that is 6 d_model when f = 4 d_model. Above it attention dominates.
    /// </summary>
    /// <param name="dModel">Model width d_model.</param>
    /// <param name="ffnWidth">FFN width.</param>
    /// <returns>The crossover length n.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public static long AttentionCrossover(int dModel, int ffnWidth)
    {
        Check.AtLeast(dModel, 1, "model width d_model", nameof(dModel));
        Check.AtLeast(ffnWidth, 1, "FFN width", nameof(ffnWidth));
        return (2L * dModel) + ffnWidth;
    }

    /// <summary>What the crossover means for a model that reads at most <paramref name="limit"/> tokens, in one sentence computed from the formulas.</summary>
    /// <param name="dModel">Model width d_model.</param>
    /// <param name="ffnWidth">FFN width.</param>
    /// <param name="limit">The longest input the model is given.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public static string CrossoverSummary(int dModel, int ffnWidth, long limit)
    {
        var crossover = AttentionCrossover(dModel, ffnWidth);
        var atLimit = Layer(limit, dModel, ffnWidth);
        var verdict = limit < crossover
            ? "so in this model the projections and FFN take more FLOPs than attention's core at every length it reads"
            : "so at its longest inputs attention's core takes more FLOPs than the rest of the layer";
        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"d_model = {dModel}, FFN width {ffnWidth}: attention's core costs as much as the projections and FFN at n = {crossover}; at the limit of {limit} tokens it is {atLimit.AttentionShare:0.000} of a layer's FLOPs, {verdict}.");
    }

    /// <summary>Bytes of the materialized score matrices: n^2 per head and sequence.</summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="batch">Sequences at once.</param>
    /// <param name="bytesPerNumber">4 for fp32, 8 for fp64.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public static double ScoreMatrixBytes(long n, int heads = 1, int batch = 1, int bytesPerNumber = 4)
    {
        Check.AtLeast(n, 1, "sequence length n", nameof(n));
        Check.AtLeast(heads, 1, "heads", nameof(heads));
        Check.AtLeast(batch, 1, "batch", nameof(batch));
        Check.AtLeast(bytesPerNumber, 1, "bytes per number", nameof(bytesPerNumber));
        return (double)n * n * heads * batch * bytesPerNumber;
    }

    /// <summary>The longest sequence whose n x n score matrix fits in <paramref name="bytes"/>.</summary>
    /// <param name="bytes">Memory available for it.</param>
    /// <param name="bytesPerNumber">4 for fp32, 8 for fp64.</param>
    /// <returns>The largest n.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The bytes are negative or not finite, or bytes per number is below 1.</exception>
    public static long LongestFitting(double bytes, int bytesPerNumber = 4)
    {
        if (!(bytes >= 0 && double.IsFinite(bytes)))
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"memory is {bytes} bytes: it must be a finite number of bytes, 0 or more.");
        }

        Check.AtLeast(bytesPerNumber, 1, "bytes per number", nameof(bytesPerNumber));
        return (long)Math.Floor(Math.Sqrt(bytes / bytesPerNumber));
    }

    /// <summary>The calculator: FLOPs, score-matrix bytes and time for a whole model at a measured speed.</summary>
    /// <param name="n">Sequence length.</param>
    /// <param name="d">Head dimension.</param>
    /// <param name="heads">Heads per layer.</param>
    /// <param name="layers">Layers.</param>
    /// <param name="batch">Sequences at once.</param>
    /// <param name="gflopsPerSecond">Measured speed in GFLOP/s.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or the speed is not a finite number above 0.</exception>
    public static CostEstimate Estimate(long n, int d, int heads, int layers, int batch, double gflopsPerSecond)
    {
        if (n < 1 || d < 1 || heads < 1 || layers < 1 || batch < 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(n), $"n = {n}, d = {d}, heads = {heads}, layers = {layers}, batch = {batch}: every size must be at least 1.");
        }

        if (!(gflopsPerSecond > 0 && double.IsFinite(gflopsPerSecond)))
        {
            throw new ArgumentOutOfRangeException(
                nameof(gflopsPerSecond), gflopsPerSecond, $"speed is {gflopsPerSecond} GFLOP/s: it must be a finite number above 0; measure it (Machine) or take a figure from a data sheet.");
        }

        var flops = Flops(n, d, heads) * layers * batch;
        return new CostEstimate(flops, ScoreMatrixBytes(n, heads, batch), flops / (gflopsPerSecond * 1e9));
    }
}
