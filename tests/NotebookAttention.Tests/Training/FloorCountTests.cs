using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Tests.Support;
using Xunit.Sdk;

namespace NotebookAttention.Tests.Training;

/// <summary>The count that keeps the relative error's floor from silently deciding the gradient checks.</summary>
public class FloorCountTests
{
    [Fact]
    public void Every_case_of_a_property_reports_to_its_count_whatever_thread_runs_it()
    {
        var seen = 0;
        var missing = 0;
        Property.Holds(Gen.Int[0, 100], _ =>
        {
            if (FloorCount.Current is { } count)
            {
                count.Add("probe", Matrix<double>.Build.Dense(1, 1, 1.0), Matrix<double>.Build.Dense(1, 1, 1.0));
                Interlocked.Increment(ref seen);
            }
            else
            {
                Interlocked.Increment(ref missing);
            }
        });

        Assert.Equal(0, missing);
        Assert.Equal(Property.Cases, seen);
        Assert.Null(FloorCount.Current);
    }

    [Fact]
    public void A_tensor_mostly_below_the_floor_fails_and_exact_zeros_do_not()
    {
        var tiny = Matrix<double>.Build.Dense(2, 2, 1e-7);
        var zero = Matrix<double>.Build.Dense(2, 2);
        var count = new FloorCount();
        for (var i = 0; i < 100; i++)
        {
            count.Add("masked", zero, zero);
            count.Add("big", tiny * 1e6, tiny * 1e6);
            count.Add("small", i < 70 ? tiny * 1e6 : tiny, i < 70 ? tiny * 1e6 : tiny);
        }

        Assert.Equal((100, 0), count.For("masked"));
        Assert.Equal((100, 30), count.For("small"));
        var error = Assert.Throws<TrueException>(count.AssertRare);
        Assert.Contains("small: 30 of 100", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("masked:", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("big:", error.Message, StringComparison.Ordinal);
    }
}
