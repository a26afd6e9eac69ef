using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Analysis;
using NotebookAttention.Cost;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 08.</content>
public static partial class Exercises
{
    /// <summary>08 · Attention in a pretrained model.</summary>
    public static class Pretrained
    {
        /// <summary>
        /// Exercise 1: the length at which attention's core costs as many FLOPs as a layer's projections and a gated
        /// FFN with three d x f matrices (6 n d f FLOPs): 4 n² d = 8 n d² + 6 n d f, so n = 2d + 1.5 f.
        /// </summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="dModel">The model width the exercise names.</param>
        /// <param name="ffnWidth">The gated FFN's width the exercise names.</param>
        /// <returns>The verdict, checked against the FLOP counts of <see cref="AttentionCost.Layer"/> with the FFN's share scaled from two matrices to three.</returns>
        public static ExerciseResult GatedCrossover(int? answer, int dModel, int ffnWidth)
        {
            // At n = 1 the core is 4 d and the rest 8 d² + 6 d f; the core grows with n², the rest with n, so they
            // meet at n = rest / core(1). A gated FFN has three matrices where AttentionCost.Layer counts two.
            var atOne = AttentionCost.Layer(1, dModel, ffnWidth);
            var crossover = (atOne.Projections + (1.5 * atOne.FeedForward)) / atOne.AttentionCore;
            return Exercise.Check("1", answer, (int)Math.Round(crossover),
                "Write the core's FLOPs and the rest's (the projections as before, the FFN now with three matrices instead of two), set them equal and solve for n.");
        }

        /// <summary>
        /// Exercise 2: how many whole words of a text that is too long the model reads, reasoned out before looking.
        /// A word is what the tokenizer splits before cutting words into pieces (it splits off punctuation, so
        /// "don't." is four: don ' t .): a piece that is neither special nor a continuation (##) starts one, and the
        /// word counts only if all its pieces were read.
        /// </summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="allPieces">Every piece of the text, not cut ([CLS] first, [SEP] last).</param>
        /// <param name="validLength">The pieces the model read, [CLS] and [SEP] included: the cut keeps [CLS], the first validLength - 2 pieces and [SEP].</param>
        /// <exception cref="ArgumentException">The read length is outside the pieces.</exception>
        public static ExerciseResult WordsRead(int? answer, IReadOnlyList<string> allPieces, int validLength)
        {
            ArgumentNullException.ThrowIfNull(allPieces);
            if (validLength < 2 || validLength > allPieces.Count)
            {
                throw new ArgumentException($"the model read {validLength} pieces of {allPieces.Count}: pass every piece of the text (model.Tokenizer.Encode(text, maxTokens: 512).Tokens) and the cut result's ValidLength.", nameof(allPieces));
            }

            var lastRead = validLength - 2;       // pieces 1 .. validLength - 2 of the text were read
            static bool Special(string p) => p is HeadTraits.ClassifierToken or HeadTraits.SeparatorToken;
            static bool Continues(string p) => p.StartsWith("##", StringComparison.Ordinal);
            var words = Enumerable.Range(1, Math.Max(0, lastRead)).Count(i =>
            {
                if (Special(allPieces[i]) || Continues(allPieces[i]))
                {
                    return false;
                }

                var end = i + 1;
                while (end < allPieces.Count && Continues(allPieces[end]))
                {
                    end++;
                }

                return end - 1 <= lastRead;
            });
            return Exercise.Check("2", answer, words,
                "The text is cut to the limit Sentence Transformers uses for this model, and [CLS] and [SEP] take two of those places; then count how many pieces each word needs.");
        }

        /// <summary>
        /// Exercise 3: the "next token" share the traits table gives a head in which every query piece sends its whole
        /// weight to the piece after it ([SEP], the last, to itself), for the learner's own pieces; measured here on
        /// such a head built over them.
        /// </summary>
        /// <param name="answer">The learner's answer (a number, or an expression in the number of pieces).</param>
        /// <param name="tokens">The learner's word pieces, [CLS] first.</param>
        /// <param name="validLength">The number of real pieces ([SEP] is the last of them).</param>
        /// <exception cref="ArgumentException">The pieces do not start with [CLS], or the valid length is outside them.</exception>
        public static ExerciseResult NextTokenShare(double? answer, IReadOnlyList<string> tokens, int validLength)
        {
            ArgumentNullException.ThrowIfNull(tokens);
            if (tokens.Count == 0 || tokens[0] != HeadTraits.ClassifierToken)
            {
                throw new ArgumentException("the pieces do not start with [CLS]: pass the model's pieces (encoded.Tokens).", nameof(tokens));
            }

            if (validLength < 1 || validLength > tokens.Count)
            {
                throw new ArgumentException($"the valid length is {validLength} for {tokens.Count} pieces: pass encoded.ValidLength.", nameof(validLength));
            }

            var weights = Matrix<double>.Build.Dense(tokens.Count, tokens.Count, (i, j) => i < validLength && j == Math.Min(validLength - 1, i + 1) ? 1.0 : 0.0);
            var measured = HeadTraits.Measure(weights, 0, 0, tokens, validLength).NextToken;
            return Exercise.Check("3", answer, measured, 1e-9,
                "Go through the query pieces one by one: in which column does each one's weight land, given the order [CLS], [SEP], same, previous, next, ...? Then divide by the mass, one per real piece.");
        }
    }
}
