using System.Globalization;
using System.Net;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Training;

namespace NotebookAttention.Notebooks;

/// <summary>One way of running a short sequence, and what it gave.</summary>
/// <param name="Label">How the sequence was run.</param>
/// <param name="Loss">The loss of the short sequence's scored positions.</param>
/// <param name="LossChange">|loss - loss of the sequence alone|.</param>
/// <param name="GradientChange">The largest |difference| of any parameter's gradient from the sequence alone.</param>
/// <param name="PaddingGradient">The largest norm of the gradient reaching a padding position's input vector (0 when there is none).</param>
public sealed record PaddingRow(string Label, double Loss, double LossChange, double GradientChange, double PaddingGradient);

/// <summary>
/// The article's remark on masks and training, measured: a short sequence's loss and gradients alone, padded in a batch
/// with its padding masked, and padded with the padding read as ordinary tokens (no mask). With the mask, padding changes
/// nothing and the padding positions receive exactly zero gradient; without it, both change.
/// </summary>
/// <remarks>
/// The padded batch holds the short sequence and a longer one from the task whose targets are all ignored, so only the
/// short sequence is scored and the longer one contributes exactly nothing to the loss or to any gradient: the batch's
/// gradient reaching position t is the short sequence's alone. The short sequence is the first tokens of one the task
/// generated, with the targets the task's answer positions give it.
/// </remarks>
public sealed class PaddingDemonstration
{
    private PaddingDemonstration(IReadOnlyList<int> shortSequence, int paddedLength, IReadOnlyList<PaddingRow> rows)
    {
        ShortSequence = shortSequence;
        PaddedLength = paddedLength;
        Rows = rows;
    }

    /// <summary>The short sequence's token ids.</summary>
    public IReadOnlyList<int> ShortSequence { get; }

    /// <summary>The length it is padded to.</summary>
    public int PaddedLength { get; }

    /// <summary>Alone, padded with the mask, padded without it.</summary>
    public IReadOnlyList<PaddingRow> Rows { get; }

    /// <summary>Whether padding with the mask changed neither the loss nor any gradient by more than <paramref name="tolerance"/>, and the padding got zero gradient.</summary>
    /// <param name="tolerance">Allowed rounding (different summation order in a batch).</param>
    /// <returns>True when the mask made padding invisible.</returns>
    public bool MaskedPaddingChangesNothing(double tolerance = 1e-12) =>
        Rows[1].LossChange <= tolerance && Rows[1].GradientChange <= tolerance && Rows[1].PaddingGradient == 0;

    /// <summary>Runs the three cases on <paramref name="model"/> (its gradients are left at zero afterwards).</summary>
    /// <param name="model">The model.</param>
    /// <param name="task">The task that supplies the sequences.</param>
    /// <param name="seed">Seed of the sequences drawn.</param>
    /// <exception cref="ArgumentException">The task's sequences are too short to be cut (fewer than 2 tokens).</exception>
    public static PaddingDemonstration Run(ISequenceModel model, ISequenceTask task, int seed = 4)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(task);
        var random = new Random(seed);
        SequenceBatch drawn;
        do
        {
            drawn = task.Sample(1, random);
        }
        while (drawn.Lengths[0] < 2 && task.MaxLength >= 2);

        var full = drawn.Inputs[0].Take(drawn.Lengths[0]).ToList();
        if (full.Count < 2)
        {
            throw new ArgumentException($"{task.Name} makes sequences of 1 token: there is nothing to pad. Use a task with longer sequences.", nameof(task));
        }

        var shortLength = Math.Max(1, full.Count - 2);
        var shortSequence = full.Take(shortLength).ToList();
        var shortTargets = Targets(task, shortSequence);
        var unscored = full.Select(_ => SequenceBatch.Ignored).ToList();

        var alone = Measure(model, new SequenceBatch([shortSequence], [shortTargets], task.VocabularySize, task.PadId), shortLength);
        var masked = Measure(model, new SequenceBatch([shortSequence, full], [shortTargets, unscored], task.VocabularySize, task.PadId), shortLength);
        var padsAsTokens = shortSequence.Concat(Enumerable.Repeat(task.PadId, full.Count - shortLength)).ToList();
        var padTargets = shortTargets.Concat(Enumerable.Repeat(SequenceBatch.Ignored, full.Count - shortLength)).ToList();
        var unmasked = Measure(model, new SequenceBatch([padsAsTokens], [padTargets], task.VocabularySize, task.PadId), shortLength);

        PaddingRow Row(string label, (double Loss, Matrix<double>[] Gradients, double PaddingGradient) run) => new(
            label,
            run.Loss,
            Math.Abs(run.Loss - alone.Loss),
            run.Gradients.Zip(alone.Gradients).Max(p => (p.First - p.Second).Enumerate().Select(Math.Abs).DefaultIfEmpty(0).Max()),
            run.PaddingGradient);
        var n = full.Count;
        return new PaddingDemonstration(
            shortSequence,
            n,
            [
                Row($"alone ({shortLength} tokens)", alone),
                Row($"padded to {n}, padding masked", masked),
                Row($"padded to {n}, padding read as tokens (no mask)", unmasked),
            ]);
    }

    /// <summary>The three cases as a table.</summary>
    public TableView Table()
    {
        static string E(double value) => value.ToString("0.00E+00", CultureInfo.InvariantCulture);
        var html = NotebookAttention.Notebooks.Table.Of(
            ["run", "loss", "loss change", "largest gradient change", "largest gradient at a padding position"],
            [.. Rows.Select(r => r.Label)],
            [.. Rows.Select((r, i) => (IReadOnlyList<string>)[r.Loss.ToString("0.000000", CultureInfo.InvariantCulture), E(r.LossChange), E(r.GradientChange), i == 0 ? "— (no padding)" : E(r.PaddingGradient)])]);
        var verdict = MaskedPaddingChangesNothing()
            ? "With the mask, padding changed neither the loss nor any gradient beyond rounding, and the padding positions received exactly zero gradient."
            : "With the mask, padding still changed something: the mask is not doing its job.";
        return new TableView($"A sequence of {ShortSequence.Count} tokens, alone and padded to {PaddedLength}", html + $"<p class=\"na-padding-verdict\">{WebUtility.HtmlEncode(verdict)}</p>");
    }

    private static int[] Targets(ISequenceTask task, List<int> sequence)
    {
        var answers = task.AnswerPositions(sequence);
        return [.. answers.Select(a => a >= 0 && a < sequence.Count ? sequence[a] : SequenceBatch.Ignored)];
    }

    private static (double Loss, Matrix<double>[] Gradients, double PaddingGradient) Measure(ISequenceModel model, SequenceBatch batch, int realLength)
    {
        foreach (var parameter in model.Parameters)
        {
            parameter.ZeroGradient();
        }

        var outcome = model.LossAndGradients(batch);
        var gradients = model.Parameters.Select(p => p.Gradient.Clone()).ToArray();
        foreach (var parameter in model.Parameters)
        {
            parameter.ZeroGradient();
        }

        // The outcome's norms are means over the batch's sequences; only the first is scored, the others add exactly 0.
        var padding = outcome.InputGradientNorms.Skip(realLength).Select(norm => norm * batch.Count).DefaultIfEmpty(0).Max();
        return (outcome.Loss, gradients, padding);
    }
}
