namespace NotebookAttention.Runner;

/// <summary>
/// Keeps the runner's writes away from the committed notebooks: an engine deletes and rewrites
/// <c>&lt;output&gt;/NN-name.ipynb</c> and the exporter writes apps whose runs write executed notebooks beside them, so an
/// output or export folder that is the notebooks' own folder would replace the lessons with executed copies.
/// Checked on full paths (a symbolic link to the folder resolved) before anything is deleted or written.
/// </summary>
public static class OutputGuard
{
    /// <summary>Throws when <paramref name="folder"/> is the folder <paramref name="notebook"/> lives in.</summary>
    /// <param name="notebook">A source notebook about to be run or exported.</param>
    /// <param name="folder">Where its executed copy, page or app would go.</param>
    /// <param name="option">The option that named the folder, for the message (e.g. <c>--output</c>).</param>
    /// <exception cref="ArgumentException">The folder holds the source notebook.</exception>
    public static void RefuseSourceFolder(string notebook, string folder, string option)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        var source = Path.GetDirectoryName(Path.GetFullPath(notebook)) ?? throw new ArgumentException($"{notebook} has no folder.", nameof(notebook));
        RefuseNotebooksFolder(folder, source, option);
    }

    /// <summary>
    /// Where an engine writes <paramref name="notebook"/>'s executed copy: <c>&lt;folder&gt;/NN-name.ipynb</c>, after the
    /// folder is checked (<see cref="RefuseSourceFolder"/>) and created and any copy of an earlier run deleted.
    /// </summary>
    /// <param name="notebook">The source notebook about to run.</param>
    /// <param name="folder">The engine's output folder.</param>
    /// <returns>The executed copy's path (not yet written).</returns>
    /// <exception cref="ArgumentException">The folder holds the source notebook (nothing deleted).</exception>
    public static string FreshExecutedPath(string notebook, string folder)
    {
        RefuseSourceFolder(notebook, folder, "the output folder");
        Directory.CreateDirectory(folder);
        var executed = Path.Combine(folder, Path.GetFileName(notebook));
        File.Delete(executed);
        return executed;
    }

    /// <summary>Throws when <paramref name="folder"/> is <paramref name="notebooksFolder"/>.</summary>
    /// <param name="folder">An output or export folder.</param>
    /// <param name="notebooksFolder">The folder of the committed notebooks.</param>
    /// <param name="option">The option that named the folder, for the message.</param>
    /// <exception cref="ArgumentException">They are the same folder.</exception>
    public static void RefuseNotebooksFolder(string folder, string notebooksFolder, string option)
    {
        if (SameFolder(folder, notebooksFolder))
        {
            throw new ArgumentException($"{option} {folder} is the folder of the lessons themselves ({Path.GetFullPath(notebooksFolder)}): writing there would replace the committed notebooks with executed copies. Name another folder, e.g. artifacts/....");
        }
    }

    /// <summary>Whether two paths name the same folder: full paths compared, a symbolic link to a folder followed.</summary>
    /// <param name="first">A folder (need not exist).</param>
    /// <param name="second">Another.</param>
    /// <returns>True when they are the same folder.</returns>
    public static bool SameFolder(string first, string second) =>
        string.Equals(Canonical(first), Canonical(second), OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    private static string Canonical(string folder)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        var target = Directory.Exists(full) ? new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName : null;
        return target is null ? full : Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
    }
}
