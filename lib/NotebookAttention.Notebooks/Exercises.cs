using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <summary>
/// The checks behind each notebook's exercises. The right answers are computed here, from the learner's own
/// data, so they stay out of the learner's way in the notebook.
/// </summary>
public static class Exercises
{
    private const double Tight = 1e-9;

    /// <summary>00 · Start here.</summary>
    public static class Start
    {
        /// <summary>The example whose tokens exercise 1 counts.</summary>
        public const string Example = "з'яўляецца, праўда?";

        /// <summary>Exercise 1: the token count of <see cref="Example"/>.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult TokensOfExample(int? answer) =>
            Exercise.Check("1", answer, Tokenizer.Words(Example).Count, "An apostrophe inside a word keeps it whole; punctuation marks are tokens of their own.");

        /// <summary>Exercise 2: the token count of the learner's sentence.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="sentence">The learner's sentence.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult TokensOfYourSentence(int? answer, string sentence) =>
            Exercise.Check("2", answer, Tokenizer.Words(sentence).Count, "Count words and punctuation marks separately; spaces are not tokens.");
    }

    /// <summary>01 · Queries, keys and values.</summary>
    public static class Qkv
    {
        /// <summary>Exercise 1: the number of rows of Q.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="queries">Q.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult RowsOfQ(int? answer, Matrix<double> queries)
        {
            ArgumentNullException.ThrowIfNull(queries);
            return Exercise.Check("1", answer, queries.RowCount, "Q has one row per token of your sentence.");
        }

        /// <summary>Exercise 2: the number of columns of W_K.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="projections">The projections.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult ColumnsOfWk(int? answer, QkvProjections projections)
        {
            ArgumentNullException.ThrowIfNull(projections);
            return Exercise.Check("2", answer, projections.Key.OutputSize, "W_K turns a d_model vector into a key of length d_k.");
        }

        /// <summary>Exercise 3: the query of token 0, computed by hand as x_0 W_Q.</summary>
        /// <param name="answer">The learner's vector.</param>
        /// <param name="tokenVectors">X.</param>
        /// <param name="projections">The projections.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult FirstQuery(Vector<double>? answer, Matrix<double> tokenVectors, QkvProjections projections)
        {
            ArgumentNullException.ThrowIfNull(tokenVectors);
            ArgumentNullException.ThrowIfNull(projections);
            var expected = projections.Query.Apply(tokenVectors).Row(0);
            return Exercise.Check("3", answer, q => q.Count == expected.Count && (q - expected).AbsoluteMaximum() < Tight, "Multiply the row vector x.Row(0) by the matrix projections.Query.Weight.");
        }
    }

    /// <summary>02 · Scores, scaling and softmax.</summary>
    public static class ScoresAndSoftmax
    {
        /// <summary>Exercise 1: the variance of q . k for d_k = 100, unscaled.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult VarianceAt100(double? answer) =>
            Exercise.Check("1", answer, 100, 15, "Each of the d_k products has variance 1, and variances of independent terms add up.");

        /// <summary>Exercise 2: the first weight of the stable softmax of [1000, 0].</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult StableSoftmaxOf1000(double? answer) =>
            Exercise.Check("2", answer, Softmax.Stable(Vector<double>.Build.Dense([1000.0, 0.0]))[0], 1e-6, "Subtract the maximum: exp(0) / (exp(0) + exp(-1000)).");

        /// <summary>Exercise 3: the entropy of a uniform row over n keys.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="keys">n.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult UniformEntropy(double? answer, int keys) =>
            Exercise.Check("3", answer, Math.Log(keys), 1e-3, "Every weight is 1/n, so -sum (1/n) ln(1/n) = ln n.");
    }

    /// <summary>03 · The weighted sum.</summary>
    public static class WeightedSum
    {
        /// <summary>Exercise 1: output row 0, computed by hand as sum_j A[0, j] v_j.</summary>
        /// <param name="answer">The learner's vector.</param>
        /// <param name="result">The attention result.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult FirstOutputRow(Vector<double>? answer, AttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            var expected = result.Output.Row(0);
            return Exercise.Check("1", answer, o => o.Count == expected.Count && (o - expected).AbsoluteMaximum() < Tight, "Add up result.Weights[0, j] * result.Values.Row(j) over every key j.");
        }

        /// <summary>Exercise 2: the weight of each key when all scores in a row are equal.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="keys">Number of keys.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult EqualScoresWeight(double? answer, int keys) =>
            Exercise.Check("2", answer, 1.0 / keys, 1e-6, "Equal scores give equal exponentials; they must sum to 1.");

        /// <summary>Exercise 3: the key that token 0 attends to most.</summary>
        /// <param name="answer">The learner's answer (a position).</param>
        /// <param name="result">The attention result.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult MostAttendedKey(int? answer, AttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            return Exercise.Check("3", answer, result.Weights.Row(0).MaximumIndex(), "Look at row 0 of the heatmap (or of the table under it) and give the column position of the largest weight.");
        }
    }

    /// <summary>04 · Masking.</summary>
    public static class Masking
    {
        /// <summary>Exercise 1: how many keys token 3 sees under a causal mask.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult CausalKeysOfToken3(int? answer) =>
            Exercise.Check("1", answer, Enumerable.Range(0, 10).Count(key => Mask.Causal(10)[3, key]), "Token 3 sees itself and every token before it; positions start at 0.");

        /// <summary>Exercise 2: the padding rows of the shortest sentence of a batch.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="batch">The batch.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult PaddingRowsOfShortest(int? answer, PaddedBatch batch)
        {
            ArgumentNullException.ThrowIfNull(batch);
            return Exercise.Check("2", answer, batch.PaddedLength - batch.ValidLengths.Min(), "Every sentence is padded to the longest one: padded length minus the shortest valid length.");
        }

        /// <summary>Exercise 3: the sum of the weights of a fully masked row.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult FullyMaskedRowSum(double? answer) =>
            Exercise.Check("3", answer, Softmax.Stable(Vector<double>.Build.Dense(3, double.NegativeInfinity)).Sum(), 1e-12, "A row that may see nothing attends to nothing: look at the table of the fully masked row.");
    }

    /// <summary>05 · Multi-head attention.</summary>
    public static class MultiHead
    {
        /// <summary>Exercise 1: the width of one head.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="layer">The multi-head layer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult HeadWidth(int? answer, MultiHeadAttention layer)
        {
            ArgumentNullException.ThrowIfNull(layer);
            return Exercise.Check("1", answer, layer.HeadDK, "d_model is shared equally between the heads.");
        }

        /// <summary>Exercise 2: the columns of the concatenated heads.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="result">The multi-head result.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult ConcatenatedColumns(int? answer, MultiHeadAttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            return Exercise.Check("2", answer, result.Concatenated.ColumnCount, "h heads of width d_model / h side by side.");
        }

        /// <summary>Exercise 3: the head that puts the most weight on the diagonal (tokens attending to themselves).</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="result">The multi-head result.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult MostSelfAttentiveHead(int? answer, MultiHeadAttentionResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            var diagonal = result.Weights.Select(w => w.Diagonal().Sum()).ToList();
            return Exercise.Check("3", answer, diagonal.IndexOf(diagonal.Max()), "Add up the diagonal of each head's weights (result.Weights[h].Diagonal().Sum()) and pick the largest.");
        }
    }

    /// <summary>06 · The price of attention.</summary>
    public static class Cost
    {
        /// <summary>Exercise 1: how many times longer exact attention takes when n doubles.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult DoublingFactor(double? answer) =>
            Exercise.Check("1", answer, NotebookAttention.Cost.AttentionCost.Flops(2048, 64) / NotebookAttention.Cost.AttentionCost.Flops(1024, 64), 0.01, "The work grows with n squared: (2n)^2 / n^2.");

        /// <summary>Exercise 2: the longest sequence whose fp32 score matrix fits in 1 MiB.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult LongestInOneMebibyte(int? answer) =>
            Exercise.Check("2", answer, (int)NotebookAttention.Cost.AttentionCost.LongestFitting(1 << 20), "n^2 numbers of 4 bytes each must fit in 1,048,576 bytes: n = sqrt(1,048,576 / 4).");

        /// <summary>Exercise 3: the share of the FLOPs a causal mask needs.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult CausalShare(double? answer) =>
            Exercise.Check("3", answer, NotebookAttention.Cost.AttentionCost.Flops(1024, 64, causal: true) / NotebookAttention.Cost.AttentionCost.Flops(1024, 64), 0.01, "A causal mask keeps the lower triangle of the n x n pairs.");
    }

    /// <summary>07 · Long-range dependencies.</summary>
    public static class LongRange
    {
        /// <summary>Exercise 1: the maximum path length of a recurrent layer over 100 positions.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult RecurrentPathAt100(int? answer) =>
            Exercise.Check("1", answer, DependencyGraph.Build(Architecture.Recurrent, 100).MaximumPathLength(), "From the first input, up one step into the layer, then one step per position to the last.");

        /// <summary>Exercise 2: the steps between the first and last token through self-attention.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="tokens">Number of tokens.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult AttentionFirstToLast(int? answer, int tokens) =>
            Exercise.Check("2", answer, DependencyGraph.Build(Architecture.SelfAttention, tokens).PathLengthsFrom(0)[tokens - 1], "Every output reads every input directly.");

        /// <summary>Exercise 3: the gradient factor per step of an RNN whose recurrent matrix has spectral radius 0.5.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="measuredRate">The rate the notebook measured.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult VanishingRate(double? answer, double measuredRate) =>
            Exercise.Check("3", answer, measuredRate, 0.1, "With tanh near its linear range each step multiplies the gradient by about the spectral radius.");
    }

    /// <summary>08 · Attention in a pretrained model.</summary>
    public static class Pretrained
    {
        /// <summary>Exercise 1: how many word pieces the model reads, [CLS] and [SEP] included.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="validLength">The number of real word pieces the model read.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult PieceCount(int? answer, int validLength) =>
            Exercise.Check("1", answer, validLength, "Count the pieces printed above the grid: [CLS] and [SEP] count too, and a word split into pieces counts once per piece.");

        /// <summary>Exercise 2: the (layer, head) that puts the most weight on the previous token.</summary>
        /// <param name="answer">The learner's answer as (layer, head).</param>
        /// <param name="traits">The measured head traits.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult PreviousTokenHead((int Layer, int Head)? answer, IReadOnlyList<HeadTraits> traits)
        {
            ArgumentNullException.ThrowIfNull(traits);
            var strongest = traits.MaxBy(t => t.PreviousToken) ?? throw new ArgumentException("there are no head traits: measure them first.", nameof(traits));
            return Exercise.Check("2", answer, (strongest.Layer, strongest.Head), "Sort the table by \"previous token\" and read the top row; answer as (layer, head).");
        }

        /// <summary>Exercise 3: the largest entropy, in bits, a head can have over the learner's pieces.</summary>
        /// <param name="answer">The learner's answer.</param>
        /// <param name="validLength">The number of real word pieces.</param>
        /// <returns>The verdict.</returns>
        public static ExerciseResult MaximumEntropy(double? answer, int validLength) =>
            Exercise.Check("3", answer, Math.Log2(validLength), 0.01, "Entropy is largest when a query spreads its weight evenly over all n pieces: log2(n) bits.");
    }
}
