using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Fast;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>The fp32 fast paths agree with the fp64 reference path.</summary>
public class FastAttentionTests
{
    /// <summary>
    /// Error bound: each output row is a convex combination of value rows, so an fp32 error is best measured
    /// against the size of the values. Scores carry a relative error of about d * 2^-24, which softmax turns into
    /// weight errors of the same relative size; 2e-5 of max |V| leaves room for d = 128 and scores up to ~30.
    /// </summary>
    private const double Tolerance = 2e-5;

    private static readonly Gen<(Matrix<double> Q, Matrix<double> K, Matrix<double> V, FastMask Mask)> Cases =
        from n in Gen.OneOf(Gen.Int[1, 40], Gen.Int[90, 300])
        from d in Gen.OneOf(16, 32, 64, 128, 5, 24)
        from dv in Gen.OneOf(16, 64, 3, 40)
        from q in Generators.Matrix(n, d, bound: 2)
        from k in Generators.Matrix(n, d, bound: 2)
        from v in Generators.Matrix(n, dv, bound: 2)
        from valid in Gen.Int[0, n]
        from usePadding in Gen.Bool
        from causal in Gen.Bool
        from window in Gen.Int[0, 20]
        from useWindow in Gen.Int[0, 3]
        select (q, k, v, new FastMask(usePadding ? valid : null, causal, useWindow == 0 ? window : null));

    private static void AssertAgrees(Matrix<double> reference, Matrix<double> fast, Matrix<double> values, string what)
    {
        var scale = Math.Max(1, values.Enumerate().Max(Math.Abs));
        var error = Generators.MaxAbsDifference(reference, fast) / scale;
        Assert.True(error <= Tolerance, $"{what}: error {error:E2} relative to max |V| exceeds {Tolerance:E0}");
    }

    private static Matrix<double> Reference(Matrix<double> q, Matrix<double> k, Matrix<double> v, FastMask mask) =>
        ScaledDotProductAttention.Compute(q, k, v, mask.ToMask(q.RowCount, k.RowCount)).Output;

    [Fact]
    public void Tiled_and_materialized_agree_with_the_reference_path_with_masks()
    {
        Cases.Sample(c =>
        {
            var reference = Reference(c.Q, c.K, c.V, c.Mask);
            AssertAgrees(reference, FastAttention.Tiled(c.Q, c.K, c.V, c.Mask), c.V, $"tiled n={c.Q.RowCount} d={c.Q.ColumnCount} {c.Mask}");
            AssertAgrees(reference, FastAttention.Materialized(c.Q, c.K, c.V, c.Mask), c.V, $"materialized n={c.Q.RowCount} d={c.Q.ColumnCount} {c.Mask}");
        }, iter: 300);
    }

    [Fact]
    public void Portable_kernels_give_the_same_results_as_the_avx_kernels()
    {
        var q = Matrix<double>.Build.Dense(130, 64, (r, c) => Math.Sin((r * 7) + c));
        var v = Matrix<double>.Build.Dense(130, 20, (r, c) => Math.Cos(r + (3 * c)));
        var mask = new FastMask(120, Causal: true);
        var accelerated = FastAttention.Tiled(q, q, v, mask);
        var before = Microkernels.Accelerated;
        try
        {
            Microkernels.Accelerated = false;
            var portable = FastAttention.Tiled(q, q, v, mask);
            AssertAgrees(accelerated, portable, v, "portable vs accelerated");
            AssertAgrees(Reference(q, q, v, mask), portable, v, "portable vs reference");
        }
        finally
        {
            Microkernels.Accelerated = before;
        }
    }

    [Fact]
    public void One_token_attends_to_itself()
    {
        var q = Matrix<double>.Build.Dense(1, 16, 0.3);
        var v = Matrix<double>.Build.Dense(1, 16, (_, c) => c);
        Assert.Equal(v, FastAttention.Tiled(q, q, v));
        Assert.Equal(v, FastAttention.Materialized(q, q, v));
    }

    [Fact]
    public void Padding_queries_and_fully_masked_rows_give_zero_not_nan()
    {
        var q = Matrix<double>.Build.Dense(10, 16, (r, c) => (r + 1) * 0.1 * Math.Sin(c));
        var output = FastAttention.Tiled(q, q, q, new FastMask(ValidLength: 6));
        Assert.All(output.SubMatrix(6, 4, 0, 16).Enumerate(), x => Assert.Equal(0.0, x));
        Assert.All(output.Enumerate(), x => Assert.True(double.IsFinite(x)));
        var none = FastAttention.Materialized(q, q, q, new FastMask(ValidLength: 0));
        Assert.All(none.Enumerate(), x => Assert.Equal(0.0, x));
    }

    [Fact]
    public void Materialized_refuses_a_score_matrix_that_does_not_fit_before_allocating()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InsufficientMemoryException>(() => FastAttention.EnsureScoresFit(100_000, 100_000, memoryBudgetBytes: 1L << 30));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("100,000 queries x 100,000 keys needs 37.3 GiB", error.Message, StringComparison.Ordinal);
        Assert.Contains("1.0 GiB is available", error.Message, StringComparison.Ordinal);
        Assert.Contains("Tiled", error.Message, StringComparison.Ordinal);

        var q = new float[100 * 16];
        Assert.Throws<InsufficientMemoryException>(() => FastAttention.Materialized(q, q, q, new float[100 * 16], 100, 100, 16, 16, memoryBudgetBytes: 1000));
    }

    [Fact]
    public void Wrong_buffer_sizes_and_masks_are_refused_with_the_sizes()
    {
        var q = new float[10 * 16];
        var error = Assert.Throws<ArgumentException>(() => FastAttention.Tiled(q, q, q, new float[5], 10, 10, 16, 16));
        Assert.Contains("output has 5 floats but a row-major [10 x 16] matrix needs 160", error.Message, StringComparison.Ordinal);
        var keys = Assert.Throws<ArgumentException>(() => FastAttention.Tiled(q, new float[7], q, new float[160], 10, 10, 16, 16));
        Assert.Contains("keys has 7 floats", keys.Message, StringComparison.Ordinal);
        var mask = Assert.Throws<ArgumentException>(() => FastAttention.Tiled(q, q, q, new float[160], 10, 10, 16, 16, new FastMask(ValidLength: 11)));
        Assert.Contains("valid length 11 does not fit", mask.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_run_can_be_cancelled()
    {
        var n = 2048;
        var data = new float[n * 64];
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => FastAttention.Tiled(data, data, data, new float[n * 64], n, n, 64, 64, cancellation: cancel.Token));
    }
}
