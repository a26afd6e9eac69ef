using NotebookAttention.Recurrence;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 07.</content>
public static partial class Exercises
{
    /// <summary>07 · Long-range dependencies.</summary>
    public static class LongRange
    {
        /// <summary>Exercise 1: the maximum path length of a stack of dilated convolutions (k = 2) over 1,000 positions.</summary>
        /// <param name="answer">The learner's answer.</param>
        public static ExerciseResult DilatedPathAt1000(int? answer) =>
            Exercise.Check("1", answer, DependencyGraph.Build(Architecture.DilatedConvolution(2), 1000).MaximumPathLength(), "Each layer doubles the reach (1, 2, 4, ... positions back): how many doublings until the reach covers 999 positions back?");

        /// <summary>
        /// Exercise 2: ∂h_3/∂x_0 of the one-unit linear RNN h_t = w h_(t-1) + u x_t with w = 0.5 and u = 2, which the
        /// check measures by central differences on that recurrence.
        /// </summary>
        /// <param name="answer">The learner's answer.</param>
        public static ExerciseResult ChainRule(double? answer)
        {
            const double w = 0.5, u = 2, step = 1e-3;
            static double LastState(double x0)
            {
                double[] inputs = [x0, 0.3, -0.2, 0.7];
                var h = 0.0;
                foreach (var x in inputs)
                {
                    h = (w * h) + (u * x);
                }

                return h;
            }

            var measured = (LastState(step) - LastState(-step)) / (2 * step);
            return Exercise.Check("2", answer, measured, 1e-6, "Chain rule: ∂h_3/∂x_0 = ∂h_3/∂h_2 · ∂h_2/∂h_1 · ∂h_1/∂h_0 · ∂h_0/∂x_0; each ∂h_t/∂h_(t-1) is w, and ∂h_0/∂x_0 is u.");
        }

        /// <summary>
        /// Exercise 3: the median over the seeds of the far-half rate per step of the RNN with spectral radius 1.3, in
        /// the learner's own measurement with inputs 100 times larger (input scale at least 0.5), to two decimals.
        /// </summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="measured">The learner's measurement, with an RNN of spectral radius 1.3 and an input scale of at least 0.5.</param>
        public static ExerciseResult RadiusAboveOne(double? answer, GradientComparison measured)
        {
            ArgumentNullException.ThrowIfNull(measured);
            var row = measured.Recurrent.FirstOrDefault(r => Math.Abs(r.SpectralRadius - 1.3) < 1e-9);
            if (row is null || measured.InputScale < 0.5)
            {
                return Exercise.Check("3", answer, double.NaN, 0.005, "measure with radii: [1.3] and inputScale: 1, as the cell says, then answer.");
            }

            return Exercise.Check("3", answer, row.MedianLateRate, 0.005, "Read the far-half column of the table this cell shows (the median, before the brackets), to two decimals.");
        }
    }
}
