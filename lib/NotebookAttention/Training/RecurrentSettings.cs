namespace NotebookAttention.Training;

/// <summary>The sizes and seed of a trainable recurrent model (<see cref="ElmanRnnModel"/>, <see cref="LstmModel"/>).</summary>
/// <param name="VocabularySize">Token ids the model reads and predicts (at least the task's <see cref="ISequenceTask.VocabularySize"/>).</param>
/// <param name="Hidden">h, the size of the state vector carried from step to step.</param>
/// <param name="Embedding">e, the size of the learned vector each token id is looked up as.</param>
/// <param name="Seed">Seed of the initial weights: the same settings give the same model bit for bit.</param>
/// <param name="ForgetBias">
/// LSTM only: the starting value of the forget gate's bias b_f (1, as Jozefowicz et al. 2015 recommend). Each step
/// multiplies the cell state by F ≈ σ(b_f) at first, so a signal, and the gradient that teaches the model to keep it,
/// shrinks like σ(b_f)^L over L steps: σ(1)^50 ≈ 1.6e-7, σ(3)^50 ≈ 0.09.
/// </param>
/// <param name="Path">
/// Which implementation the model runs (<see cref="RecurrentPath"/>): the readable reference or the fast flat one
/// (the default). The two agree to about 1e-12 (sums are added in a different order), tested on generated models.
/// </param>
public sealed record RecurrentSettings(int VocabularySize, int Hidden, int Embedding, int Seed = 0, double ForgetBias = 1.0, RecurrentPath Path = RecurrentPath.Fast);
