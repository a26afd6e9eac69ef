using NotebookAttention.Attention;
using NotebookAttention.Cost;
using NotebookAttention.Fast;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 06.</content>
public static partial class Exercises
{
    /// <summary>06 · The price of attention.</summary>
    public static class Cost
    {
        /// <summary>
        /// Exercise 1: the smallest n from which linear attention does fewer FLOPs than exact attention at
        /// d = d_v = 64 (<see cref="FastLinearAttention.Flops"/> against <see cref="AttentionCost.Flops"/>).
        /// </summary>
        /// <param name="answer">The learner's n.</param>
        public static ExerciseResult LinearBeatsExactFrom(int? answer)
        {
            var n = 1;
            while (FastLinearAttention.Flops(n, 64, 64) >= AttentionCost.Flops(n, 64))
            {
                n++;
            }

            return Exercise.Check("1", answer, n, "Exact attention does 4n²d FLOPs, linear attention 4n·d·d_v + 3n·d: divide both by 4n·d and compare n with d_v (plus a little for the denominators).");
        }

        /// <summary>
        /// Exercise 2: the largest window w whose sliding window keeps at most half of the n² query-key pairs of the
        /// learner's sentence (<see cref="FastSlidingWindow.VisiblePairs"/>), or 0 when even w = 0 keeps more.
        /// </summary>
        /// <param name="answer">The learner's w.</param>
        /// <param name="tokens">Tokens in the learner's sentence.</param>
        public static ExerciseResult HalfWindow(int? answer, int tokens)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
            var largest = Enumerable.Range(0, tokens).LastOrDefault(w => FastSlidingWindow.VisiblePairs(tokens, w) <= tokens * (double)tokens / 2);
            return Exercise.Check("2", answer, largest, $"Each of the {tokens} tokens sees up to 2w + 1 tokens, so the window keeps about n(2w + 1) of n² pairs, a little less at the ends. Solve n(2w + 1) = n²/2 for w, then check your w and w + 1 with FastSlidingWindow.VisiblePairs.");
        }

        /// <summary>
        /// Exercise 3: the online softmax's running sum after a block: l = 2.5 kept against m = 3, a new block with
        /// maximum 5 whose terms e^(s - 5) sum to 1.2 (<see cref="TiledAttention.Rescale"/>).
        /// </summary>
        /// <param name="answer">The learner's new running sum.</param>
        public static ExerciseResult RescaledSum(double? answer) =>
            Exercise.Check("3", answer, (2.5 * TiledAttention.Rescale(3, 5)) + 1.2, 0.001, "The old terms were e^(s - 3); against the new maximum they are e^(s - 5) = e^(s - 3) · e^(3 - 5). Rescale the old sum, then add the new block's.");
   
        /// <summary>
        /// Exercise 4: with one key per block, how many times the running sum of the learner's traced row is rescaled
        /// by a factor below 1 after its first allowed key: once for every key whose score beats every allowed score
        /// before it (computed from the trace's scores with <see cref="TiledAttention.Rescale"/>).
        /// </summary>
        /// <param name="answer">The learner's count.</param>
        /// <param name="trace">The row traced in the notebook (any block size: its scores are the row's scores).</param>
        public static ExerciseResult RescalesOneKeyAtATime(int? answer, OnlineSoftmaxTrace trace)
        {
            ArgumentNullException.ThrowIfNull(trace);
            var m = double.NegativeInfinity;
            var rescales = 0;
            foreach (var score in trace.Blocks.SelectMany(block => block.Scores))
            {
                var next = Math.Max(m, score);
                rescales += !double.IsNegativeInfinity(m) && TiledAttention.Rescale(m, next) < 1 ? 1 : 0;
                m = next;
            }

            return Exercise.Check("4", answer, rescales, "A block of one key rescales the running sum only when its score is larger than every score before it: go through the row's scores from left to right and count the new records, not counting the first key.");
        }
    }
}
