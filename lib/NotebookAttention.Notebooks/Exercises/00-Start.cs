using System.Globalization;
using System.Text;
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

        /// <summary>How many tokens the sentence of exercise 2 must have.</summary>
        public const int WantedTokens = 5;

        /// <summary>How many of them must be punctuation marks.</summary>
        public const int WantedPunctuation = 2;

        /// <summary>Exercise 1: the token count of <see cref="Example"/>, predicted before running the tokenizer.</summary>
        /// <param name="answer">The learner's answer.</param>
        public static ExerciseResult TokensOfExample(int? answer) =>
            Exercise.Check("1", answer, Tokenizer.Words(Example).Count, "An apostrophe inside a word keeps it whole; punctuation marks are tokens of their own.");

        /// <summary>
        /// Exercise 2: a sentence the learner writes that the tokenizer splits into <see cref="WantedTokens"/> tokens, of
        /// which <see cref="WantedPunctuation"/> are punctuation marks.
        /// </summary>
        /// <param name="sentence">The learner's sentence, or null while unanswered.</param>
        /// <returns>The verdict, with the tokens the tokenizer found when it is wrong.</returns>
        public static ExerciseResult FiveTokensTwoMarks(string? sentence)
        {
            if (string.IsNullOrWhiteSpace(sentence))
            {
                return Exercise.Check<string>("2", null, _ => false, string.Empty);
            }

            var tokens = Tokenizer.Words(sentence);
            var marks = tokens.Count(IsPunctuation);
            return Exercise.Check(
                "2",
                sentence,
                _ => tokens.Count == WantedTokens && marks == WantedPunctuation,
                string.Create(CultureInfo.InvariantCulture, $"the tokenizer found {tokens.Count} tokens ({string.Join(" · ", tokens)}), {marks} of them punctuation; {WantedTokens} and {WantedPunctuation} are wanted. Spaces are not tokens; each mark is one."));
        }

        /// <summary>Whether a token is made of punctuation marks only (Unicode categories P*), as "," or "?" are.</summary>
        /// <param name="token">A token's text.</param>
        /// <returns>True for punctuation.</returns>
        public static bool IsPunctuation(string token)
        {
            ArgumentNullException.ThrowIfNull(token);
            return token.Length > 0 && token.EnumerateRunes().All(r => Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation
                or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
                or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation);
        }
    }
}
