using NotebookAttention.Training;

namespace NotebookAttention.Tests.Training;

public class RecurrentModelTests
{
    [Theory]
    [InlineData(20, 32, 16)]
    [InlineData(11, 5, 3)]
    public void Parameter_counts_follow_the_shapes(int vocabulary, int hidden, int embedding)
    {
        var settings = new RecurrentSettings(vocabulary, hidden, embedding);
        var (v, h, e) = (vocabulary, hidden, embedding);
        var shared = (v * e) + (h * v) + v;                                         // embedding, readout W_y and b_y
        Assert.Equal(shared + (e * h) + (h * h) + h, new ElmanRnnModel(settings).ParameterCount);
        Assert.Equal(shared + (4 * ((e * h) + (h * h) + h)), new LstmModel(settings).ParameterCount);
    }

    [Fact]
    public void The_trained_elman_model_is_the_librarys_elman_rnn_on_embedded_tokens()
    {
        var task = new RememberFirstTask(5);
        var model = new ElmanRnnModel(new RecurrentSettings(task.VocabularySize, 6, 4, 2));
        Trainer.Run(model, task, new TrainingSettings(5, 8, 1e-2));
        var tokens = task.Sample(1, new Random(3)).Inputs[0];
        var states = model.HiddenStates(tokens);
        var library = model.ToElmanRnn().Forward(model.Embed(tokens));
        Assert.True((states - library).FrobeniusNorm() <= 1e-12, "the model's states differ from ElmanRnn.Forward on the same weights");
        Assert.NotEqual(0.0, model.Parameters.Single(p => p.Name == "elman.b").Value.FrobeniusNorm());
    }

    [Fact]
    public void The_lstm_forget_gate_bias_starts_at_one_and_the_other_biases_at_zero()
    {
        var model = new LstmModel(new RecurrentSettings(7, 3, 2));
        var bias = model.Parameters.Single(p => p.Name.StartsWith("lstm.b", StringComparison.Ordinal)).Value.Row(0).ToArray();
        Assert.Equal([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0], bias);
        var longer = new LstmModel(new RecurrentSettings(7, 2, 2, ForgetBias: 3));
        Assert.Equal([0, 0, 3, 3, 0, 0, 0, 0], longer.Parameters.Single(p => p.Name.StartsWith("lstm.b", StringComparison.Ordinal)).Value.Row(0).ToArray());
        Assert.Contains("forget-gate bias", Assert.Throws<ArgumentOutOfRangeException>(() => new LstmModel(new RecurrentSettings(7, 2, 2, ForgetBias: double.NaN))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_another_seed_other_weights()
    {
        var a = ParameterSnapshot.Of(new LstmModel(new RecurrentSettings(9, 4, 3, 5)));
        Assert.True(a.Matches(new LstmModel(new RecurrentSettings(9, 4, 3, 5))));
        Assert.False(a.Matches(new LstmModel(new RecurrentSettings(9, 4, 3, 6))));
    }

    [Fact]
    public void Invalid_sizes_and_batches_are_refused_with_what_to_do()
    {
        Assert.Contains("hidden size", Assert.Throws<ArgumentOutOfRangeException>(() => new ElmanRnnModel(new RecurrentSettings(5, 0, 3))).Message, StringComparison.Ordinal);
        Assert.Contains("embedding size", Assert.Throws<ArgumentOutOfRangeException>(() => new LstmModel(new RecurrentSettings(5, 3, 0))).Message, StringComparison.Ordinal);
        var model = new ElmanRnnModel(new RecurrentSettings(5, 3, 2));
        var batch = new ReverseTask(2, 4).Sample(3, new Random(1));
        Assert.Contains("VocabularySize = 11", Assert.Throws<ArgumentException>(() => model.LossAndGradients(batch)).Message, StringComparison.Ordinal);
        Assert.Contains("thread count", Assert.Throws<ArgumentOutOfRangeException>(() => new ElmanRnnModel(new RecurrentSettings(11, 3, 2)).Evaluate(batch, threads: 0)).Message, StringComparison.Ordinal);
    }
}
