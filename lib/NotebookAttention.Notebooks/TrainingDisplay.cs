using System.Globalization;
using System.Net;
using NotebookAttention.Training;

namespace NotebookAttention.Notebooks;

/// <summary>
/// The HTML of the training results a notebook cell may end with: a gradient check, the share of weight on the right
/// key, and held-out accuracy. Each carries its numbers in <c>data-</c> attributes at full precision, so the kernel
/// tests rebuild every printed conclusion from what was printed.
/// </summary>
public static class TrainingDisplay
{
    /// <summary>The largest relative error a gradient check may show for the backward pass to count as right (fp64).</summary>
    public const double GradientTolerance = 1e-6;

    /// <summary>A gradient check: its verdict, then every checked entry in a table.</summary>
    /// <returns>HTML.</returns>
    public static string GradientCheckHtml(GradientCheckResult check)
    {
        ArgumentNullException.ThrowIfNull(check);
        var worst = check.Worst;
        var verdict = check.LargestRelativeError <= GradientTolerance
            ? $"at most {GradientTolerance:0E+0}: the backward pass agrees with finite differences."
            : $"above {GradientTolerance:0E+0}: the backward pass and finite differences disagree; a gradient step is wrong.";
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{check.Entries.Count} entries checked; largest relative error {check.LargestRelativeError:0.0E+00} (at {worst.Parameter}[{worst.Row}, {worst.Column}]), {verdict}");
        var table = Table.Of(
            ["parameter", "row", "column", "backward pass", "finite differences", "relative error"],
            [.. check.Entries.Select((_, i) => (i + 1).ToString(CultureInfo.InvariantCulture))],
            [.. check.Entries.Select(e => (IReadOnlyList<string>)[e.Parameter, e.Row.ToString(CultureInfo.InvariantCulture), e.Column.ToString(CultureInfo.InvariantCulture), e.Analytic.ToString("G10", CultureInfo.InvariantCulture), e.Numeric.ToString("G10", CultureInfo.InvariantCulture), e.RelativeError.ToString("0.0E+00", CultureInfo.InvariantCulture)])]);
        return string.Create(CultureInfo.InvariantCulture,
            $"<div class=\"na-gradient-check\" data-largest=\"{check.LargestRelativeError:R}\" data-entries=\"{check.Entries.Count}\" style=\"font:13px sans-serif;margin:2px 0 6px\">{WebUtility.HtmlEncode(line)}</div>")
            + $"<details class=\"na-numbers\"><summary style=\"cursor:pointer;font:12px sans-serif\">Every checked entry</summary>{table}</details>";
    }

    /// <summary>The share of weight on the right key, first and last snapshot, with the verdict.</summary>
    /// <param name="share">The report.</param>
    /// <returns>HTML.</returns>
    public static string ShareHtml(ShareReport share)
    {
        ArgumentNullException.ThrowIfNull(share);
        return string.Create(CultureInfo.InvariantCulture,
            $"<div class=\"na-share\" data-heads=\"{share.Heads}\" data-first=\"{share.First:R}\" data-last=\"{share.Last:R}\" data-length=\"{share.Length}\" style=\"font:13px sans-serif;margin:2px 0 6px\">{WebUtility.HtmlEncode(share.Sentence)}</div>");
    }

    /// <summary>The first batch's loss against ln V, with the verdict.</summary>
    /// <param name="first">The report.</param>
    /// <returns>HTML.</returns>
    public static string FirstLossHtml(FirstLossReport first)
    {
        ArgumentNullException.ThrowIfNull(first);
        return string.Create(CultureInfo.InvariantCulture,
            $"<div class=\"na-first-loss\" data-loss=\"{first.Loss:R}\" data-outputs=\"{first.Outputs}\" style=\"font:13px sans-serif;margin:2px 0 6px\">{WebUtility.HtmlEncode(first.Sentence)}</div>");
    }

    /// <summary>Held-out accuracy with the verdict on the 99% goal.</summary>
    /// <param name="heldOut">The result.</param>
    /// <returns>HTML.</returns>
    public static string HeldOutHtml(HeldOutAccuracy heldOut)
    {
        ArgumentNullException.ThrowIfNull(heldOut);
        return string.Create(CultureInfo.InvariantCulture,
            $"<div class=\"na-held-out\" data-correct=\"{heldOut.Correct}\" data-scored=\"{heldOut.Scored}\" data-sequences=\"{heldOut.Sequences}\" style=\"font:13px sans-serif;margin:2px 0 6px\">{WebUtility.HtmlEncode(heldOut.Sentence)}</div>");
    }
}
