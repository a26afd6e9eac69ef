using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

public class TaskTests
{
    [Fact]
    public void Reverse_targets_are_the_sequence_backwards_with_every_real_position_scored()
    {
        var task = new ReverseTask(2, 7);
        var batch = task.Sample(200, new Random(3));
        Assert.Equal(11, task.VocabularySize);
        Assert.Equal("·", task.Symbols[task.PadId]);
        Assert.Contains(2, batch.Lengths);
        Assert.Contains(7, batch.Lengths);
        for (var s = 0; s < batch.Count; s++)
        {
            var n = batch.Lengths[s];
            Assert.InRange(n, 2, 7);
            var tokens = batch.Inputs[s].Take(n).ToArray();
            Assert.All(tokens, t => Assert.InRange(t, 0, 9));
            Assert.Equal(tokens.Reverse(), batch.Targets[s].Take(n));
            Assert.All(batch.Targets[s].Skip(n), t => Assert.Equal(SequenceBatch.Ignored, t));
            var answers = task.AnswerPositions(tokens);
            Assert.Equal(Enumerable.Range(0, n).Select(i => tokens[answers[i]]), batch.Targets[s].Take(n));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(1000)]
    public void Remember_first_asks_at_the_question_mark_for_the_signal_exactly_L_positions_back(int distance)
    {
        var task = new RememberFirstTask(distance);
        var batch = task.Sample(64, new Random(distance));
        Assert.Equal(distance + 1, batch.PaddedLength);
        Assert.Equal(64, batch.ScoredPositions);
        var signals = new HashSet<int>();
        for (var s = 0; s < batch.Count; s++)
        {
            var tokens = batch.Inputs[s];
            Assert.Equal("?", task.Symbols[tokens[distance]]);
            Assert.InRange(task.Symbols[tokens[0]][0], 'a', 'h');
            Assert.All(tokens.Skip(1).Take(distance - 1), t => Assert.InRange(t, 0, RememberFirstTask.Digits - 1));
            Assert.Equal(tokens[0], batch.Targets[s][distance]);
            Assert.Equal(distance, batch.Targets[s].Count(t => t == SequenceBatch.Ignored));
            var answers = task.AnswerPositions(tokens);
            Assert.Equal(0, answers[distance]);                 // the '?' at L looks L positions back, at the signal
            Assert.All(answers.Take(distance), a => Assert.Equal(SequenceBatch.Ignored, a));
            signals.Add(tokens[0]);
        }

        Assert.Equal(8, signals.Count);
    }

    [Fact]
    public void The_same_generator_state_gives_the_same_batch()
    {
        ISequenceTask[] tasks = [new ReverseTask(1, 9), new RememberFirstTask(30)];
        foreach (var task in tasks)
        {
            var a = task.Sample(16, new Random(7));
            var b = task.Sample(16, new Random(7));
            var c = task.Sample(16, new Random(8));
            Assert.Equal(a.Inputs, b.Inputs);
            Assert.Equal(a.Targets, b.Targets);
            Assert.NotEqual(a.Inputs, c.Inputs);
        }
    }

    [Fact]
    public void Invalid_task_settings_are_refused_with_the_allowed_range()
    {
        Assert.Contains("between 1", Assert.Throws<ArgumentOutOfRangeException>(() => new RememberFirstTask(0)).Message, StringComparison.Ordinal);
        Assert.Contains("between 1", Assert.Throws<ArgumentOutOfRangeException>(() => new RememberFirstTask(-5)).Message, StringComparison.Ordinal);
        Assert.Contains("maxLength >= minLength", Assert.Throws<ArgumentOutOfRangeException>(() => new ReverseTask(5, 4)).Message, StringComparison.Ordinal);
        Assert.Contains("at least 1", Assert.Throws<ArgumentOutOfRangeException>(() => new ReverseTask(0, 4)).Message, StringComparison.Ordinal);
        Assert.Contains("batch size", Assert.Throws<ArgumentOutOfRangeException>(() => new ReverseTask(1, 4).Sample(0, new Random(1))).Message, StringComparison.Ordinal);
    }
}
