namespace NotebookAttention.Notebooks;

/// <summary>The learner's own input, with a way for tests and teachers to pass it in from outside.</summary>
public static class Learner
{
    /// <summary>
    /// Environment variable that replaces the sentence typed in a notebook, so the whole series can be rerun
    /// with another sentence without editing it (the series' tests use this for a Belarusian run).
    /// </summary>
    public const string SentenceVariable = "NOTEBOOK_ATTENTION_SENTENCE";

    /// <summary>Returns the sentence you typed, or the one in <see cref="SentenceVariable"/> when that is set.</summary>
    /// <param name="typed">The sentence typed in the notebook: any language, one word to a paragraph.</param>
    /// <returns>The sentence to use.</returns>
    /// <exception cref="ArgumentException">The sentence is empty or only whitespace.</exception>
    public static string Sentence(string typed)
    {
        var fromOutside = Environment.GetEnvironmentVariable(SentenceVariable);
        var sentence = string.IsNullOrWhiteSpace(fromOutside) ? typed : fromOutside;
        if (string.IsNullOrWhiteSpace(sentence))
        {
            throw new ArgumentException("the sentence is empty: type at least one word between the quotes.", nameof(typed));
        }

        return sentence;
    }
}
