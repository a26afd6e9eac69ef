using System.Globalization;
using System.Net;

namespace NotebookAttention.Notebooks;

/// <summary>Whether an exercise answer is missing, right or wrong.</summary>
public enum ExerciseStatus
{
    /// <summary>The answer is still empty.</summary>
    NotAnswered,

    /// <summary>The answer is right.</summary>
    Correct,

    /// <summary>The answer is wrong; the message gives a hint.</summary>
    Wrong,
}

/// <summary>The verdict on one exercise answer, shown as a coloured line in the notebook.</summary>
/// <param name="Name">Exercise name, e.g. "1".</param>
/// <param name="Status">Missing, right or wrong.</param>
/// <param name="Message">What to do next.</param>
public sealed record ExerciseResult(string Name, ExerciseStatus Status, string Message)
{
    /// <summary>True when the answer is right.</summary>
    public bool IsCorrect => Status == ExerciseStatus.Correct;

    /// <summary>The verdict as an HTML line.</summary>
    /// <returns>The HTML.</returns>
    public string ToHtml()
    {
        var (mark, color) = Status switch
        {
            ExerciseStatus.Correct => ("✓", "#1a7f37"),
            ExerciseStatus.Wrong => ("✗", "#cf222e"),
            _ => ("✎", "#6e7781"),
        };
        return $"<div class=\"na-exercise na-{Status.ToString().ToLowerInvariant()}\" style=\"font:14px sans-serif;color:{color}\">{mark} Exercise {WebUtility.HtmlEncode(Name)}: {WebUtility.HtmlEncode(Message)}</div>";
    }

    /// <inheritdoc />
    public override string ToString() => $"Exercise {Name}: {Status}: {Message}";
}

/// <summary>Checks exercise answers and never throws, so a notebook with unanswered exercises still runs.</summary>
public static class Exercise
{
    /// <summary>Checks a whole-number answer.</summary>
    /// <param name="name">Exercise name.</param>
    /// <param name="answer">The learner's answer, or null while unanswered.</param>
    /// <param name="expected">The right answer.</param>
    /// <param name="hint">A hint shown when the answer is wrong.</param>
    public static ExerciseResult Check(string name, int? answer, int expected, string hint) =>
        answer is null ? NotAnswered(name)
        : answer == expected ? Correct(name, answer.Value.ToString(CultureInfo.InvariantCulture))
        : Wrong(name, $"{answer} is not it. {hint}");

    /// <summary>Checks a numeric answer within a tolerance.</summary>
    /// <param name="name">Exercise name.</param>
    /// <param name="answer">The learner's answer, or null while unanswered.</param>
    /// <param name="expected">The right answer.</param>
    /// <param name="tolerance">How far off an answer may be and still count.</param>
    /// <param name="hint">A hint shown when the answer is wrong.</param>
    public static ExerciseResult Check(string name, double? answer, double expected, double tolerance, string hint) =>
        answer is null ? NotAnswered(name)
        : Math.Abs(answer.Value - expected) <= tolerance ? Correct(name, answer.Value.ToString("G6", CultureInfo.InvariantCulture))
        : Wrong(name, $"{answer.Value.ToString("G6", CultureInfo.InvariantCulture)} is not it (allowed error {tolerance.ToString("G3", CultureInfo.InvariantCulture)}). {hint}");

    /// <summary>Checks a text answer, ignoring case and surrounding spaces.</summary>
    /// <param name="name">Exercise name.</param>
    /// <param name="answer">The learner's answer, or null while unanswered.</param>
    /// <param name="expected">The right answer.</param>
    /// <param name="hint">A hint shown when the answer is wrong.</param>
    public static ExerciseResult Check(string name, string? answer, string expected, string hint) =>
        string.IsNullOrWhiteSpace(answer) ? NotAnswered(name)
        : string.Equals(answer.Trim(), expected.Trim(), StringComparison.OrdinalIgnoreCase) ? Correct(name, answer.Trim())
        : Wrong(name, $"\"{answer.Trim()}\" is not it. {hint}");

    /// <summary>Checks an answer made of several whole numbers, such as (layer, head).</summary>
    /// <param name="name">Exercise name.</param>
    /// <param name="answer">The learner's answer, or null while unanswered.</param>
    /// <param name="expected">The right answer.</param>
    /// <param name="hint">A hint shown when the answer is wrong.</param>
    public static ExerciseResult Check(string name, (int, int)? answer, (int, int) expected, string hint) =>
        answer is null ? NotAnswered(name)
        : answer.Value == expected ? Correct(name, answer.Value.ToString())
        : Wrong(name, $"{answer.Value} is not it. {hint}");

    /// <summary>Checks an answer with a test of your own, e.g. on a matrix the learner computed.</summary>
    /// <param name="name">Exercise name.</param>
    /// <param name="answer">The learner's answer, or null while unanswered.</param>
    /// <param name="isRight">Whether the answer is right.</param>
    /// <param name="hint">A hint shown when the answer is wrong.</param>
    /// <typeparam name="T">Answer type.</typeparam>
    /// <returns>The verdict; an exception inside <paramref name="isRight"/> counts as wrong and is reported.</returns>
    public static ExerciseResult Check<T>(string name, T? answer, Func<T, bool> isRight, string hint)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(isRight);
        if (answer is null)
        {
            return NotAnswered(name);
        }

        try
        {
            return isRight(answer) ? Correct(name, "that is it") : Wrong(name, hint);
        }
        catch (ArgumentException error)
        {
            return Wrong(name, $"{error.Message} {hint}");
        }
    }

    private static ExerciseResult NotAnswered(string name) =>
        new(name, ExerciseStatus.NotAnswered, "not answered yet: write your answer where this cell says ✎ and run the cell again (the solution is folded below it).");

    private static ExerciseResult Correct(string name, string answer) => new(name, ExerciseStatus.Correct, $"right ({answer}).");

    private static ExerciseResult Wrong(string name, string message) => new(name, ExerciseStatus.Wrong, message);
}
