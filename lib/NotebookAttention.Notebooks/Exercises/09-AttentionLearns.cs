using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using NotebookAttention.Attention;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 09.</content>
public static partial class Exercises
{
    /// <summary>09 · Attention learns.</summary>
    public static class AttentionLearns
    {
        /// <summary>How far a predicted share may be from the measured one in exercise 2.</summary>
        public const double ShareTolerance = 0.05;

        /// <summary>
        /// Exercise 1: softmax's backward pass for one row, written by the learner as a function (a, dA) → dS. It is
        /// tried on every row of the pictured head's attention at the first and the last snapshot of the notebook's run,
        /// each with a seeded upstream gradient dA, and on a row with a masked key (weight 0), against
        /// <see cref="Softmax.RowsBackward"/>.
        /// </summary>
        /// <param name="answer">The learner's function, or null while unanswered.</param>
        /// <param name="training">The notebook's run.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult SoftmaxBackward(Func<Vector<double>, Vector<double>, Vector<double>>? answer, TrainingView training)
        {
            ArgumentNullException.ThrowIfNull(training);
            var frames = training.Frames(training.BestHead);
            var rows = frames[0].Weights.EnumerateRows().Concat(frames[^1].Weights.EnumerateRows()).ToList();
            rows.Add(Vector<double>.Build.DenseOfArray([0.5, 0, 0.3, 0.2]));
            var random = new Xoshiro256StarStar(9, threadSafe: false);
            var cases = rows.Select(a => (A: a, DA: Vector<double>.Build.Dense(a.Count, _ => Normal.Sample(random, 0, 1)))).ToList();
            return Exercise.Check(
                "1",
                answer,
                backward => cases.All(c =>
                {
                    var expected = Softmax.RowsBackward(c.A.ToRowMatrix(), c.DA.ToRowMatrix()).Row(0);
                    var given = backward(c.A, c.DA);
                    return given is not null && given.Count == expected.Count && (given - expected).AbsoluteMaximum() <= Tight;
                }),
                "dS_k = a_k (dA_k - Σ_j dA_j a_j): first the weighted mean of dA under a (one number, a.DotProduct(dA)), then subtract it from dA and multiply entry by entry by a (PointwiseMultiply).");
        }

        /// <summary>
        /// Exercise 2: the share of weight on the right key before training, predicted. Right when it is within
        /// <see cref="ShareTolerance"/> of the share the run measured at step 0 on its probe.
        /// </summary>
        /// <param name="answer">The learner's prediction, from 0 to 1, or null while unanswered.</param>
        /// <param name="training">The notebook's run.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult ShareBeforeTraining(double? answer, TrainingView training)
        {
            ArgumentNullException.ThrowIfNull(training);
            var share = training.Share();
            if (share.FirstStep != 0)
            {
                return new ExerciseResult("2", ExerciseStatus.Wrong, $"the run's first picture is at step {share.FirstStep}, not before training: run the training cell again from a new model.");
            }

            return Exercise.Check(
                "2",
                answer,
                share.First,
                ShareTolerance,
                $"Untrained scores are small and nearly equal, so softmax spreads each query's weight almost evenly over the {share.Length} keys, one of which is the right one.");
        }

        /// <summary>
        /// Exercise 3: the largest gradient that reaches a padding position when the padding is masked, predicted. Checked
        /// against the padding demonstration's measured number.
        /// </summary>
        /// <param name="answer">The learner's prediction, or null while unanswered.</param>
        /// <param name="padding">The notebook's padding demonstration.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult PaddingGradient(double? answer, PaddingDemonstration padding)
        {
            ArgumentNullException.ThrowIfNull(padding);
            return Exercise.Check(
                "3",
                answer,
                padding.Rows[1].PaddingGradient,
                Tight,
                "With the mask, no real query gives a padding key any weight and padding positions are not scored: follow the gradient backwards from the loss and see whether any path reaches a padding position.");
        }
    }
}
