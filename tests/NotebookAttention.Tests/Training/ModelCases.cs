using CsCheck;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>Which recurrent model a generated case builds.</summary>
public enum RecurrentKind
{
    /// <summary><see cref="ElmanRnnModel"/>.</summary>
    Elman,

    /// <summary><see cref="LstmModel"/>.</summary>
    Lstm,
}

/// <summary>A generated model and ragged, padded batch: sizes, lengths, token ids and targets (some unscored).</summary>
internal sealed record ModelCase(RecurrentKind Kind, RecurrentSettings Settings, int[][] Inputs, int[][] Targets, int PadId, int Seed, RecurrentPath Path)
{
    public SequenceBatch Batch => new(Inputs, Targets, Settings.VocabularySize, PadId);

    public RecurrentModel Build() => Build(Kind, Settings with { Path = Path });

    public static RecurrentModel Build(RecurrentKind kind, RecurrentSettings settings) =>
        kind == RecurrentKind.Elman ? new ElmanRnnModel(settings) : new LstmModel(settings);

    public override string ToString() =>
        $"{Kind} ({Path} path), V = {Settings.VocabularySize}, h = {Settings.Hidden}, e = {Settings.Embedding}, seed {Settings.Seed}, lengths [{string.Join(", ", Inputs.Select(s => s.Length))}]";
}

/// <summary>Generators of recurrent-model cases.</summary>
internal static class ModelCases
{
    /// <summary>
    /// Models of both kinds on either path with hidden 1-6, embedding 1-5, vocabulary 2-7, 1-4 sequences of 1-7 tokens
    /// (ragged, so padded), one target in four unscored.
    /// </summary>
    public static Gen<ModelCase> Small(int maxSequences = 4, int maxLength = 7) =>
        from kind in Gen.OneOf(Gen.Const(RecurrentKind.Elman), Gen.Const(RecurrentKind.Lstm))
        from hidden in Gen.Int[1, 6]
        from embedding in Gen.Int[1, 5]
        from vocabulary in Gen.Int[2, 7]
        from seed in Gen.Int[0, 1_000_000]
        from lengths in Gen.Int[1, maxLength].Array[1, maxSequences]
        from draws in Gen.Int[0, 1_000_000].Array[2 * lengths.Length * maxLength]
        from path in Gen.OneOf(Gen.Const(RecurrentPath.Reference), Gen.Const(RecurrentPath.Fast))
        select Make(kind, new RecurrentSettings(vocabulary, hidden, embedding, seed), lengths, draws, seed, path);

    private static ModelCase Make(RecurrentKind kind, RecurrentSettings settings, int[] lengths, int[] draws, int seed, RecurrentPath path)
    {
        var next = 0;
        var v = settings.VocabularySize;
        var inputs = lengths.Select(n => Enumerable.Range(0, n).Select(_ => draws[next++] % v).ToArray()).ToArray();
        var targets = lengths.Select(n => Enumerable.Range(0, n).Select(_ => draws[next] % 4 == 0 ? SequenceBatch.Ignored : draws[next++] % v).ToArray()).ToArray();
        return new ModelCase(kind, settings, inputs, targets, v - 1, seed, path);
    }
}
