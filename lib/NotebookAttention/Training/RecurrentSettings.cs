namespace NotebookAttention.Training;

/// <summary>The sizes and seed of a trainable recurrent model (<see cref="ElmanRnnModel"/>, <see cref="LstmModel"/>).</summary>
/// <param name="VocabularySize">Token ids the model reads and predicts (at least the task's <see cref="ISequenceTask.VocabularySize"/>).</param>
/// <param name="Hidden">h, the size of the state vector carried from step to step.</param>
/// <param name="Embedding">e, the size of the learned vector each token id is looked up as.</param>
/// <param name="Seed">Seed of the initial weights: the same settings give the same model bit for bit.</param>
public sealed record RecurrentSettings(int VocabularySize, int Hidden, int Embedding, int Seed = 0);
