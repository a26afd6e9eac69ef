using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using System.Globalization;
using NotebookAttention.Attention;
using NotebookAttention.Training;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 09.</content>
public static partial class Exercises
{
    /// <summary>09 · Attention learns.</summary>
    public static class AttentionLearns
    {
        /// <summary>
        /// Exercise 1: softmax's backward pass for one row, written by the learner as a function (a, dA) → dS. It is
        /// tried on every row of the pictured head's attention at the first and the last snapshot of the notebook's run,
        /// each with a seeded upstream gradient dA, and on a row with a masked key (weight 0), against
        /// <see cref="Softmax.RowsBackward"/>.
        /// </summary>
        /// <param name="answer">The learner's function, or null while unanswered.</param>
        /// <param name="training">The notebook's run.</param>
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
                "dS_k = a_k (dA_k − Σ_j a_j dA_j): first one number, the mean of dA weighted by a; subtract it from every entry of dA, then multiply entry by entry by a.");
        }

        /// <summary>Untrained models drawn per task in exercise 2's check.</summary>
        public const int UntrainedModels = 24;

        /// <summary>Sequences each untrained model attends to in exercise 2's check.</summary>
        public const int SequencesPerModel = 8;

        /// <summary>Exercise 3's row of attention weights: two real keys, then two padding keys (masked, weight 0).</summary>
        public static IReadOnlyList<double> PaddedRow { get; } = [0.7, 0.3, 0, 0];

        /// <summary>Exercise 3's upstream gradient dA for that row: large on the padding keys.</summary>
        public static IReadOnlyList<double> PaddedUpstream { get; } = [0.2, -0.1, 5, -3];

        /// <summary>How far each entry of exercise 3's answer may be from dS (it is worked out by hand).</summary>
        public const double HandTolerance = 5e-4;

        /// <summary>
        /// Exercise 2: the share of weight on the right key before training, predicted as a formula in n (the sequence's
        /// length). It is checked against untrained models of the learner's kind (<paramref name="training"/>'s model
        /// settings, <see cref="UntrainedModels"/> seeds, <see cref="SequencesPerModel"/> sequences each, every head) on
        /// the learner's task and on reverse with n = 4, 8 and 12 and remember-the-first with L = 8 (n = 9, one scored
        /// query): for each, the mean of the formula over the sequences must lie within three standard errors (plus 0.01)
        /// of the measured mean share.
        /// </summary>
        /// <param name="answer">The learner's formula n → share, or null while unanswered.</param>
        /// <param name="training">The notebook's run (for its model's settings and task).</param>
        public static ExerciseResult ShareBeforeTraining(Func<int, double>? answer, TrainingView training)
        {
            ArgumentNullException.ThrowIfNull(training);
            if (training.Model is not TransformerModel model)
            {
                return new ExerciseResult("2", ExerciseStatus.Wrong, $"{training.Model.Name} has no attention: this exercise needs the transformer.");
            }

            var tasks = new List<ISequenceTask> { training.Task, new ReverseTask(4, 4), new ReverseTask(8, 8), new ReverseTask(12, 12), new RememberFirstTask(8) }
                .DistinctBy(task => task.Name).ToList();
            var measured = tasks.Select(task => UntrainedShares(model.Settings, task)).ToList();
            string? Mismatch(Func<int, double> formula)
            {
                foreach (var (task, samples) in tasks.Zip(measured))
                {
                    var mean = samples.Average(s => s.Share);
                    var predicted = samples.Average(s => formula(s.Length));
                    var spread = Math.Sqrt(samples.Sum(s => (s.Share - mean) * (s.Share - mean)) / (samples.Count - 1));
                    var tolerance = 3 * spread / Math.Sqrt(samples.Count) + 0.01;
                    if (!(Math.Abs(predicted - mean) <= tolerance))
                    {
                        return string.Create(CultureInfo.InvariantCulture, $"on {task.Name} your formula gives {predicted:0.000} on average, but untrained models measured {mean:0.000} (allowed error {tolerance:0.000}).");
                    }
                }

                return null;
            }

            string? found = null;
            var result = Exercise.Check(
                "2",
                answer,
                formula => (found = Mismatch(formula)) is null,
                "Look at the untrained picture: its rows are not flat. But does anything make the random weights prefer the right key over the other n − 1?");
            if (result.IsCorrect)
            {
                var means = string.Join("; ", tasks.Zip(measured).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.First.Name}: {p.Second.Average(x => x.Share):0.000}")));
                return new ExerciseResult("2", ExerciseStatus.Correct, $"right: untrained models put on average {means} of the weight on the right key, and your formula agrees with each.");
            }

            return found is null || result.Status != ExerciseStatus.Wrong ? result : new ExerciseResult("2", ExerciseStatus.Wrong, $"{found} {result.Message}");
        }

        /// <summary>
        /// Exercise 3: softmax's backward pass worked out by hand for a row with two masked padding keys
        /// (<see cref="PaddedRow"/>) and an upstream gradient that is large on them (<see cref="PaddedUpstream"/>).
        /// Checked entry by entry against <see cref="Softmax.RowsBackward"/> within <see cref="HandTolerance"/>.
        /// </summary>
        /// <param name="answer">dS for the four keys, or null while unanswered.</param>
        public static ExerciseResult MaskedKeyGradient(double[]? answer)
        {
            var a = Matrix<double>.Build.Dense(1, PaddedRow.Count, (_, j) => PaddedRow[j]);
            var dA = Matrix<double>.Build.Dense(1, PaddedUpstream.Count, (_, j) => PaddedUpstream[j]);
            var expected = Softmax.RowsBackward(a, dA).Row(0);
            return Exercise.Check(
                "3",
                answer,
                given => given.Length == expected.Count && given.Select((v, j) => Math.Abs(v - expected[j]) <= HandTolerance).All(ok => ok),
                "Give four numbers, one per key. First the weighted mean Σ_j a_j dA_j (the padding keys have a_j = 0), then dS_k = a_k (dA_k − mean).");
        }

        private static List<(int Length, double Share)> UntrainedShares(TransformerSettings kind, ISequenceTask task)
        {
            var samples = new List<(int Length, double Share)>();
            for (var seed = 1; seed <= UntrainedModels; seed++)
            {
                var model = new TransformerModel(kind with { VocabularySize = task.VocabularySize, MaxLength = task.MaxLength, Seed = 10_000 + seed });
                var batch = task.Sample(SequencesPerModel, new Random(20_000 + seed));
                for (var s = 0; s < batch.Count; s++)
                {
                    var tokens = batch.Inputs[s].Take(batch.Lengths[s]).ToList();
                    var answers = task.AnswerPositions(tokens);
                    var heads = model.AttentionWeights(tokens);
                    samples.Add((tokens.Count, heads.Average(w => AttentionShare.OnAnswers(w, answers))));
                }
            }

            return samples;
        }
    }
}
