using NotebookAttention.Attention;

namespace NotebookAttention.Training;

/// <summary>
/// A mini-batch of token-id sequences of different lengths, padded to the longest with <see cref="PadId"/>, and the
/// target id of every position (<see cref="Ignored"/> where no prediction is scored: padding, and positions a task does
/// not ask about).
/// </summary>
public sealed class SequenceBatch
{
    /// <summary>The target of a position that is not scored.</summary>
    public const int Ignored = -1;

    /// <summary>Pads the sequences and their targets.</summary>
    /// <param name="inputs">Token ids of each sequence (at least one sequence, each at least one token).</param>
    /// <param name="targets">Target id per position of each sequence (same lengths as <paramref name="inputs"/>), or <see cref="Ignored"/>.</param>
    /// <param name="vocabularySize">Number of token ids; every id is in [0, vocabularySize).</param>
    /// <param name="padId">The id written into padding positions.</param>
    public SequenceBatch(IReadOnlyList<IReadOnlyList<int>> inputs, IReadOnlyList<IReadOnlyList<int>> targets, int vocabularySize, int padId)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Count == 0)
        {
            throw new ArgumentException("the batch has 0 sequences: give at least one (raise the batch size).", nameof(inputs));
        }

        if (targets.Count != inputs.Count)
        {
            throw new ArgumentException($"there are {inputs.Count} input sequences but {targets.Count} target sequences: give one target sequence per input.", nameof(targets));
        }

        Check.AtLeast(vocabularySize, 1, "vocabulary size", nameof(vocabularySize));
        if ((uint)padId >= (uint)vocabularySize)
        {
            throw new ArgumentOutOfRangeException(nameof(padId), padId, $"the padding id {padId} is not in the vocabulary: use 0 to {vocabularySize - 1}.");
        }

        var length = 0;
        for (var s = 0; s < inputs.Count; s++)
        {
            if (inputs[s].Count == 0)
            {
                throw new ArgumentException($"sequence {s} is empty: every sequence needs at least one token.", nameof(inputs));
            }

            if (targets[s].Count != inputs[s].Count)
            {
                throw new ArgumentException($"sequence {s} has {inputs[s].Count} tokens but {targets[s].Count} targets: give one target per token.", nameof(targets));
            }

            for (var t = 0; t < inputs[s].Count; t++)
            {
                if ((uint)inputs[s][t] >= (uint)vocabularySize)
                {
                    throw new ArgumentOutOfRangeException(nameof(inputs), inputs[s][t], $"sequence {s}, position {t} has id {inputs[s][t]}, outside the vocabulary: use 0 to {vocabularySize - 1}.");
                }

                if (targets[s][t] != Ignored && (uint)targets[s][t] >= (uint)vocabularySize)
                {
                    throw new ArgumentOutOfRangeException(nameof(targets), targets[s][t], $"sequence {s}, position {t} has target {targets[s][t]}, outside the vocabulary: use 0 to {vocabularySize - 1}, or {Ignored} for no target.");
                }
            }

            length = Math.Max(length, inputs[s].Count);
        }

        VocabularySize = vocabularySize;
        PadId = padId;
        PaddedLength = length;
        Lengths = [.. inputs.Select(s => s.Count)];
        Inputs = [.. inputs.Select(s => (IReadOnlyList<int>)[.. s, .. Enumerable.Repeat(padId, length - s.Count)])];
        Targets = [.. targets.Select(s => (IReadOnlyList<int>)[.. s, .. Enumerable.Repeat(Ignored, length - s.Count)])];
    }

    /// <summary>
    /// Draws <paramref name="batchSize"/> sequences, one call of <paramref name="draw"/> each (in order, so a seeded
    /// generator gives the same batch), and pads them: the sampling loop every task shares.
    /// </summary>
    internal static SequenceBatch Draw(int batchSize, Random random, int vocabularySize, int padId, Func<Random, (int[] Inputs, int[] Targets)> draw)
    {
        Check.AtLeast(batchSize, 1, "the batch size", nameof(batchSize));
        ArgumentNullException.ThrowIfNull(random);
        var inputs = new List<IReadOnlyList<int>>(batchSize);
        var targets = new List<IReadOnlyList<int>>(batchSize);
        for (var s = 0; s < batchSize; s++)
        {
            var (sequence, target) = draw(random);
            inputs.Add(sequence);
            targets.Add(target);
        }

        return new SequenceBatch(inputs, targets, vocabularySize, padId);
    }

    /// <summary>Number of sequences.</summary>
    public int Count => Inputs.Count;

    /// <summary>Length every sequence is padded to.</summary>
    public int PaddedLength { get; }

    /// <summary>Number of token ids.</summary>
    public int VocabularySize { get; }

    /// <summary>The id of padding positions.</summary>
    public int PadId { get; }

    /// <summary>Real length of each sequence.</summary>
    public IReadOnlyList<int> Lengths { get; }

    /// <summary>Padded token ids, [sequence][position].</summary>
    public IReadOnlyList<IReadOnlyList<int>> Inputs { get; }

    /// <summary>Padded targets, [sequence][position]; <see cref="Ignored"/> on padding.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Targets { get; }

    /// <summary>Number of scored positions in the whole batch (the loss is the mean over these).</summary>
    public int ScoredPositions => Targets.Sum(s => s.Count(t => t != Ignored));

    /// <summary>The padding mask of sequence <paramref name="sequence"/>: real tokens see only real tokens.</summary>
    /// <param name="sequence">Sequence index.</param>
    /// <returns>[padded length x padded length].</returns>
    public Mask PaddingMask(int sequence) => Mask.Padding(Lengths[sequence], PaddedLength);
}
