using System.Globalization;

namespace NotebookAttention.Runner;

/// <summary>The runner's report of <see cref="EngineAgreement"/>: --compare DIR1 DIR2, and the end of --engine both.</summary>
public static class Agreement
{
    /// <summary>Compares two folders of executed notebooks and prints every disagreement and a verdict line.</summary>
    /// <param name="first">One folder (e.g. artifacts/series, the kernel's).</param>
    /// <param name="second">The other (e.g. artifacts/scripting).</param>
    /// <param name="log">Where the report goes.</param>
    /// <param name="only">The notebooks' file names to compare (those this run executed), or null for every one in either folder.</param>
    /// <returns>0 when they agree, 1 when they do not, 2 when a folder is missing or empty.</returns>
    public static int Report(string first, string second, TextWriter log, IReadOnlyCollection<string>? only = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        IReadOnlyList<Disagreement> disagreements;
        try
        {
            disagreements = EngineAgreement.CompareFolders(first, second, only);
        }
        catch (DirectoryNotFoundException error)
        {
            log.WriteLine($"comparison failed: {error.Message}");
            return 2;
        }

        foreach (var disagreement in disagreements)
        {
            log.WriteLine($"  DIFFERS {disagreement}");
        }

        var names = only ?? [.. Directory.GetFiles(first, "*.ipynb").Select(Path.GetFileName).Union(Directory.GetFiles(second, "*.ipynb").Select(Path.GetFileName)).OfType<string>()];
        var notebooks = names.Count;
        if (EngineRun.ReadTotal(first) is { } one && EngineRun.ReadTotal(second) is { } two)
        {
            log.WriteLine(Totals(one, two, notebooks));
        }

        var tally = names
            .Where(name => File.Exists(Path.Combine(first, name)) && File.Exists(Path.Combine(second, name)))
            .Select(name => EngineAgreement.Tally(NotebookFile.Load(Path.Combine(first, name)), NotebookFile.Load(Path.Combine(second, name))))
            .Aggregate(new AgreementTally(0, 0, 0), (sum, one) => sum + one);
        log.WriteLine($"compared: {tally}");
        log.WriteLine(disagreements.Count == 0
            ? $"agreement: {first} and {second} agree on all {notebooks} notebook(s) (success, charts, heatmaps, tables, every output's kind and text with machine figures masked; cells tagged {EngineAgreement.TimingDependentTag} by kind)"
            : $"agreement: {disagreements.Count} disagreement(s) between {first} and {second} over {notebooks} notebook(s)");
        return disagreements.Count == 0 ? 0 : 1;
    }

    /// <summary>Both engines' totals side by side, e.g. "totals: kernel 231.3 s · scripting 61.0 s (3.8x the speed) for 11 notebook(s)".</summary>
    /// <param name="first">One engine's name and total seconds.</param>
    /// <param name="second">The other's.</param>
    /// <param name="notebooks">How many notebooks each ran.</param>
    /// <returns>One line.</returns>
    public static string Totals((string Engine, double Seconds) first, (string Engine, double Seconds) second, int notebooks) =>
        string.Create(CultureInfo.InvariantCulture,
            $"totals: {first.Engine} {first.Seconds:0.0} s · {second.Engine} {second.Seconds:0.0} s ({first.Seconds / second.Seconds:0.0}x the speed of the first) for {notebooks} notebook(s)");
}
