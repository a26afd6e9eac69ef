using System.Globalization;

namespace NotebookAttention.Training;

/// <summary>
/// Reverse a digit sequence: the input is d_0 d_1 ... d_{len-1} (digits 0-9, a random length in
/// [<see cref="MinLength"/>, <see cref="MaxLength"/>]) and the target at position i is d_{len-1-i}, scored at every real
/// position. The ideal attention pattern is known: position i should look at position len-1-i, an anti-diagonal.
/// </summary>
/// <remarks>
/// Ids 0-9 are the digits themselves and id 10 is the padding id (shown as "·"). Sequences of one batch have different
/// lengths, so the batch is padded on the right and the model must ignore the padding. The answer at position 0 is the
/// <em>last</em> token, so a left-to-right recurrent network, which has not read it yet, cannot solve this task; a
/// transformer without a causal mask sees every position at once and can.
/// </remarks>
public sealed class ReverseTask : ISequenceTask
{
    private const int Digits = 10;

    /// <summary>A task whose sequences have between <paramref name="minLength"/> and <paramref name="maxLength"/> digits.</summary>
    /// <param name="minLength">Shortest sequence (at least 1).</param>
    /// <param name="maxLength">Longest sequence (at least <paramref name="minLength"/>).</param>
    public ReverseTask(int minLength, int maxLength)
    {
        Check.AtLeast(minLength, 1, "the shortest sequence length (minLength)", nameof(minLength));
        if (maxLength < minLength)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"the longest sequence length (maxLength) is {maxLength}, below the shortest ({minLength}): give maxLength >= minLength.");
        }

        MinLength = minLength;
        MaxLength = maxLength;
        Symbols = [.. Enumerable.Range(0, Digits).Select(d => d.ToString(CultureInfo.InvariantCulture)), "·"];
    }

    /// <summary>The shortest sequence the task generates.</summary>
    public int MinLength { get; }

    /// <inheritdoc />
    public int MaxLength { get; }

    /// <inheritdoc />
    public string Name => MinLength == MaxLength ? $"reverse, {MaxLength} digits" : $"reverse, {MinLength}-{MaxLength} digits";

    /// <inheritdoc />
    public int VocabularySize => Digits + 1;

    /// <inheritdoc />
    public int PadId => Digits;

    /// <inheritdoc />
    public IReadOnlyList<string> Symbols { get; }

    /// <inheritdoc />
    public SequenceBatch Sample(int batchSize, Random random) => SequenceBatch.Draw(batchSize, random, VocabularySize, PadId, random =>
    {
        var length = random.Next(MinLength, MaxLength + 1);
        var digits = new int[length];
        for (var i = 0; i < length; i++)
        {
            digits[i] = random.Next(Digits);
        }

        return (digits, [.. Enumerable.Range(0, length).Select(i => digits[length - 1 - i])]);
    });

    /// <inheritdoc />
    public IReadOnlyList<int> AnswerPositions(IReadOnlyList<int> sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        return [.. Enumerable.Range(0, sequence.Count).Select(i => sequence.Count - 1 - i)];
    }
}
