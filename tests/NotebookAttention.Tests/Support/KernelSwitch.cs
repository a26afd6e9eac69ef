using NotebookAttention.Fast;

namespace NotebookAttention.Tests.Support;

/// <summary>Runs code with the portable kernels instead of the AVX ones, restoring the switch afterwards.</summary>
/// <remarks>
/// <see cref="Microkernels.Accelerated"/> is process-wide, so every test that flips it belongs to the
/// <see cref="MeasurementsRunAlone"/> collection. <see cref="PackedMatrix.Kernels.Wide"/> reads the switch once, in
/// its type initializer: it is read here before the switch flips, so a first use inside the window cannot latch
/// the portable tile for the rest of the process.
/// </remarks>
internal static class KernelSwitch
{
    public static T WithPortableKernels<T>(Func<T> run)
    {
        var wide = PackedMatrix.Kernels.Wide;
        var before = Microkernels.Accelerated;
        try
        {
            Microkernels.Accelerated = false;
            return run();
        }
        finally
        {
            Microkernels.Accelerated = before;
            Assert.Equal(wide, PackedMatrix.Kernels.Wide);
        }
    }
}
