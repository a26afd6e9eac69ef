using System.Reflection;
using System.Runtime.Loader;

namespace NotebookAttention.Notebooks;

/// <summary>
/// What the notebook kernel needs before the first chart. The package's <c>extension.dib</c> calls
/// <see cref="Install"/> when a notebook loads it, so learners never have to.
/// </summary>
public static class KernelSetup
{
    private static int installed;

    /// <summary>
    /// Lets Plotly.NET 6 run in the last .NET Interactive kernel. Plotly.NET 6 is built against FSharp.Core 10.1,
    /// but the kernel has FSharp.Core 10.0 loaded already and cannot load a second copy, so the first chart would
    /// throw <see cref="FileNotFoundException"/>. This answers every request for FSharp.Core with the copy that
    /// is loaded. Calling it twice is harmless.
    /// </summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 1)
        {
            return;
        }

        AssemblyLoadContext.Default.Resolving += ResolveLoadedFSharpCore;
    }

    private static Assembly? ResolveLoadedFSharpCore(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == "FSharp.Core"
            ? AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "FSharp.Core")
            : null;
}
