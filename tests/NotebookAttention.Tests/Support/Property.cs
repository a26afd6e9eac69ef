using CsCheck;

namespace NotebookAttention.Tests.Support;

/// <summary>Runs a property over generated cases and proves that it really ran them all.</summary>
internal static class Property
{
    /// <summary>Cases per property.</summary>
    public const int Cases = 1_000;

    /// <summary>
    /// Checks <paramref name="assert"/> on <see cref="Cases"/> generated inputs (CsCheck shrinks a failure), and that the
    /// gradient comparisons among them were rarely decided by the relative error's floor (<see cref="FloorCount"/>).
    /// </summary>
    public static void Holds<T>(Gen<T> gen, Action<T> assert)
    {
        var ran = 0;
        var floors = FloorCount.Begin();
        try
        {
            gen.Sample(value =>
            {
                Interlocked.Increment(ref ran);
                assert(value);
            }, iter: Cases);
        }
        finally
        {
            FloorCount.End();
        }

        Assert.True(ran >= Cases, $"the property ran {ran} cases, expected at least {Cases}");
        floors.AssertRare();
    }
}
