using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Notebooks;
using NotebookAttention.Tests.Support;
using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

/// <summary>
/// Notebook 09's promise, checked outside the kernel: with the settings typed in the notebook (read from its cells, so
/// the two cannot drift apart), the transformer reverses a fresh seeded batch of sequences with at least 99% of the tokens right within the
/// notebook's step budget, and its attention ends on the ideal anti-diagonal.
/// </summary>
public partial class AttentionLearnsBudgetTests
{
    private sealed record NotebookSettings(int MinLength, int MaxLength, int Heads, int Layers, double LearningRate, int Steps);

    private static string Code()
    {
        var notebook = JsonNode.Parse(File.ReadAllText(Repository.PathOf("notebooks", "09-attention-learns.ipynb")))!;
        return string.Join("\n", notebook["cells"]!.AsArray().Where(c => (string?)c!["cell_type"] == "code")
            .Select(c => c!["source"] is JsonArray lines ? string.Concat(lines.Select(l => (string?)l)) : (string?)c["source"] ?? string.Empty));
    }

    private static NotebookSettings Typed(string code)
    {
        string Group(Regex pattern, string what)
        {
            var match = pattern.Match(code);
            Assert.True(match.Success, $"notebook 09 no longer types {what} as this test expects: update the test with the notebook.");
            return match.Groups[1].Value;
        }

        var task = TaskCell().Match(code);
        Assert.True(task.Success, "notebook 09's ✎ cell no longer builds new ReverseTask(minLength: …, maxLength: …)");
        return new NotebookSettings(
            int.Parse(task.Groups[1].Value, CultureInfo.InvariantCulture),
            int.Parse(task.Groups[2].Value, CultureInfo.InvariantCulture),
            int.Parse(Group(HeadsCell(), "int heads"), CultureInfo.InvariantCulture),
            int.Parse(Group(LayersCell(), "int layers"), CultureInfo.InvariantCulture),
            double.Parse(Group(RateCell(), "double learningRate"), CultureInfo.InvariantCulture),
            int.Parse(Group(StepsCell(), "int steps"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_reverse_task_reaches_99_percent_on_new_sequences_within_the_notebooks_budget_with_its_seed()
    {
        var code = Code();
        var typed = Typed(code);
        foreach (var literal in new[] { "DModel: 32", "FeedForward: 64", "Seed: 1, Layers: layers", "BatchSize: 32", "Optimizer: \"adam\"", "ClipNorm: 1.0", "Seed: 7", "Threads: 2" })
        {
            Assert.True(code.Contains(literal, StringComparison.Ordinal), $"notebook 09 no longer says {literal}: update this test with the notebook.");
        }

        var task = new ReverseTask(typed.MinLength, typed.MaxLength);
        var model = new TransformerModel(new TransformerSettings(task.VocabularySize, task.MaxLength, DModel: 32, Heads: typed.Heads, FeedForward: 64, Seed: 1, Layers: typed.Layers));
        var training = new TrainingView(model, task, new TrainingSettings(typed.Steps, 32, typed.LearningRate, "adam", 1.0, Seed: 7, Threads: 2));
        training.Train();

        Assert.Equal(TrainingOutcome.Completed, training.Run!.Outcome);
        Assert.Equal(typed.Steps, training.Steps.Count);
        var heldOut = training.HeldOut();
        Assert.True(heldOut.Accuracy >= HeldOutAccuracy.Goal, heldOut.Sentence);
        Assert.True(heldOut.ReachesGoal, heldOut.Sentence);
        var share = training.Share();
        Assert.Equal(0, share.FirstStep);
        Assert.True(share.FoundIdealPattern, share.Sentence);
        Assert.True(share.First < 0.5, $"before training the head should spread its weight, not already sit on the answer: {share.Sentence}");
    }

    [GeneratedRegex(@"new ReverseTask\(minLength: (\d+), maxLength: (\d+)\)")]
    private static partial Regex TaskCell();

    [GeneratedRegex(@"int heads = (\d+);")]
    private static partial Regex HeadsCell();

    [GeneratedRegex(@"int layers = (\d+);")]
    private static partial Regex LayersCell();

    [GeneratedRegex(@"double learningRate = ([0-9.eE+-]+);")]
    private static partial Regex RateCell();

    [GeneratedRegex(@"int steps = (\d+);")]
    private static partial Regex StepsCell();
}
