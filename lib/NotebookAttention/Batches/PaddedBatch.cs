using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Tokens;

namespace NotebookAttention.Batches;

/// <summary>
/// Sentences of different lengths padded to the longest one, so they can be processed together, with the
/// padding mask of each. Padding rows hold the vector of the <see cref="Vocabulary.PadToken"/> token; the mask
/// makes sure no real token ever looks at them.
/// </summary>
public sealed class PaddedBatch
{
    private PaddedBatch(IReadOnlyList<Matrix<double>> inputs, IReadOnlyList<int> validLengths, IReadOnlyList<IReadOnlyList<string>> labels)
    {
        Inputs = inputs;
        ValidLengths = validLengths;
        Labels = labels;
        PaddedLength = inputs[0].RowCount;
    }

    /// <summary>Number of sentences.</summary>
    public int Count => Inputs.Count;

    /// <summary>Length every sentence is padded to: the longest sentence's token count.</summary>
    public int PaddedLength { get; }

    /// <summary>Token vector length d_model.</summary>
    public int DModel => Inputs[0].ColumnCount;

    /// <summary>Real token count of each sentence.</summary>
    public IReadOnlyList<int> ValidLengths { get; }

    /// <summary>Token vectors of each sentence, each [padded length x d_model]; rows past the valid length are padding.</summary>
    public IReadOnlyList<Matrix<double>> Inputs { get; }

    /// <summary>Row labels of each sentence: its tokens, then <see cref="Vocabulary.PadToken"/> for every padding row.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Labels { get; }

    /// <summary>Tokenizes and embeds sentences and pads them to the longest.</summary>
    /// <param name="sentences">At least one sentence, each with at least one token.</param>
    /// <param name="embeddings">Token vectors.</param>
    /// <param name="positions">Add the sinusoidal positional encoding (to padding rows too; they stay masked).</param>
    /// <exception cref="ArgumentException">There are no sentences, or one is empty.</exception>
    public static PaddedBatch FromSentences(IReadOnlyList<string> sentences, Embeddings embeddings, bool positions = false)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (sentences.Count == 0)
        {
            throw new ArgumentException("the batch has 0 sentences: give at least one sentence.", nameof(sentences));
        }

        var tokens = sentences.Select((sentence, i) =>
        {
            try
            {
                return Tokenizer.Words(sentence);
            }
            catch (ArgumentException error)
            {
                throw new ArgumentException($"sentence {i} of the batch: {error.Message}", nameof(sentences), error);
            }
        }).ToList();
        var paddedLength = tokens.Max(t => t.Count);
        var padded = tokens.Select(t => (IReadOnlyList<string>)[.. t, .. Enumerable.Repeat(Vocabulary.PadToken, paddedLength - t.Count)]).ToList();
        var inputs = padded.Select(labels =>
        {
            var vectors = embeddings.Embed(labels);
            return positions ? PositionalEncoding.AddTo(vectors) : vectors;
        }).ToList();
        return new PaddedBatch(inputs, [.. tokens.Select(t => t.Count)], padded);
    }

    /// <summary>Pads given token-vector matrices with a padding vector (zeros by default).</summary>
    /// <param name="sequences">One [tokens x d_model] matrix per sentence, all with the same d_model.</param>
    /// <param name="padding">The vector for padding rows, length d_model, or null for zeros.</param>
    /// <returns>The batch, labelled with position numbers and <see cref="Vocabulary.PadToken"/>.</returns>
    /// <exception cref="ArgumentException">There are no sequences or their widths differ.</exception>
    public static PaddedBatch FromMatrices(IReadOnlyList<Matrix<double>> sequences, Vector<double>? padding = null)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0)
        {
            throw new ArgumentException("the batch has 0 sequences: give at least one matrix.", nameof(sequences));
        }

        var dModel = sequences[0].ColumnCount;
        for (var i = 0; i < sequences.Count; i++)
        {
            Check.Finite(sequences[i], $"sequence {i}", nameof(sequences));
            if (sequences[i].ColumnCount != dModel)
            {
                throw new ArgumentException(
                    $"sequence {i} is {Check.Shape(sequences[i])} but sequence 0 has {dModel} columns: every sentence of a batch needs the same d_model.",
                    nameof(sequences));
            }
        }

        if (padding is not null && padding.Count != dModel)
        {
            throw new ArgumentException($"the padding vector has length {padding.Count} but d_model is {dModel}: give one entry per column.", nameof(padding));
        }

        var paddedLength = sequences.Max(s => s.RowCount);
        var inputs = sequences.Select(sequence =>
        {
            var rows = Matrix<double>.Build.Dense(paddedLength, dModel);
            rows.SetSubMatrix(0, 0, sequence);
            for (var row = sequence.RowCount; row < paddedLength && padding is not null; row++)
            {
                rows.SetRow(row, padding);
            }

            return rows;
        }).ToList();
        var labels = sequences.Select(s => (IReadOnlyList<string>)[
            .. Enumerable.Range(0, s.RowCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            .. Enumerable.Repeat(Vocabulary.PadToken, paddedLength - s.RowCount)]).ToList();
        return new PaddedBatch(inputs, [.. sequences.Select(s => s.RowCount)], labels);
    }

    /// <summary>The padding mask of one sentence (see <see cref="Mask.Padding(int, int)"/>).</summary>
    /// <param name="sentence">Sentence index.</param>
    /// <returns>The [padded length x padded length] mask.</returns>
    public Mask PaddingMask(int sentence)
    {
        if ((uint)sentence >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(sentence), sentence, $"sentence {sentence} is not in this batch of {Count}: use 0 to {Count - 1}.");
        }

        return Mask.Padding(ValidLengths[sentence], PaddedLength);
    }
}
