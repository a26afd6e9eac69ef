using NotebookAttention.Batches;
using NotebookAttention.Notebooks;
using NotebookAttention.Pretrained;
using NotebookAttention.Tokens;

namespace NotebookAttention.Tests.Notebooks;

public class ExerciseAndLearnerTests
{
    [Fact]
    public void Unanswered_right_and_wrong_answers_get_their_verdicts()
    {
        Assert.Equal(ExerciseStatus.NotAnswered, Exercise.Check("1", (int?)null, 4, "hint").Status);
        Assert.Equal(ExerciseStatus.Correct, Exercise.Check("1", 4, 4, "hint").Status);
        var wrong = Exercise.Check("1", 5, 4, "count the commas");
        Assert.Equal(ExerciseStatus.Wrong, wrong.Status);
        Assert.Contains("count the commas", wrong.Message, StringComparison.Ordinal);
        Assert.Contains("na-wrong", wrong.ToHtml(), StringComparison.Ordinal);

        Assert.True(Exercise.Check("2", 0.3334, 1 / 3.0, 1e-3, "").IsCorrect);
        Assert.False(Exercise.Check("2", 0.34, 1 / 3.0, 1e-3, "").IsCorrect);
        Assert.True(Exercise.Check("3", " Ln N ", "ln n", "").IsCorrect);
    }

    [Fact]
    public void A_check_that_throws_on_a_bad_answer_reports_it_instead_of_crashing()
    {
        var result = Exercise.Check<string>("4", "x", _ => throw new ArgumentException("wrong length"), "hint");
        Assert.Equal(ExerciseStatus.Wrong, result.Status);
        Assert.Contains("wrong length", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_exercise_counts_tokens_of_its_example()
    {
        Assert.True(Exercises.Start.TokensOfExample(4).IsCorrect);
        Assert.False(Exercises.Start.TokensOfExample(3).IsCorrect);
    }

    [Fact]
    public void Typed_sentence_is_used_unless_one_is_passed_in_from_outside()
    {
        // Environment variables are process-wide; this is the only test that sets this one.
        Environment.SetEnvironmentVariable(Learner.SentenceVariable, null);
        Assert.Equal("typed", Learner.Sentence("typed"));
        Environment.SetEnvironmentVariable(Learner.SentenceVariable, "Увага");
        try
        {
            Assert.Equal("Увага", Learner.Sentence("typed"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(Learner.SentenceVariable, null);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n\u00A0")]
    public void Blank_text_is_refused_by_every_entry_point_with_what_to_do(string blank)
    {
        // The one test of blank input for every way text enters the library (the tokenizer's own messages are in
        // TokenizerTests). It sits in this class because Learner.Sentence reads the variable the test above sets.
        Action[] entries =
        [
            () => Tokenizer.Tokenize(blank),
            () => Learner.Sentence(blank),
            () => MiniLmTokenizer.Load().Encode(blank),   // MiniLm.Encode tokenizes with this first
        ];
        foreach (var entry in entries)
        {
            Assert.Contains("type at least one word", Assert.Throws<ArgumentException>(entry).Message, StringComparison.Ordinal);
        }

        var batch = Assert.Throws<ArgumentException>(() => PaddedBatch.FromSentences(["ok", blank], new Embeddings(4)));
        Assert.Contains("sentence 1 of the batch", batch.Message, StringComparison.Ordinal);
        Assert.Contains("0 tokens", batch.Message, StringComparison.Ordinal);
    }
}
