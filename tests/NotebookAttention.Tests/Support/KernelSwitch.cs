using NotebookAttention.Fast;

namespace NotebookAttention.Tests.Support;

/// <summary>Runs code with a narrower kernel level than the CPU's (portable loops, or AVX2 on an AVX-512 CPU), restoring it afterwards.</summary>
/// <remarks>
/// <see cref="Microkernels.Level"/> is process-wide, so every test that sets it belongs to the
/// <see cref="MeasurementsRunAlone"/> collection. The default packing of <see cref="PackedMatrix"/>
/// (<see cref="Microkernels.Wide"/>) follows the CPU, not the level, so a matrix packed inside the window keeps its layout.
/// Property tests run their cases on several threads: a lock keeps one window open at a time, so no case computes at
/// another case's level and the level is always restored.
/// </remarks>
internal static class KernelSwitch
{
    private static readonly Lock Gate = new();

    public static T WithPortableKernels<T>(Func<T> run) => WithLevel(KernelLevel.Portable, run);

    public static T WithLevel<T>(KernelLevel level, Func<T> run)
    {
        lock (Gate)
        {
            var wide = Microkernels.Wide;
            var before = Microkernels.Level;
            try
            {
                Microkernels.Level = level;
                return run();
            }
            finally
            {
                Microkernels.Level = before;
                Assert.Equal(wide, Microkernels.Wide);
            }
        }
    }
}
