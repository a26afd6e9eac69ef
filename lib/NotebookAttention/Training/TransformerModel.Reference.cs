using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;

namespace NotebookAttention.Training;

/// <summary>The reference path: every step a library call that reads like its equation, forward then backward.</summary>
public sealed partial class TransformerModel
{
    /// <summary>
    /// One chunk on the reference path. Its library steps refuse NaN and fp64 overflow with an
    /// <see cref="ArgumentException"/> (a learner calling them by hand should hear which step broke). Here the batch was
    /// checked by <see cref="CheckBatch"/> and the shapes are the model's own, so such an exception can only mean the
    /// weights have grown until a step overflowed: the chunk reports a NaN loss and NaN gradients instead, as the fast
    /// path and the recurrent models do, so that <see cref="Trainer.Run"/> stops the run and puts the last good weights back.
    /// </summary>
    private ChunkResult ReferenceChunk(SequenceBatch batch, int chunk, int scoredInBatch, bool backward)
    {
        try
        {
            return ReferenceChunkChecked(batch, chunk, scoredInBatch, backward);
        }
        catch (ArgumentException e) when (e is not ArgumentOutOfRangeException)
        {
            var sequences = Math.Min(batch.Count, (chunk + 1) * ChunkSize) - (chunk * ChunkSize);
            var predictions = Enumerable.Range(0, sequences).Select(_ => (IReadOnlyList<int>)new int[batch.PaddedLength]).ToList();
            var gradients = backward ? parameters.Select(p => Matrix<double>.Build.Dense(p.Value.RowCount, p.Value.ColumnCount, double.NaN)).ToArray() : null;
            return new ChunkResult(double.NaN, 0, predictions, Enumerable.Repeat(double.NaN, batch.PaddedLength).ToArray(), gradients);
        }
    }

    private ChunkResult ReferenceChunkChecked(SequenceBatch batch, int chunk, int scoredInBatch, bool backward)
    {
        var gradients = backward ? parameters.Select(p => Matrix<double>.Build.Dense(p.Value.RowCount, p.Value.ColumnCount)).ToArray() : null;
        var inputNormSums = new double[batch.PaddedLength];
        var predictions = new List<IReadOnlyList<int>>();
        double lossSum = 0;
        var correct = 0;
        for (var sequence = chunk * ChunkSize; sequence < Math.Min(batch.Count, (chunk + 1) * ChunkSize); sequence++)
        {
            var pass = ForwardReference(batch, sequence);
            var loss = SoftmaxCrossEntropy.Forward(pass.Logits, batch.Targets[sequence]);
            lossSum += loss.LossSum;
            correct += loss.Correct;
            predictions.Add(loss.Predictions);
            if (gradients is not null)
            {
                var inputGradient = BackwardReference(pass, loss, batch.Targets[sequence], Math.Max(1, scoredInBatch), gradients);
                for (var t = 0; t < inputGradient.RowCount; t++)
                {
                    inputNormSums[t] += inputGradient.Row(t).L2Norm();
                }
            }
        }

        return new ChunkResult(lossSum, correct, predictions, inputNormSums, gradients);
    }

    /// <summary>The forward pass of one (padded) sequence, keeping every step for the backward pass.</summary>
    private ReferencePass ForwardReference(SequenceBatch batch, int sequence)
    {
        var ids = batch.Inputs[sequence];
        var positions = Enumerable.Range(0, batch.PaddedLength).ToArray();
        var mask = batch.PaddingMask(sequence);                                        // real tokens see real tokens only
        if (Settings.Causal)
        {
            mask &= Mask.Causal(batch.PaddedLength);                                   // ... and none after themselves
        }

        var x = EmbeddingLookup.Rows(TokenEmbedding.Value, ids)
              + EmbeddingLookup.Rows(PositionEmbedding.Value, positions);             // x_t = E[id_t] + P[t]   [n x d]
        var layers = new List<ReferenceLayer>(blocks.Length);
        foreach (var block in blocks)
        {
            var norm1 = block.Norm1.Forward(x);                                        // LN(x)
            var attention = block.Attention.Forward(norm1.Output, mask);              // MHA(LN(x))
            var h = Residual.Add(x, attention.Output);                                 // h = x + MHA(LN(x))
            var norm2 = block.Norm2.Forward(h);                                        // LN(h)
            var feedForward = block.FeedForward.Forward(norm2.Output);                 // FF(LN(h))
            x = Residual.Add(h, feedForward.Output);                                   // x' = h + FF(LN(h))
            layers.Add(new ReferenceLayer(norm1, attention, norm2, feedForward));
        }

        var final = finalNorm.Forward(x);                                              // LN(x)
        var logits = readout.Apply(final.Output);                                      // Z = LN(x) W + b   [n x vocabulary]
        return new ReferencePass(ids, positions, layers, final, logits);
    }

    /// <summary>The backward pass of one sequence: adds its gradients to <paramref name="gradients"/> and returns dLoss/dx.</summary>
    private Matrix<double> BackwardReference(ReferencePass pass, CrossEntropyResult loss, IReadOnlyList<int> targets, int scoredInBatch, Matrix<double>[] gradients)
    {
        var logitGradient = SoftmaxCrossEntropy.Backward(loss, targets, scoredInBatch);       // dZ = (P - onehot) / N
        var readoutGradients = readout.Backward(pass.Final.Output, logitGradient);
        var last = parameters.Count - 4;
        AddTo(gradients[last + 2], readoutGradients.DWeight);
        AddTo(gradients[last + 3], readoutGradients.DBias!);
        var finalGradients = finalNorm.Backward(pass.Final, readoutGradients.DInput);
        AddTo(gradients[last], finalGradients.DGain);
        AddTo(gradients[last + 1], finalGradients.DBias);
        var dx = finalGradients.DInput;                                                // dLoss/dx after the last layer

        for (var layer = blocks.Length - 1; layer >= 0; layer--)
        {
            var block = blocks[layer];
            var steps = pass.Layers[layer];
            var at = 2 + (layer * PerLayer);

            // x' = h + FF(LN2(h))
            var feedForward = block.FeedForward.Backward(steps.FeedForward, dx);
            var norm2 = block.Norm2.Backward(steps.Norm2, feedForward.DInput);
            var dh = Residual.Backward(dx, norm2.DInput);

            // h = x + MHA(LN1(x))
            var attention = block.Attention.Backward(steps.Attention, dh);
            var norm1 = block.Norm1.Backward(steps.Norm1, attention.DX);
            dx = Residual.Backward(dh, norm1.DInput);

            AddTo(gradients[at], norm1.DGain);
            AddTo(gradients[at + 1], norm1.DBias);
            AddTo(gradients[at + 2], attention.DWQ);
            AddTo(gradients[at + 3], attention.DbQ!);
            AddTo(gradients[at + 4], attention.DWK);
            AddTo(gradients[at + 5], attention.DbK!);
            AddTo(gradients[at + 6], attention.DWV);
            AddTo(gradients[at + 7], attention.DbV!);
            AddTo(gradients[at + 8], attention.DWO);
            AddTo(gradients[at + 9], attention.DbO!);
            AddTo(gradients[at + 10], norm2.DGain);
            AddTo(gradients[at + 11], norm2.DBias);
            AddTo(gradients[at + 12], feedForward.First.DWeight);
            AddTo(gradients[at + 13], feedForward.First.DBias!);
            AddTo(gradients[at + 14], feedForward.Second.DWeight);
            AddTo(gradients[at + 15], feedForward.Second.DBias!);
        }

        EmbeddingLookup.RowsBackward(gradients[0], pass.Ids, dx);                      // dE[id_t] += dx_t
        EmbeddingLookup.RowsBackward(gradients[1], pass.Positions, dx);                // dP[t] += dx_t
        return dx;
    }

    private static void AddTo(Matrix<double> sum, Matrix<double> term) => sum.Add(term, sum);

    private static void AddTo(Matrix<double> sum, Vector<double> term)
    {
        for (var column = 0; column < term.Count; column++)
        {
            sum.At(0, column, sum.At(0, column) + term[column]);
        }
    }

    private sealed record ReferenceLayer(LayerNormResult Norm1, MultiHeadAttentionResult Attention, LayerNormResult Norm2, FeedForwardResult FeedForward);

    private sealed record ReferencePass(IReadOnlyList<int> Ids, IReadOnlyList<int> Positions, IReadOnlyList<ReferenceLayer> Layers, LayerNormResult Final, Matrix<double> Logits);
}
