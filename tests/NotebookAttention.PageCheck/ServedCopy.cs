using System.Security.Cryptography;

namespace NotebookAttention.PageCheck;

/// <summary>
/// The copy of the series a live server may write into (it autosaves every open notebook): the chosen notebooks with
/// what their kernel needs beside them, so the repository's own notebooks are never served.
/// </summary>
/// <remarks>
/// Layout, mirroring the repository: <c>notebooks/</c> holds the notebooks, <c>NuGet.config</c> and
/// <c>local-packages/*.nupkg</c> (where <c>#r "nuget: NotebookAttention.Notebooks, 0.1.0"</c> finds the library) and
/// <c>.config/dotnet-tools.json</c> (the manifest that makes <c>dotnet interactive</c>, the kernel's command, the pinned
/// version); <c>data/</c> beside it holds the sentences notebook 04 reads as <c>../data/...</c>.
/// </remarks>
public static class ServedCopy
{
    /// <summary>The repository's solution file, which marks its root.</summary>
    public const string SolutionFile = "NotebookAttention.sln";

    /// <summary>The folder above <paramref name="start"/> (or itself) that holds <see cref="SolutionFile"/>.</summary>
    /// <param name="start">Where to start looking.</param>
    /// <returns>The repository root, or null.</returns>
    public static string? RepositoryRoot(string start)
    {
        for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, SolutionFile)))
            {
                return folder.FullName;
            }
        }

        return null;
    }

    /// <summary>The notebooks whose file names start with one of the prefixes, in file-name order.</summary>
    /// <param name="notebooksFolder">The series' folder.</param>
    /// <param name="prefixes">File-name prefixes, e.g. "03".</param>
    /// <returns>Their paths.</returns>
    /// <exception cref="ArgumentException">A prefix matches no notebook.</exception>
    public static IReadOnlyList<string> Select(string notebooksFolder, IReadOnlyList<string> prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        var all = Directory.GetFiles(notebooksFolder, "*.ipynb").Order(StringComparer.Ordinal).ToList();
        var missing = prefixes.Where(p => !all.Any(n => Path.GetFileName(n).StartsWith(p, StringComparison.Ordinal))).ToList();
        return missing.Count > 0
            ? throw new ArgumentException($"no notebook in {notebooksFolder} starts with {string.Join(", ", missing)}: --only takes a file-name prefix such as 03.")
            : [.. all.Where(n => prefixes.Any(p => Path.GetFileName(n).StartsWith(p, StringComparison.Ordinal)))];
    }

    /// <summary>
    /// Writes a fresh copy under <paramref name="target"/> (emptied first) and returns its notebooks folder.
    /// </summary>
    /// <param name="root">The repository root.</param>
    /// <param name="notebooks">The notebooks to serve (paths in the repository).</param>
    /// <param name="target">The copy's folder, e.g. artifacts/live/series.</param>
    /// <returns>The folder to serve.</returns>
    /// <exception cref="InvalidOperationException">The library has not been packed into notebooks/local-packages.</exception>
    public static string Write(string root, IReadOnlyList<string> notebooks, string target)
    {
        ArgumentNullException.ThrowIfNull(notebooks);
        var source = Path.Combine(root, "notebooks");
        var packages = Directory.Exists(Path.Combine(source, "local-packages"))
            ? Directory.GetFiles(Path.Combine(source, "local-packages"), "*.nupkg")
            : [];
        if (!packages.Any(p => Path.GetFileName(p).StartsWith("NotebookAttention.Notebooks.", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException("notebooks/local-packages holds no NotebookAttention.Notebooks package, which every notebook loads: run README command 1 first (dotnet run --project notebooks/runner; CI runs it before this step), which packs the library there.");
        }

        if (Directory.Exists(target))
        {
            Directory.Delete(target, recursive: true);
        }

        var served = Path.Combine(target, "notebooks");
        Directory.CreateDirectory(Path.Combine(served, "local-packages"));
        Directory.CreateDirectory(Path.Combine(served, ".config"));
        foreach (var file in notebooks.Append(Path.Combine(source, "NuGet.config")))
        {
            File.Copy(file, Path.Combine(served, Path.GetFileName(file)));
        }

        foreach (var package in packages)
        {
            File.Copy(package, Path.Combine(served, "local-packages", Path.GetFileName(package)));
        }

        File.Copy(Path.Combine(root, ".config", "dotnet-tools.json"), Path.Combine(served, ".config", "dotnet-tools.json"));
        var data = Path.Combine(target, "data");
        Directory.CreateDirectory(data);
        foreach (var file in Directory.GetFiles(Path.Combine(root, "data")))
        {
            File.Copy(file, Path.Combine(data, Path.GetFileName(file)));
        }

        return served;
    }

    /// <summary>A SHA-256 of each file, to prove afterwards that the repository's notebooks were not written.</summary>
    /// <param name="files">The files.</param>
    /// <returns>Path to hash (hex).</returns>
    public static IReadOnlyDictionary<string, string> Fingerprints(IEnumerable<string> files) =>
        files.ToDictionary(f => f, f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
}
