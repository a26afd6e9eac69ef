namespace NotebookAttention.Training;

/// <summary>The shape of a <see cref="TransformerModel"/>.</summary>
/// <param name="VocabularySize">Number of token ids read and predicted (padding included).</param>
/// <param name="MaxLength">Longest sequence; the learned position table has this many rows.</param>
/// <param name="DModel">d_model, the width of every token vector.</param>
/// <param name="Heads">Attention heads h; must divide d_model.</param>
/// <param name="FeedForward">d_ff, the hidden width of the feed-forward sublayer.</param>
/// <param name="Seed">Seed of the initial weights; the same seed gives the same model.</param>
/// <param name="Causal">Also hide later positions from each position (a left-to-right model).</param>
/// <param name="Layers">Number of transformer layers (attention + feed-forward), at least 1.</param>
/// <param name="Path">Which implementation computes loss and gradients (the same numbers to about 1e-12).</param>
public sealed record TransformerSettings(
    int VocabularySize,
    int MaxLength,
    int DModel,
    int Heads,
    int FeedForward,
    int Seed,
    bool Causal = false,
    int Layers = 1,
    TransformerPath Path = TransformerPath.Fast);

/// <summary>The two implementations of <see cref="TransformerModel"/>'s passes.</summary>
public enum TransformerPath
{
    /// <summary>Flat fp64 arrays and SIMD loops, the speed the notebooks need; proven equal to <see cref="Reference"/> by tests.</summary>
    Fast,

    /// <summary>The readable path: one library step per line (MathNet matrices), forward and backward.</summary>
    Reference,
}
