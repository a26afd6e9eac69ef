using NotebookAttention.Attention;
using NotebookAttention.Batches;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 04.</content>
public static partial class Exercises
{
    /// <summary>04 · Masking.</summary>
    public static class Masking
    {
        /// <summary>Longest valid length the formula of exercise 1 is tried on, beyond the batch's own sentences.</summary>
        public const int LongestTried = 64;

        /// <summary>
        /// Exercise 1: the number of allowed cells of <c>padding &amp; causal</c> as a formula of a sentence's valid
        /// length L. It is checked against the real masks of every sentence of <paramref name="batch"/> and of every
        /// L from 1 to <see cref="LongestTried"/>, padded to <see cref="LongestTried"/>.
        /// </summary>
        /// <param name="answer">The learner's formula, L to the number of ■ cells, or null while unanswered.</param>
        /// <param name="batch">The notebook's padded batch.</param>
        public static ExerciseResult AllowedCells(Func<int, int>? answer, PaddedBatch batch)
        {
            ArgumentNullException.ThrowIfNull(batch);
            var cases = Enumerable.Range(0, batch.Count).Select(s => (batch.ValidLengths[s], batch.PaddedLength))
                .Concat(Enumerable.Range(1, LongestTried).Select(length => (length, LongestTried)));
            return Exercise.Check(
                "1",
                answer,
                formula => cases.All(c => formula(c.Item1) == AllowedCount(Mask.Padding(c.Item1, c.Item2) & Mask.Causal(c.Item2))),
                "Count row by row: real token i may see keys 0 to i, padding rows see nothing. Add up 1 + 2 + ... + L.");
        }

        /// <summary>
        /// Exercise 2: the rows of a left-padded sentence that see no key at all when only the padding keys are
        /// masked (as PyTorch and Hugging Face do) and a causal mask is added.
        /// </summary>
        /// <param name="answer">The learner's rows, in any order, or null while unanswered.</param>
        /// <param name="batch">The notebook's padded batch.</param>
        /// <param name="sentence">The sentence the learner reasons about.</param>
        public static ExerciseResult LeftPaddedCausalEmptyRows(int[]? answer, PaddedBatch batch, int sentence)
        {
            ArgumentNullException.ThrowIfNull(batch);
            var mask = LeftKeyPadding(batch.ValidLengths[sentence], batch.PaddedLength) & Mask.Causal(batch.PaddedLength);
            var empty = Enumerable.Range(0, mask.Queries).Where(mask.IsFullyMasked).ToHashSet();
            return Exercise.Check(
                "2",
                answer,
                rows => rows.Length == empty.Count && empty.SetEquals(rows),
                $"With left padding the {batch.PaddedLength - batch.ValidLengths[sentence]} padding tokens come first. Row i may look at keys 0 to i only: which rows find only padding there?");
        }

        /// <summary>The key-padding mask of a sentence padded on the left: every query sees the real keys only, which come last.</summary>
        /// <param name="validLength">Real tokens.</param>
        /// <param name="paddedLength">Padded length.</param>
        public static Mask LeftKeyPadding(int validLength, int paddedLength) =>
            Mask.FromFunction(paddedLength, paddedLength, (_, key) => key >= paddedLength - validLength);

        private static int AllowedCount(Mask mask) => (int)mask.ToMatrix().Enumerate().Sum();
    }
}
