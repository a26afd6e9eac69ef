using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;

namespace NotebookAttention.PageCheck;

/// <summary>What one page showed.</summary>
/// <param name="Page">The page file.</param>
/// <param name="Charts">Chart containers in the page.</param>
/// <param name="Drawn">Charts that plotly drew (an SVG inside).</param>
/// <param name="Heatmaps">Charts whose figure holds a heatmap.</param>
/// <param name="HeatmapsDrawn">Heatmap charts with plotly's heatmap layer drawn.</param>
/// <param name="Sliders">Charts whose figure holds a slider (a heatmap through training, one position per snapshot).</param>
/// <param name="SlidersDrawn">Slider charts with plotly's slider drawn.</param>
/// <param name="ScriptErrors">Uncaught script errors.</param>
/// <param name="Seconds">From the start of navigation until every chart was drawn (or the wait gave up).</param>
/// <param name="BudgetSeconds">The most <paramref name="Seconds"/> may be, or null for no limit.</param>
public sealed record PageReport(string Page, int Charts, int Drawn, int Heatmaps, int HeatmapsDrawn, int Sliders, int SlidersDrawn, IReadOnlyList<string> ScriptErrors, double Seconds, double? BudgetSeconds)
{
    /// <summary>Drawn within the budget, when there is one.</summary>
    public bool InTime => BudgetSeconds is not { } budget || Seconds <= budget;

    /// <summary>Every chart, heatmap and slider drawn, at least one chart, no script error, within the time budget.</summary>
    public bool Passed => Charts > 0 && Drawn == Charts && HeatmapsDrawn == Heatmaps && SlidersDrawn == Sliders && ScriptErrors.Count == 0 && InTime;

    /// <inheritdoc />
    public override string ToString() =>
        $"{(Passed ? "ok  " : "FAIL")} {Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(Page)))}/{Path.GetFileName(Page)}: {Drawn}/{Charts} charts drawn, {HeatmapsDrawn}/{Heatmaps} heatmaps drawn, {(Sliders > 0 ? $"{SlidersDrawn}/{Sliders} sliders drawn, " : string.Empty)}{ScriptErrors.Count} script errors, "
        + string.Create(CultureInfo.InvariantCulture, $"drawn in {Seconds:0.0} s{(BudgetSeconds is { } budget ? $" (budget {budget:0.#} s{(InTime ? string.Empty : ": too slow")})" : string.Empty)}, {new FileInfo(Page).Length / 1e6:0.00} MB")
        + string.Concat(ScriptErrors.Select(e => $"\n       script error: {e}"));
}

/// <summary>Drives Debian's Chromium through Playwright, offline.</summary>
public static class PageChecker
{
    private static readonly string[] ChromiumArguments =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"];

    /// <summary>Opens each page with the network blocked and counts what plotly drew.</summary>
    /// <param name="pages">HTML files.</param>
    /// <param name="chromium">Path of the Chromium executable.</param>
    /// <param name="screenshots">Folder for full-page screenshots, or null.</param>
    /// <param name="budgetSeconds">The most seconds from navigation to every chart drawn a page may take, or null for no limit.</param>
    /// <returns>One report per page.</returns>
    public static async Task<IReadOnlyList<PageReport>> CheckAsync(IReadOnlyList<string> pages, string chromium, string? screenshots, double? budgetSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(pages);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ChromiumArguments });
        var reports = new List<PageReport>();
        foreach (var path in pages)
        {
            await using var context = await browser.NewContextAsync(new() { Offline = true, ViewportSize = new() { Width = 1200, Height = 900 } });
            var page = await context.NewPageAsync();
            var errors = new List<string>();
            page.PageError += (_, error) => errors.Add(error);
            var clock = Stopwatch.StartNew();
            await page.GotoAsync(new Uri(Path.GetFullPath(path)).AbsoluteUri, new() { WaitUntil = WaitUntilState.Load, Timeout = 60_000 });
            await WaitForChartsAsync(page);
            var seconds = clock.Elapsed.TotalSeconds;
            var counts = await page.EvaluateAsync<int[]>("""
                () => {
                  const charts = [...document.querySelectorAll('.na-chart')];
                  const isHeatmap = c => (c.nextElementSibling?.textContent ?? '').includes('"type":"heatmap"');
                  const hasSlider = c => (c.nextElementSibling?.textContent ?? '').includes('"sliders":');
                  return [
                    charts.length,
                    charts.filter(c => c.querySelector('.main-svg')).length,
                    charts.filter(isHeatmap).length,
                    charts.filter(c => isHeatmap(c) && c.querySelector('.heatmaplayer image, .heatmaplayer .hm')).length,
                    charts.filter(hasSlider).length,
                    charts.filter(c => hasSlider(c) && c.querySelector('.slider-container .slider-rail-rect')).length,
                  ];
                }
                """);
            if (screenshots is not null)
            {
                Directory.CreateDirectory(screenshots);
                await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, Path.ChangeExtension(Path.GetFileName(path), ".png")), FullPage = true });
            }

            reports.Add(new PageReport(path, counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], errors, seconds, budgetSeconds));
        }

        return reports;
    }

    private static async Task WaitForChartsAsync(IPage page)
    {
        try
        {
            await page.WaitForFunctionAsync(
                // Drawn means plotly's SVG and, for a heatmap, its cells (plotly makes the SVG before it paints them),
                // so the clock stops only when the last heatmap is painted.
                """
                () => [...document.querySelectorAll('.na-chart')].every(c => c.querySelector('.main-svg')
                  && (!(c.nextElementSibling?.textContent ?? '').includes('"type":"heatmap"') || c.querySelector('.heatmaplayer image, .heatmaplayer .hm')))
                """,
                null,
                new() { Timeout = 60_000, PollingInterval = 250 });
        }
        catch (TimeoutException)
        {
            // The report counts what was drawn and fails the page.
        }
    }
}
