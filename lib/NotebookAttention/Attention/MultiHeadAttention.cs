using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;
using NotebookAttention.Batches;

namespace NotebookAttention.Attention;

/// <summary>
/// Multi-head attention: several heads attend in parallel, each in its own subspace, and their outputs are
/// concatenated and projected again, MultiHead(X) = Concat(head_1, ..., head_h) W_O.
/// </summary>
/// <remarks>
/// As in Vaswani et al. (2017) and in BERT and PyTorch, one projection W_Q [d_model x d_model] (likewise W_K,
/// W_V) produces the queries of all heads at once, and the columns are split into h blocks of d_model / h:
/// block i of the columns is head i. That is the same as h separate [d_model x d_model/h] projections.
/// A query row that is fully masked has zero output, bias of W_O included: it attended to nothing.
/// </remarks>
public sealed class MultiHeadAttention
{
    /// <summary>Multi-head attention with seeded weights, drawn in the order W_Q, W_K, W_V, W_O (Xavier uniform).</summary>
    /// <param name="dModel">Token vector length; must be divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Number of heads h.</param>
    /// <param name="seed">Seed; the same seed gives the same weights.</param>
    /// <param name="bias">Whether the four projections have biases.</param>
    /// <exception cref="ArgumentException"><paramref name="heads"/> does not divide <paramref name="dModel"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The four [d_model x d_model] weight matrices would not fit in memory.</exception>
    public MultiHeadAttention(int dModel, int heads, int seed = 0, bool bias = false)
    {
        Check.AtLeast(dModel, 1, "d_model", nameof(dModel));
        AttentionChecks.HeadsDivide(dModel, heads, "d_model");
        Check.Fits(dModel, dModel, 4, "a layer with W_Q, W_K, W_V and W_O", "choose a smaller d_model (BERT-base uses 768)", nameof(dModel));
        var random = new Xoshiro256StarStar(seed, threadSafe: false);
        Projections = new QkvProjections(
            LinearProjection.Create(dModel, dModel, random, bias),
            LinearProjection.Create(dModel, dModel, random, bias),
            LinearProjection.Create(dModel, dModel, random, bias));
        OutputProjection = LinearProjection.Create(dModel, dModel, random, bias);
        Heads = heads;
    }

    /// <summary>Multi-head attention with given weights (for hand-made examples and pretrained models).</summary>
    /// <param name="projections">W_Q, W_K [d_model x d_k] and W_V [d_model x d_v], each holding all heads side by side.</param>
    /// <param name="outputProjection">W_O, [d_v x d_out].</param>
    /// <param name="heads">Number of heads h; must divide d_k and d_v.</param>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public MultiHeadAttention(QkvProjections projections, LinearProjection outputProjection, int heads)
    {
        ArgumentNullException.ThrowIfNull(projections);
        ArgumentNullException.ThrowIfNull(outputProjection);
        AttentionChecks.HeadsDivide(projections.DK, heads, "d_k (columns of W_Q)");
        AttentionChecks.HeadsDivide(projections.DV, heads, "d_v (columns of W_V)");
        if (outputProjection.InputSize != projections.DV)
        {
            throw new ArgumentException(
                $"W_O is {Check.Shape(outputProjection.Weight)} but the concatenated heads have {projections.DV} columns: W_O needs {projections.DV} rows.",
                nameof(outputProjection));
        }

        Projections = projections;
        OutputProjection = outputProjection;
        Heads = heads;
    }

    /// <summary>W_Q, W_K, W_V for all heads side by side.</summary>
    public QkvProjections Projections { get; }

    /// <summary>W_O, which mixes the concatenated heads back into d_model.</summary>
    public LinearProjection OutputProjection { get; }

    /// <summary>Number of heads h.</summary>
    public int Heads { get; }

    /// <summary>Token vector length d_model.</summary>
    public int DModel => Projections.DModel;

    /// <summary>Query and key length of one head, d_k / h.</summary>
    public int HeadDK => Projections.DK / Heads;

    /// <summary>Value length of one head, d_v / h.</summary>
    public int HeadDV => Projections.DV / Heads;

    /// <summary>
    /// Number of trainable numbers in the layer, counted from its four matrices and their biases:
    /// W_Q and W_K [d_model x h·d_k], W_V [d_model x h·d_v], W_O [h·d_v x d_out]. With d_k = d_v = d_model / h
    /// and no biases that is 4·d_model², whatever h is.
    /// </summary>
    public long ParameterCount =>
        new[] { Projections.Query, Projections.Key, Projections.Value, OutputProjection }
            .Sum(p => ((long)p.Weight.RowCount * p.Weight.ColumnCount) + (p.Bias?.Count ?? 0));

    /// <summary>Splits [tokens x d] into h matrices [tokens x d/h]: head i gets columns i*d/h to (i+1)*d/h - 1.</summary>
    /// <param name="matrix">Q, K or V for all heads, shape [tokens x d].</param>
    /// <param name="heads">Number of heads; must divide d.</param>
    /// <returns>One matrix per head.</returns>
    public static IReadOnlyList<Matrix<double>> SplitHeads(Matrix<double> matrix, int heads)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        AttentionChecks.HeadsDivide(matrix.ColumnCount, heads, $"the column count of a {Check.Shape(matrix)} matrix");
        return SplitHeadsUnchecked(matrix, heads);
    }

    /// <summary><see cref="SplitHeads"/> for a layer whose h divides the width (checked when it was built).</summary>
    internal static IReadOnlyList<Matrix<double>> SplitHeadsUnchecked(Matrix<double> matrix, int heads)
    {
        var width = matrix.ColumnCount / heads;
        return [.. Enumerable.Range(0, heads).Select(head => matrix.SubMatrix(0, matrix.RowCount, head * width, width))];
    }

    /// <summary>Concatenates head outputs side by side: h x [tokens x d_v/h] becomes [tokens x d_v].</summary>
    /// <param name="heads">Head outputs, all with the same shape.</param>
    public static Matrix<double> ConcatenateHeads(IReadOnlyList<Matrix<double>> heads)
    {
        AttentionChecks.SameShapedHeads(heads);
        return ConcatenateHeadsUnchecked(heads);
    }

    /// <summary><see cref="ConcatenateHeads"/> for head outputs a layer made, all of one shape.</summary>
    internal static Matrix<double> ConcatenateHeadsUnchecked(IReadOnlyList<Matrix<double>> heads)
    {
        var sideBySide = new Matrix<double>[1, heads.Count];
        for (var head = 0; head < heads.Count; head++)
        {
            sideBySide[0, head] = heads[head];
        }

        return Matrix<double>.Build.DenseOfMatrixArray(sideBySide);
    }

    /// <summary>Runs multi-head self-attention on token vectors.</summary>
    /// <param name="tokenVectors">X, shape [tokens x d_model].</param>
    /// <param name="mask">Which keys each token may see, [tokens x tokens]; null shows every key.</param>
    /// <param name="scaled">Divide scores by sqrt(d_k / h) (the default).</param>
    /// <param name="tokens">Token labels, one per row of X, or null for position numbers.</param>
    /// <returns>Every head's steps, the concatenation and the output [tokens x d_out].</returns>
    /// <exception cref="ArgumentOutOfRangeException">The heads' [tokens x tokens] matrices would not fit in memory (use the fast path).</exception>
    public MultiHeadAttentionResult Forward(Matrix<double> tokenVectors, Mask? mask = null, bool scaled = true, IReadOnlyList<string>? tokens = null)
    {
        // Every head keeps its scores, masked scores and weights: 3 h [tokens x tokens] matrices, checked before projecting.
        AttentionChecks.SelfAttentionInputs(tokenVectors, mask, tokens, 3 * Heads, $"multi-head attention with {Heads} heads");
        var (queries, keys, values) = Projections.Project(tokenVectors);   // each [tokens x d]; checks X once
        var queryHeads = SplitHeadsUnchecked(queries, Heads);               // h x [tokens x d/h]
        var keyHeads = SplitHeadsUnchecked(keys, Heads);
        var valueHeads = SplitHeadsUnchecked(values, Heads);

        // The heads' inputs are finite (projections of a checked X), share d/h and fit the checked mask: no check per head.
        var heads = Enumerable.Range(0, Heads)
            .Select(head => ScaledDotProductAttention.ComputeUnchecked(queryHeads[head], keyHeads[head], valueHeads[head], mask, scaled, tokens))
            .ToList();

        var concatenated = ConcatenateHeadsUnchecked([.. heads.Select(h => h.Output)]);   // [tokens x d_v]
        var output = OutputProjection.ApplyUnchecked(concatenated);                       // [tokens x d_out]
        if (mask is not null)
        {
            for (var query = 0; query < mask.Queries; query++)
            {
                if (mask.IsFullyMasked(query))
                {
                    output.ClearRow(query);
                }
            }
        }

        return new MultiHeadAttentionResult(heads[0].QueryTokens, tokenVectors, queries, keys, values, heads, concatenated, output, mask);
    }

    /// <summary>
    /// Runs multi-head self-attention on every sentence of a padded batch, each with its padding mask
    /// (and the causal mask when <paramref name="causal"/> is set).
    /// </summary>
    /// <param name="batch">Sentences padded to one length.</param>
    /// <param name="causal">Also hide later tokens from each token.</param>
    /// <param name="scaled">Divide scores by sqrt(d_k / h) (the default).</param>
    /// <returns>One result per sentence, rows and columns covering the padded length.</returns>
    public IReadOnlyList<MultiHeadAttentionResult> Forward(PaddedBatch batch, bool causal = false, bool scaled = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return [.. Enumerable.Range(0, batch.Count).Select(sentence =>
        {
            var mask = batch.PaddingMask(sentence);
            if (causal)
            {
                mask &= Mask.Causal(batch.PaddedLength);
            }

            return Forward(batch.Inputs[sentence], mask, scaled, batch.Labels[sentence]);
        })];
    }

    /// <summary>
    /// Every gradient of multi-head attention for one sentence: runs the forward pass on X with the mask, then
    /// <see cref="Backward(MultiHeadAttentionResult, Matrix{double})"/>.
    /// </summary>
    /// <param name="tokenVectors">X, shape [tokens x d_model].</param>
    /// <param name="outputGradient">dY = dLoss/dY for the output Y, shape [tokens x d_out].</param>
    /// <param name="mask">The mask, [tokens x tokens], or null.</param>
    /// <param name="scaled">Whether scores are divided by sqrt(d_k / h) (the default).</param>
    /// <returns>dX and the gradients of W_Q, W_K, W_V, W_O and their biases.</returns>
    public MultiHeadAttentionGradients Backward(Matrix<double> tokenVectors, Matrix<double> outputGradient, Mask? mask = null, bool scaled = true) =>
        Backward(Forward(tokenVectors, mask, scaled), outputGradient);

    /// <summary>
    /// Backward pass of Y = Concat(head_1, ..., head_h) W_O + b_O with head_i = Attention(X W_Q,i, X W_K,i, X W_V,i),
    /// the forward steps undone in reverse order:
    /// rows of fully masked queries were set to 0, so their dY rows are dropped; dC, dW_O, db_O from the output
    /// projection; dC split into the heads' dO_i (the backward of concatenation is the split); each head's dQ_i, dK_i,
    /// dV_i; those concatenated into dQ, dK, dV (the backward of the split is concatenation); and the three input
    /// projections, whose dX add up because X fed all three: dX = dQ W_Q^T + dK W_K^T + dV W_V^T.
    /// </summary>
    /// <param name="forward">The forward pass's steps (<see cref="Forward(Matrix{double}, Mask?, bool, IReadOnlyList{string}?)"/> of this layer).</param>
    /// <param name="outputGradient">dY, shape [tokens x d_out].</param>
    /// <returns>dX [tokens x d_model], dW_Q, dW_K [d_model x d_k], dW_V [d_model x d_v], dW_O [d_v x d_out] and the bias gradients.</returns>
    /// <exception cref="ArgumentException">dY does not have the output's shape.</exception>
    public MultiHeadAttentionGradients Backward(MultiHeadAttentionResult forward, Matrix<double> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(forward);
        AttentionChecks.OutputGradient(forward.Output, outputGradient, "Y");
        var upstream = outputGradient.Clone();
        for (var row = 0; row < upstream.RowCount; row++)
        {
            if (forward.Mask?.IsFullyMasked(row) == true)
            {
                upstream.ClearRow(row);   // the forward pass set this output row to 0: nothing flows back through it
            }
        }

        var output = OutputProjection.Backward(forward.Concatenated, upstream);                 // dC, dW_O, db_O
        var headGradients = SplitHeadsUnchecked(output.DInput, Heads);                           // h x dO_i [tokens x d_v/h]
        var perHead = Enumerable.Range(0, Heads)
            .Select(head => ScaledDotProductAttention.BackwardUnchecked(forward.Heads[head], headGradients[head]))
            .ToList();
        var queryGradient = ConcatenateHeadsUnchecked([.. perHead.Select(g => g.DQueries)]);     // dQ [tokens x d_k]
        var keyGradient = ConcatenateHeadsUnchecked([.. perHead.Select(g => g.DKeys)]);          // dK [tokens x d_k]
        var valueGradient = ConcatenateHeadsUnchecked([.. perHead.Select(g => g.DValues)]);      // dV [tokens x d_v]
        var query = Projections.Query.Backward(forward.Input, queryGradient);
        var key = Projections.Key.Backward(forward.Input, keyGradient);
        var value = Projections.Value.Backward(forward.Input, valueGradient);
        var inputGradient = query.DInput + key.DInput + value.DInput;                             // dX
        return new MultiHeadAttentionGradients(
            inputGradient, query.DWeight, key.DWeight, value.DWeight, output.DWeight, query.DBias, key.DBias, value.DBias, output.DBias);
    }

    /// <summary>
    /// Every gradient of multi-head attention for a padded batch: each sentence's forward and backward pass with its
    /// own mask; dX per sentence, weight and bias gradients summed over the sentences (in sentence order). A padded
    /// position whose query and key are masked (<see cref="Mask.Padding(int, int)"/>) gets exactly zero dX.
    /// </summary>
    /// <param name="inputs">X of each sentence, all [padded length x d_model].</param>
    /// <param name="outputGradients">dY of each sentence, [padded length x d_out].</param>
    /// <param name="masks">The mask of each sentence (padding, and causal if used), [padded length x padded length].</param>
    /// <param name="scaled">Whether scores are divided by sqrt(d_k / h) (the default).</param>
    /// <returns>dX per sentence and the summed weight gradients.</returns>
    /// <exception cref="ArgumentException">The three lists have different lengths or are empty.</exception>
    public MultiHeadAttentionBatchGradients Backward(IReadOnlyList<Matrix<double>> inputs, IReadOnlyList<Matrix<double>> outputGradients, IReadOnlyList<Mask> masks, bool scaled = true)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputGradients);
        ArgumentNullException.ThrowIfNull(masks);
        if (inputs.Count == 0 || outputGradients.Count != inputs.Count || masks.Count != inputs.Count)
        {
            throw new ArgumentException(
                $"got {inputs.Count} inputs, {outputGradients.Count} output gradients and {masks.Count} masks: give one of each per sentence, at least one sentence.",
                nameof(outputGradients));
        }

        var sentences = Enumerable.Range(0, inputs.Count).Select(s => Backward(inputs[s], outputGradients[s], masks[s], scaled)).ToList();
        static Vector<double>? SumBiases(IEnumerable<Vector<double>?> biases) =>
            biases.Aggregate((Vector<double>?)null, (sum, b) => b is null ? sum : sum is null ? b.Clone() : sum + b);
        static Matrix<double> Sum(IEnumerable<Matrix<double>> matrices) => matrices.Aggregate((sum, m) => sum + m);
        return new MultiHeadAttentionBatchGradients(
            [.. sentences.Select(g => g.DX)],
            Sum(sentences.Select(g => g.DWQ)),
            Sum(sentences.Select(g => g.DWK)),
            Sum(sentences.Select(g => g.DWV)),
            Sum(sentences.Select(g => g.DWO)),
            SumBiases(sentences.Select(g => g.DbQ)),
            SumBiases(sentences.Select(g => g.DbK)),
            SumBiases(sentences.Select(g => g.DbV)),
            SumBiases(sentences.Select(g => g.DbO)));
    }

    /// <summary>
    /// Every gradient of multi-head attention for a <see cref="PaddedBatch"/>, each sentence with its padding mask
    /// (and the causal mask when <paramref name="causal"/> is set), as <see cref="Forward(PaddedBatch, bool, bool)"/> runs it.
    /// </summary>
    /// <param name="batch">Sentences padded to one length.</param>
    /// <param name="outputGradients">dY of each sentence, [padded length x d_out].</param>
    /// <param name="causal">Also hide later tokens from each token.</param>
    /// <param name="scaled">Whether scores are divided by sqrt(d_k / h) (the default).</param>
    /// <returns>dX per sentence (zero on padding) and the summed weight gradients.</returns>
    public MultiHeadAttentionBatchGradients Backward(PaddedBatch batch, IReadOnlyList<Matrix<double>> outputGradients, bool causal = false, bool scaled = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var masks = Enumerable.Range(0, batch.Count)
            .Select(sentence => causal ? batch.PaddingMask(sentence) & Mask.Causal(batch.PaddedLength) : batch.PaddingMask(sentence))
            .ToList();
        return Backward(batch.Inputs, outputGradients, masks, scaled);
    }
}

/// <summary>Every gradient of multi-head attention for one sentence, in the library's [in x out] layout.</summary>
/// <param name="DX">dLoss/dX, shape [tokens x d_model].</param>
/// <param name="DWQ">dLoss/dW_Q, shape [d_model x d_k].</param>
/// <param name="DWK">dLoss/dW_K, shape [d_model x d_k].</param>
/// <param name="DWV">dLoss/dW_V, shape [d_model x d_v].</param>
/// <param name="DWO">dLoss/dW_O, shape [d_v x d_out].</param>
/// <param name="DbQ">dLoss/db_Q (length d_k), or null without biases.</param>
/// <param name="DbK">dLoss/db_K (length d_k), or null without biases.</param>
/// <param name="DbV">dLoss/db_V (length d_v), or null without biases.</param>
/// <param name="DbO">dLoss/db_O (length d_out), or null without biases.</param>
public sealed record MultiHeadAttentionGradients(
    Matrix<double> DX, Matrix<double> DWQ, Matrix<double> DWK, Matrix<double> DWV, Matrix<double> DWO,
    Vector<double>? DbQ, Vector<double>? DbK, Vector<double>? DbV, Vector<double>? DbO);

/// <summary>Every gradient of multi-head attention for a padded batch: dX per sentence, the rest summed over sentences.</summary>
/// <param name="DX">dLoss/dX of each sentence, [padded length x d_model]; zero rows on padding.</param>
/// <param name="DWQ">Summed dLoss/dW_Q, shape [d_model x d_k].</param>
/// <param name="DWK">Summed dLoss/dW_K, shape [d_model x d_k].</param>
/// <param name="DWV">Summed dLoss/dW_V, shape [d_model x d_v].</param>
/// <param name="DWO">Summed dLoss/dW_O, shape [d_v x d_out].</param>
/// <param name="DbQ">Summed dLoss/db_Q, or null without biases.</param>
/// <param name="DbK">Summed dLoss/db_K, or null without biases.</param>
/// <param name="DbV">Summed dLoss/db_V, or null without biases.</param>
/// <param name="DbO">Summed dLoss/db_O, or null without biases.</param>
public sealed record MultiHeadAttentionBatchGradients(
    IReadOnlyList<Matrix<double>> DX, Matrix<double> DWQ, Matrix<double> DWK, Matrix<double> DWV, Matrix<double> DWO,
    Vector<double>? DbQ, Vector<double>? DbK, Vector<double>? DbV, Vector<double>? DbO);
