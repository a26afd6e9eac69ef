using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <content>The checks of notebook 00.</content>
public static partial class Exercises
{
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
}
