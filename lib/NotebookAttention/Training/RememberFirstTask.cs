using System.Globalization;

namespace NotebookAttention.Training;

/// <summary>
/// The long-range task: remember the first token across L steps. A sequence is
/// [signal, L-1 distractors, '?'], L + 1 tokens: the signal is one of the 8 symbols 'a'..'h', the distractors are digits
/// 0-9, and at the '?' (position L, exactly L positions after the signal at position 0) the model must output the
/// signal. Only that position is scored; a model that guesses is right 1 time in 8.
/// </summary>
/// <remarks>
/// The signals and the distractors are disjoint sets of ids, so attention can find the signal by its content alone: one
/// query from '?' whose key matches the letters reaches position 0 in one step, whatever L is. A recurrent network has
/// no such shortcut: the signal must survive L updates of its state, and the gradient that teaches it to keep the
/// signal must travel back through those same L steps, where it vanishes or explodes (Elman) or is carried by the
/// cell state (LSTM). Ids: 0-9 digits, 10-17 'a'..'h', 18 '?', 19 padding ("·"). Every sequence of one task has the
/// same length L + 1, so its batches have no padding.
/// </remarks>
public sealed class RememberFirstTask : ISequenceTask
{
    /// <summary>The longest distance allowed: the reference models keep every state, [L x hidden] per sequence.</summary>
    public const int MaxDistance = 100_000;

    /// <summary>The 8 signal symbols 'a'..'h'.</summary>
    public const int Signals = 8;

    /// <summary>The 10 distractor digits 0-9 (ids 0-9).</summary>
    public const int Digits = 10;

    /// <summary>A task whose answer lies <paramref name="distance"/> positions back.</summary>
    /// <param name="distance">L, the distance from the signal (position 0) to the '?' (position L), at least 1.</param>
    public RememberFirstTask(int distance)
    {
        if (distance < 1 || distance > MaxDistance)
        {
            throw new ArgumentOutOfRangeException(nameof(distance), distance, $"the distance L is {distance}: it must be between 1 (the '?' right after the signal) and {MaxDistance:N0}.");
        }

        Distance = distance;
        Symbols = [.. Enumerable.Range(0, Digits).Select(d => d.ToString(CultureInfo.InvariantCulture)), .. Enumerable.Range(0, Signals).Select(s => ((char)('a' + s)).ToString()), "?", "·"];
    }

    /// <summary>L: the '?' sits L positions after the signal.</summary>
    public int Distance { get; }

    /// <summary>The id of the '?' token, where the answer is asked for.</summary>
    public const int QueryId = Digits + Signals;

    /// <summary>The id of the first signal, 'a'; the signals are this id and the next 7.</summary>
    public const int FirstSignalId = Digits;

    /// <inheritdoc />
    public string Name => $"remember the first token, L = {Distance}";

    /// <inheritdoc />
    public int VocabularySize => Digits + Signals + 2;

    /// <inheritdoc />
    public int PadId => Digits + Signals + 1;

    /// <inheritdoc />
    public int MaxLength => Distance + 1;

    /// <inheritdoc />
    public IReadOnlyList<string> Symbols { get; }

    /// <inheritdoc />
    public SequenceBatch Sample(int batchSize, Random random) => SequenceBatch.Draw(batchSize, random, VocabularySize, PadId, random =>
    {
        var tokens = new int[Distance + 1];
        var target = new int[Distance + 1];
        Array.Fill(target, SequenceBatch.Ignored);
        tokens[0] = FirstSignalId + random.Next(Signals);
        for (var i = 1; i < Distance; i++)
        {
            tokens[i] = random.Next(Digits);
        }

        tokens[Distance] = QueryId;
        target[Distance] = tokens[0];
        return (tokens, target);
    });

    /// <inheritdoc />
    /// <remarks>Every position is unscored except the '?', whose answer is position 0 (the signal).</remarks>
    public IReadOnlyList<int> AnswerPositions(IReadOnlyList<int> sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        return [.. Enumerable.Range(0, sequence.Count).Select(i => sequence[i] == QueryId ? 0 : SequenceBatch.Ignored)];
    }
}
