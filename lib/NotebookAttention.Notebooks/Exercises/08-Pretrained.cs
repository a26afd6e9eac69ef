using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Cost;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 08.</content>
public static partial class Exercises
{
    /// <summary>08 · Attention in a pretrained model.</summary>
    public static class Pretrained
    {
        /// <summary>Exercise 1: the length at which attention's core costs as much as a layer's projections and FFN.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="dModel">The model width the exercise names.</param>
        /// <param name="ffnWidth">The FFN width the exercise names.</param>
        /// <returns>The verdict, checked against <see cref="AttentionCost.AttentionCrossover"/>.</returns>
        public static ExerciseResult Crossover(int? answer, int dModel, int ffnWidth) =>
            Exercise.Check("1", answer, (int)AttentionCost.AttentionCrossover(dModel, ffnWidth),
                "Set the core's 4·n²·d equal to the projections' 8·n·d² plus the FFN's 4·n·d·f and solve for n.");

        /// <summary>Exercise 2: how many whole words of a text that is too long the model reads, reasoned out before looking.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="pieces">The pieces of the encoded text ([CLS] first).</param>
        /// <param name="validLength">The pieces the model read.</param>
        /// <returns>The verdict: the words are the read pieces that are neither special ([CLS], [SEP]) nor continuations (##).</returns>
        public static ExerciseResult WordsRead(int? answer, IReadOnlyList<string> pieces, int validLength)
        {
            ArgumentNullException.ThrowIfNull(pieces);
            var words = pieces.Take(validLength).Count(p => p is not (HeadTraits.ClassifierToken or HeadTraits.SeparatorToken) && !p.StartsWith("##", StringComparison.Ordinal));
            return Exercise.Check("2", answer, words, "The text is cut to the limit Sentence Transformers uses for this model, and [CLS] and [SEP] take two of those places; \"attention\" is one piece.");
        }

        /// <summary>
        /// Exercise 3: the [CLS] share the traits table gives a head that sends every query's whole weight to [CLS],
        /// for the learner's own pieces; measured here on such a head built over them.
        /// </summary>
        /// <param name="answer">The learner's answer (a number, or an expression in the number of pieces).</param>
        /// <param name="tokens">The learner's word pieces, [CLS] first.</param>
        /// <param name="validLength">The number of real pieces.</param>
        /// <returns>The verdict.</returns>
        /// <exception cref="ArgumentException">The pieces hold no [CLS].</exception>
        public static ExerciseResult AllOnClassifierShare(double? answer, IReadOnlyList<string> tokens, int validLength)
        {
            ArgumentNullException.ThrowIfNull(tokens);
            var cls = tokens.ToList().IndexOf(HeadTraits.ClassifierToken);
            if (cls < 0)
            {
                throw new ArgumentException("the pieces hold no [CLS]: pass the model's pieces (encoded.Tokens).", nameof(tokens));
            }

            var weights = Matrix<double>.Build.Dense(tokens.Count, tokens.Count, (i, j) => i < validLength && j == cls ? 1.0 : 0.0);
            var measured = HeadTraits.Measure(weights, 0, 0, tokens, validLength).Classifier;
            return Exercise.Check("3", answer, measured, 1e-9,
                "Go through the query pieces one by one: which column does each one's weight on [CLS] land in, given the order same, previous, next, [CLS]? Then divide by the mass, one per real piece.");
        }
    }
}
