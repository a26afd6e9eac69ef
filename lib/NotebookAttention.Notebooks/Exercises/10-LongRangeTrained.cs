using NotebookAttention.Training;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 10.</content>
public static partial class Exercises
{
    /// <summary>10 · Long-range dependencies, trained.</summary>
    public static class LongRangeTrained
    {
        /// <summary>
        /// Exercise 1: by what factor the n x n part of attention's work (scores and weighted sum, ∝ n²) grows from the
        /// experiment's second-longest distance to its longest, (n₂ / n₁)², with n from the experiment's own table.
        /// </summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="experiment">The notebook's experiment (at least two distances).</param>
        public static ExerciseResult QuadraticGrowth(double? answer, LongRangeExperiment experiment)
        {
            ArgumentNullException.ThrowIfNull(experiment);
            var report = experiment.Report;
            if (report.Distances.Count < 2)
            {
                return Exercise.Check("1", answer, double.NaN, 0.05, "this experiment has one distance: run it with at least two.");
            }

            var (shorter, longer) = (report.Length(report.Distances[^2]), report.Length(report.Distances[^1]));
            var expected = Math.Pow((double)longer / shorter, 2);
            return Exercise.Check("1", answer, expected, 0.01 * expected, FormattableString.Invariant($"n goes from {shorter} to {longer} tokens: work that grows like n² grows by the square of that ratio."));
        }

        /// <summary>
        /// Exercise 2: the LSTM's learned scalars with the notebook's vocabulary and embedding but a state of h = 64,
        /// counted by the check on a model built with those sizes.
        /// </summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="settings">The notebook's settings (its embedding size is used; h is 64).</param>
        public static ExerciseResult LstmParameters(int? answer, LongRangeSettings settings)
        {
            ArgumentNullException.ThrowIfNull(settings);
            var vocabulary = new RememberFirstTask(1).VocabularySize;
            var lstm = new LstmModel(new RecurrentSettings(vocabulary, 64, settings.Embedding, settings.Seed));
            return Exercise.Check("2", answer, lstm.ParameterCount, FormattableString.Invariant($"Add the embedding V·e, the four gates' W_x [e x 4h], W_h [h x 4h] and b [1 x 4h], and the readout W_y [h x V] and b_y [1 x V], with V = {vocabulary}, e = {settings.Embedding}, h = 64."));
        }

        /// <summary>
        /// Exercise 3: the shortest L from which the Elman RNN was at chance at every longer L of the learner's table, or 0
        /// when it was still above chance at the longest (the report's own rule, <see cref="LongRangeReport.AtChanceFrom"/>).
        /// </summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="experiment">The notebook's experiment.</param>
        public static ExerciseResult ElmanAtChanceFrom(int? answer, LongRangeExperiment experiment)
        {
            ArgumentNullException.ThrowIfNull(experiment);
            var report = experiment.Report;
            var elman = report.RecurrentModels.FirstOrDefault(m => m.Contains("Elman", StringComparison.Ordinal));
            if (elman is null)
            {
                return Exercise.Check("3", answer, -1, "this experiment trained no Elman RNN: run the notebook's experiment.");
            }

            return Exercise.Check("3", answer, report.AtChanceFrom(elman) ?? 0, FormattableString.Invariant($"In the table, find the Elman RNN's rows whose share right is at most {LongRangeReport.Percent(report.ChanceLimit)}; the answer is the L from which every longer L is such a row (0 if the longest is not)."));
        }

        /// <summary>
        /// Exercise 4: the longest L up to which the LSTM held (at least 95% right at every L up to it) in the learner's
        /// own experiment run with another forget-gate bias, or 0 when it did not hold at the shortest L
        /// (<see cref="LongRangeReport.HeldUpTo"/> on the learner's experiment). Unanswered until both the experiment and
        /// the answer are given; an experiment with the notebook's bias of 1 is sent back (the point is to change it).
        /// </summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="mine">The learner's experiment, e.g. run with <c>settings with { ForgetBias = 3 }</c>.</param>
        public static ExerciseResult LstmHeldUpTo(int? answer, LongRangeExperiment? mine)
        {
            if (mine is null)
            {
                return Exercise.Check("4", (int?)null, 0, string.Empty);
            }

            var lstm = mine.Report.RecurrentModels.FirstOrDefault(m => m.Contains("LSTM", StringComparison.Ordinal));
            if (lstm is null)
            {
                return Exercise.Check("4", answer, int.MinValue, "your experiment trained no LSTM: run LongRangeExperiment.Run with the notebook's models.");
            }

            if (mine.Settings.ForgetBias == 1.0)
            {
                return Exercise.Check("4", answer, int.MinValue, "your experiment kept the forget-gate bias at 1: run it with settings with { ForgetBias = 3 }.");
            }

            return Exercise.Check("4", answer, mine.Report.HeldUpTo(lstm) ?? 0, FormattableString.Invariant($"In your experiment's table (mine.Report), the LSTM's share right must be at least {LongRangeReport.Percent(LongRangeReport.SolvedShare)} at every L up to the answer; the next L is below."));
        }
    }
}
