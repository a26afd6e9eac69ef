using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Approximations;
using NotebookAttention.Attention;
using NotebookAttention.Fast;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests.Hardening;

/// <summary>Sizes too large for a path are refused before anything large is allocated, with no integer overflow.</summary>
[Collection(MeasurementsRunAlone.Name)]
public class SizeGuardTests
{
    [Fact]
    public void The_reference_path_refuses_a_score_matrix_too_large_before_allocating_it()
    {
        var tokens = Matrix<double>.Build.Dense(50_000, 2, 0.5);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ScaledDotProductAttention.Compute(tokens, tokens, tokens));
        Assert.Contains("[50,000 x 50,000]", error.Message, StringComparison.Ordinal);
        Assert.Contains("FastAttention.Tiled", error.Message, StringComparison.Ordinal);

        var layer = new MultiHeadAttention(2, 1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(tokens));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the layer allocated before refusing");
    }

    [Fact]
    public void The_reference_size_guard_names_the_bytes_needed_and_the_memory_available()
    {
        // 10,000 tokens and 8 heads keep 8 x 3 fp64 [10,000 x 10,000] matrices: 17.9 GiB.
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Check.ReferenceFits(10_000, 10_000, 24, "8 heads", memoryBudgetBytes: 8L << 30));
        Assert.Contains("17.9 GiB", error.Message, StringComparison.Ordinal);
        Assert.Contains("8.0 GiB", error.Message, StringComparison.Ordinal);
        Assert.Contains("FastAttention.Tiled", error.Message, StringComparison.Ordinal);
        Check.ReferenceFits(1_000, 1_000, 24, "8 heads", memoryBudgetBytes: 8L << 30);
    }

    [Fact]
    public void A_causal_mask_too_large_to_store_is_refused_without_overflow()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Mask.Causal(50_000));
        Assert.Contains("FastMask", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Mask.None(70_000, 70_000));
    }

    [Fact]
    public void A_multi_head_layer_too_large_for_its_weights_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MultiHeadAttention(65_536, 1));
        Assert.Contains("65,536", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearProjection.Identity(65_536));
    }

    [Fact]
    public void Materialized_score_bytes_never_overflow()
    {
        // int.MaxValue - 50 rounds up to 22,369,621 blocks of 96 queries; 1 key to one block of 128.
        Assert.Equal(4L * 22_369_621 * 96 * 128, FastAttention.MaterializedScoreBytes(int.MaxValue - 50, 1));
        Assert.Equal(long.MaxValue, FastAttention.MaterializedScoreBytes(int.MaxValue, int.MaxValue));
        Assert.Throws<InsufficientMemoryException>(() => FastAttention.EnsureScoresFit(int.MaxValue - 50, 1, 1024));
        Assert.Throws<InsufficientMemoryException>(() => FastAttention.EnsureScoresFit(int.MaxValue, int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => FastAttention.MaterializedScoreBytes(-1, 5));
    }

    [Fact]
    public void Fast_multi_head_attention_checks_sizes_and_mask_before_allocating()
    {
        var layer = new FastMultiHeadAttention(new MultiHeadAttention(16, 2));
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(new float[16], new float[16], -1));
        Assert.Contains("-1", negative.Message, StringComparison.Ordinal);

        var (shortInput, longOutput) = (new float[10], new float[100_000 * 16]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var tooShort = Assert.Throws<ArgumentException>(() => layer.Forward(shortInput, longOutput, 100_000));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the layer allocated before finding the input too short");
        Assert.Contains("input X has 10 floats", tooShort.Message, StringComparison.Ordinal);

        var (input, output) = (new float[4 * 16], new float[4 * 16]);
        before = GC.GetAllocatedBytesForCurrentThread();
        var badMask = Assert.Throws<ArgumentException>(() => layer.Forward(input, output, 4, new FastMask(ValidLength: 9)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 16, "the layer projected before checking the mask");
        Assert.Contains("valid length 9", badMask.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => layer.Forward(new float[4 * 16], new float[3 * 16], 4));
    }

    [Fact]
    public async Task Visited_tiles_of_the_longest_sequence_are_counted_in_closed_form()
    {
        var count = Task.Run(() => FastAttention.VisitedTiles(int.MaxValue));
        var finished = await Task.WhenAny(count, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(finished == count, "VisitedTiles(int.MaxValue) did not finish in 20 s");
        Assert.Equal(22_369_622L * 16_777_216L, await count);
    }

    [Fact]
    public void Visited_tiles_are_exactly_the_tiles_with_a_visible_pair()
    {
        var cases =
            from n in Gen.Int[1, 700]
            from valid in Gen.Int[0, 700]
            from causal in Gen.Bool
            from window in Gen.Int[-1, 300]
            select (n, mask: new FastMask(ValidLength: valid <= n && valid % 3 == 0 ? valid : null, Causal: causal, Window: window < 0 ? null : window));
        Property.Holds(cases, c =>
        {
            long expected = 0;
            for (var firstQuery = 0; firstQuery < c.n; firstQuery += FastAttention.QueryBlock)
            {
                for (var firstKey = 0; firstKey < c.n; firstKey += FastAttention.KeyBlock)
                {
                    expected += AnyVisible(c.n, c.mask, firstQuery, firstKey) ? 1 : 0;
                }
            }

            Assert.Equal(expected, FastAttention.VisitedTiles(c.n, c.mask));
        });
    }

    [Fact]
    public void Masks_built_for_pictures_are_validated()
    {
        var window = Assert.Throws<ArgumentException>(() => SlidingWindowAttention.Mask(5, -1));
        Assert.Contains("window -1", window.Message, StringComparison.Ordinal);
        var valid = Assert.Throws<ArgumentException>(() => new FastMask(ValidLength: 9).ToMask(4, 4));
        Assert.Contains("valid length 9", valid.Message, StringComparison.Ordinal);
    }

    private static bool AnyVisible(int n, FastMask mask, int firstQuery, int firstKey)
    {
        for (var query = firstQuery; query < Math.Min(n, firstQuery + FastAttention.QueryBlock); query++)
        {
            for (var key = firstKey; key < Math.Min(n, firstKey + FastAttention.KeyBlock); key++)
            {
                if (mask.Allows(query, key))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
