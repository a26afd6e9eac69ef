namespace NotebookAttention.Tests.Support;

/// <summary>Finds files of the repository from the test's output folder.</summary>
internal static class Repository
{
    /// <summary>The folder that holds NotebookAttention.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path under the repository root.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "NotebookAttention.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no NotebookAttention.sln above {AppContext.BaseDirectory}: run the tests from a clone of the repository.");
    }
}
