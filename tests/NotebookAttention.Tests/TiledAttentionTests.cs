using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Fast;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>
/// The fp64 tiled attention (online softmax over key blocks) is the reference path's softmax(Q K^T / sqrt(d_k)) V for
/// every block size and mask, its trace is the arithmetic worked out by hand, and it is the middle step between the
/// reference path and the fp32 tiled kernel.
/// </summary>
public class TiledAttentionTests
{
    /// <summary>Block sizes: 1 (one key at a time), exactly the key count, more than the key count, and in between.</summary>
    private static Gen<int> BlockSize(int keys) =>
        Gen.Frequency((1, Gen.Const(1)), (1, Gen.Const(keys)), (1, Gen.Int[keys + 1, keys + 40]), (3, Gen.Int[1, Math.Max(1, keys)]));

    /// <summary>
    /// Masks: none; padding, causal and window as the fast path describes them; a random table; and a random table
    /// with one query row hidden completely, so fully masked rows occur often.
    /// </summary>
    private static Gen<Mask?> AnyMask(int queries, int keys) =>
        Gen.Frequency(
            (1, Gen.Const((Mask?)null)),
            (2, Generators.FastMask(queries, keys).Select(m => (Mask?)m.ToMask(queries, keys))),
            (1, Generators.Mask(queries, keys).Select(m => (Mask?)m)),
            (1, from m in Generators.Mask(queries, keys)
                from hidden in Gen.Int[0, queries - 1]
                select (Mask?)(m & Mask.FromFunction(queries, keys, (query, _) => query != hidden))));

    private static readonly Gen<(AttentionCase Case, int Block, Mask? Mask, bool Scaled)> Cases =
        from c in Generators.AttentionProblem()
        from block in BlockSize(c.Keys)
        from mask in AnyMask(c.Queries, c.Keys)
        from scaled in Gen.Frequency((4, Gen.Const(true)), (1, Gen.Const(false)))
        select (c, block, mask, scaled);

    /// <summary>The library's derived bound on max |tiled - reference| in fp64 (<see cref="TiledAttention.RoundingBound"/>).</summary>
    internal static double Fp64Bound(Matrix<double> q, Matrix<double> k, Matrix<double> v, int blockSize, bool scaled = true) =>
        TiledAttention.RoundingBound(q, k, v, blockSize, scaled);

    [Fact]
    public void Tiled_attention_equals_the_reference_for_every_block_size_and_mask()
    {
        Property.Holds(Cases, t =>
        {
            var (c, block, mask, scaled) = t;
            var reference = ScaledDotProductAttention.Compute(c.Q, c.K, c.V, mask, scaled).Output;
            var tiled = TiledAttention.Compute(c.Q, c.K, c.V, block, mask, scaled);
            var error = Differences.Largest(reference, tiled);
            var bound = Fp64Bound(c.Q, c.K, c.V, block, scaled);
            Assert.True(error <= bound, $"{c}, block {block}, scaled {scaled}: max |tiled - reference| = {error:E2} exceeds {bound:E2}");
            for (var query = 0; mask is not null && query < c.Queries; query++)
            {
                if (mask.IsFullyMasked(query))
                {
                    Assert.All(tiled.Row(query), x => Assert.Equal(0.0, x));   // the reference's convention: zero, never NaN
                }
            }
        });
    }

    [Fact]
    public void The_trace_of_a_row_ends_in_that_row_of_the_output_and_its_last_m_and_l_are_the_whole_rows()
    {
        var cases = from t in Cases from query in Gen.Int[0, t.Case.Queries - 1] select (t.Case, t.Block, t.Mask, t.Scaled, query);
        Property.Holds(cases, t =>
        {
            var (c, block, mask, scaled, query) = t;
            var trace = TiledAttention.Trace(c.Q, c.K, c.V, query, block, mask, scaled);
            var reference = ScaledDotProductAttention.Compute(c.Q, c.K, c.V, mask, scaled);
            var bound = Fp64Bound(c.Q, c.K, c.V, block, scaled);
            Assert.Equal((c.Keys + block - 1) / block, trace.Blocks.Count);
            Assert.Equal(Enumerable.Range(0, trace.Blocks.Count).Select(b => b * block), trace.Blocks.Select(b => b.FirstKey));

            // The running maximum never falls and ends at the row's largest allowed score (the same scores as the
            // reference, each path within delta of the exact score).
            var maskedRow = reference.MaskedScores.Row(query);
            Assert.True(trace.Max == maskedRow.Maximum() || Math.Abs(trace.Max - maskedRow.Maximum()) <= 2 * TiledAttention.ScoreRoundingError(c.Q, c.K, scaled), $"m {trace.Max} against {maskedRow.Maximum()}");
            foreach (var step in trace.Blocks)
            {
                Assert.Equal(Math.Max(step.PreviousMax, step.BlockMax), step.RunningMax);
                Assert.InRange(step.Rescale, 0.0, 1.0);
                Assert.False(double.IsNaN(step.RunningSum));
            }

            var tiledWeights = trace.Weights();
            var error = Differences.Largest(tiledWeights, reference.Weights.Row(query));
            Assert.True(error <= Fp64Bound(c.Q, c.K, Matrix<double>.Build.Dense(c.Keys, 1, 1.0), block, scaled), $"weights differ by {error:E2}");
            var outputError = Differences.Largest(trace.Output, reference.Output.Row(query));
            Assert.True(outputError <= bound, $"row {query}: the trace's output differs from the reference by {outputError:E2}, bound {bound:E2}");
        });
    }

    [Fact]
    public void The_trace_of_a_small_row_is_the_arithmetic_worked_out_by_hand()
    {
        // d_k = 1, unscaled, q = 1: the scores are the keys, [1, 3, 5, 0]; values [10, 20, 30, 40]; blocks of 2.
        var q = Matrix<double>.Build.Dense(1, 1, 1.0);
        var k = Matrix<double>.Build.DenseOfColumnArrays([1.0, 3, 5, 0]);
        var v = Matrix<double>.Build.DenseOfColumnArrays([10.0, 20, 30, 40]);
        var trace = TiledAttention.Trace(q, k, v, query: 0, blockSize: 2, scaled: false);

        // Block 0, scores [1, 3]: m goes from -inf to 3, nothing to rescale (factor e^-inf = 0), l = e^(1-3) + e^0.
        var first = trace.Blocks[0];
        Assert.Equal([1.0, 3.0], first.Scores);
        Assert.Equal((double.NegativeInfinity, 3.0, 0.0), (first.PreviousMax, first.RunningMax, first.Rescale));
        Assert.Equal(Math.Exp(-2) + 1, first.RunningSum, 15);

        // Block 1, scores [5, 0]: m rises to 5, so the old sum is rescaled by e^(3-5), then e^0 + e^(0-5) is added.
        var second = trace.Blocks[1];
        Assert.Equal((3.0, 5.0), (second.PreviousMax, second.RunningMax));
        Assert.Equal(Math.Exp(-2), second.Rescale, 15);
        var l = ((Math.Exp(-2) + 1) * Math.Exp(-2)) + 1 + Math.Exp(-5);
        Assert.Equal(l, second.RunningSum, 14);

        // o / l = (10 e^-4 + 20 e^-2 + 30 + 40 e^-5) / (e^-4 + e^-2 + 1 + e^-5).
        var expected = ((10 * Math.Exp(-4)) + (20 * Math.Exp(-2)) + 30 + (40 * Math.Exp(-5))) / (Math.Exp(-4) + Math.Exp(-2) + 1 + Math.Exp(-5));
        Assert.Equal(expected, trace.Output[0], 13);
    }

    [Fact]
    public void A_block_with_every_key_masked_changes_nothing_and_a_row_with_every_key_masked_gives_zeros()
    {
        var q = Matrix<double>.Build.Dense(2, 1, 1.0);
        var k = Matrix<double>.Build.DenseOfColumnArrays([1.0, 3, 2, 0]);
        var v = Matrix<double>.Build.DenseOfColumnArrays([10.0, 20, 30, 40]);
        var mask = Mask.FromFunction(2, 4, (query, key) => query == 0 && key >= 2);   // row 0 sees keys 2 and 3; row 1 nothing

        // Row 0, block 0 is hidden: m stays -inf, the factor is 1 (no e^(-inf + inf)), l stays 0.
        var row = TiledAttention.Trace(q, k, v, query: 0, blockSize: 2, mask, scaled: false);
        Assert.Equal([double.NegativeInfinity, double.NegativeInfinity], row.Blocks[0].Scores);
        Assert.Equal((double.NegativeInfinity, 1.0, 0.0), (row.Blocks[0].RunningMax, row.Blocks[0].Rescale, row.Blocks[0].RunningSum));

        // Block 1, scores [2, 0]: m = 2, factor e^(-inf) = 0, l = 1 + e^-2, output (30 + 40 e^-2) / (1 + e^-2).
        Assert.Equal((2.0, 0.0), (row.Blocks[1].RunningMax, row.Blocks[1].Rescale));
        Assert.Equal(1 + Math.Exp(-2), row.Blocks[1].RunningSum, 15);
        Assert.Equal((30 + (40 * Math.Exp(-2))) / (1 + Math.Exp(-2)), row.Output[0], 13);

        // Row 1 sees nothing: every factor 1, l = 0, output and weights 0, never NaN, as the reference path.
        var hidden = TiledAttention.Trace(q, k, v, query: 1, blockSize: 2, mask, scaled: false);
        Assert.All(hidden.Blocks, b => Assert.Equal((1.0, 0.0), (b.Rescale, b.RunningSum)));
        Assert.Equal(0.0, hidden.Output[0]);
        Assert.All(hidden.Weights(), w => Assert.Equal(0.0, w));
        var reference = ScaledDotProductAttention.Compute(q, k, v, mask, scaled: false).Output;
        var tiled = TiledAttention.Compute(q, k, v, 2, mask, scaled: false);
        Assert.Equal(reference[0, 0], tiled[0, 0], 13);
        Assert.Equal((0.0, 0.0), (reference[1, 0], tiled[1, 0]));
    }

    [Fact]
    public void The_rescale_factor_is_e_to_the_old_minus_the_new_maximum()
    {
        Assert.Equal(Math.Exp(-2), TiledAttention.Rescale(3, 5), 15);
        Assert.Equal(1.0, TiledAttention.Rescale(4, 4));
        Assert.Equal(0.0, TiledAttention.Rescale(double.NegativeInfinity, 1));
        Assert.Equal(1.0, TiledAttention.Rescale(double.NegativeInfinity, double.NegativeInfinity));
    }

    [Fact]
    public void Bad_inputs_are_refused_with_what_to_do()
    {
        var q = Matrix<double>.Build.Dense(3, 2, 1.0);
        var k = Matrix<double>.Build.Dense(4, 2, 1.0);
        var v = Matrix<double>.Build.Dense(4, 5, 1.0);
        Assert.Contains("block size", Assert.Throws<ArgumentOutOfRangeException>(() => TiledAttention.Compute(q, k, v, 0)).Message, StringComparison.Ordinal);
        Assert.Contains("same length d_k", Assert.Throws<ArgumentException>(() => TiledAttention.Compute(q, Matrix<double>.Build.Dense(4, 3), v, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("every key needs its value", Assert.Throws<ArgumentException>(() => TiledAttention.Compute(q, k, Matrix<double>.Build.Dense(3, 5), 2)).Message, StringComparison.Ordinal);
        Assert.Contains("Mask.Causal(4)", Assert.Throws<ArgumentException>(() => TiledAttention.Compute(q, k, v, 2, Mask.Causal(3))).Message, StringComparison.Ordinal);
        var withNaN = q.Clone();
        withNaN[1, 1] = double.NaN;
        Assert.Throws<ArgumentException>(() => TiledAttention.Compute(withNaN, k, v, 2));
        Assert.Contains("0 to 2", Assert.Throws<ArgumentOutOfRangeException>(() => TiledAttention.Trace(q, k, v, 3, 2)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => TiledAttention.Compute(q * 1e160, k * 1e160, v, 2));   // scores beyond fp64
    }

    /// <summary>
    /// The middle step: the fp32 tiled kernel against the fp64 tiled attention with the same key blocks
    /// (<see cref="FastAttention.KeyBlock"/> keys), so both rescale at the same keys and differ only by fp32 rounding,
    /// within the fp32 bound; and the fp64 tiled attention within its fp64 bound of the reference, which ties the fast
    /// kernel to the equations through a readable algorithm of the same shape.
    /// </summary>
    [Fact]
    public void The_fp32_tiled_kernel_agrees_with_the_fp64_tiled_attention_of_the_same_block_structure()
    {
        var cases = from c in Generators.AttentionProblem() from mask in Generators.FastMask(c.Queries, c.Keys) select (c, mask);
        Property.Holds(cases, t =>
        {
            var (c, fastMask) = t;
            var mask = fastMask.ToMask(c.Queries, c.Keys);
            var tiled64 = TiledAttention.Compute(c.Q, c.K, c.V, FastAttention.KeyBlock, mask);
            var reference = ScaledDotProductAttention.Compute(c.Q, c.K, c.V, mask).Output;
            Assert.True(Differences.Largest(reference, tiled64) <= Fp64Bound(c.Q, c.K, c.V, FastAttention.KeyBlock), $"fp64 tiled vs reference, {c}");
            var bound = Fp32Error.Attention(c.Q, c.K, c.V) + Fp64Bound(c.Q, c.K, c.V, FastAttention.KeyBlock);   // fast to exact, exact to fp64 tiled
            FastAttentionTests.AssertAgrees(tiled64, FastAttention.Tiled(c.Q, c.K, c.V, fastMask), bound, mask, $"fp32 tiled vs fp64 tiled, {c}, {fastMask}");
        });
    }
}
