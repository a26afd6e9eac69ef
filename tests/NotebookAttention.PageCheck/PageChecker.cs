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
/// <param name="Overflowing">
/// Charts drawn wider than the page's content, at the page's own width or at a VS Code-like output width of
/// <see cref="PageChecker.NotebookOutputWidth"/> pixels: "title: drawn to x px of a y px page".
/// </param>
/// <param name="Emoji">Characters on the page that only a colour emoji font draws (<see cref="EmojiCharacters"/>).</param>
public sealed record PageReport(string Page, int Charts, int Drawn, int Heatmaps, int HeatmapsDrawn, int Sliders, int SlidersDrawn, IReadOnlyList<string> ScriptErrors, double Seconds, double? BudgetSeconds, IReadOnlyList<string> Overflowing, IReadOnlyList<string> Emoji)
{
    /// <summary>Drawn within the budget, when there is one.</summary>
    public bool InTime => BudgetSeconds is not { } budget || Seconds <= budget;

    /// <summary>
    /// Every chart, heatmap and slider drawn, at least one chart, no script error, within the time budget, every chart
    /// inside the page's width, no emoji.
    /// </summary>
    public bool Passed => Charts > 0 && Drawn == Charts && HeatmapsDrawn == Heatmaps && SlidersDrawn == Sliders && ScriptErrors.Count == 0 && InTime
        && Overflowing.Count == 0 && Emoji.Count == 0;

    /// <inheritdoc />
    public override string ToString() =>
        $"{(Passed ? "ok  " : "FAIL")} {Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(Page)))}/{Path.GetFileName(Page)}: {Drawn}/{Charts} charts drawn, {HeatmapsDrawn}/{Heatmaps} heatmaps drawn, {(Sliders > 0 ? $"{SlidersDrawn}/{Sliders} sliders drawn, " : string.Empty)}{ScriptErrors.Count} script errors, "
        + string.Create(CultureInfo.InvariantCulture, $"drawn in {Seconds:0.0} s{(BudgetSeconds is { } budget ? $" (budget {budget:0.#} s{(InTime ? string.Empty : ": too slow")})" : string.Empty)}, {new FileInfo(Page).Length / 1e6:0.00} MB")
        + string.Concat(ScriptErrors.Select(e => $"\n       script error: {e}"))
        + string.Concat(Overflowing.Select(o => $"\n       wider than the page: {o}"))
        + (Emoji.Count > 0 ? $"\n       emoji (empty boxes without a colour emoji font): {string.Join(", ", Emoji)}" : string.Empty);
}

/// <summary>Drives Debian's Chromium through Playwright, offline.</summary>
public static class PageChecker
{
    /// <summary>
    /// The output width of a notebook in VS Code, in pixels (about 800 to 900): each page is also laid out at this
    /// content width, and no chart may be drawn wider.
    /// </summary>
    public const int NotebookOutputWidth = 800;

    /// <summary>The page width the runner's pages are checked at first (their content is at most 1100 - 2 x 16 pixels wide).</summary>
    private const int PageViewportWidth = 1200;

    /// <summary>Each chart's drawn right edge against the right edge of the page's content; a list of the charts beyond it.</summary>
    private const string OverflowScript = """
        () => {
          const content = (document.querySelector('main') ?? document.body).getBoundingClientRect();
          return [...document.querySelectorAll('.na-chart')].flatMap(c => {
            const drawn = c.querySelector('.main-svg')?.getBoundingClientRect() ?? c.getBoundingClientRect();
            const title = c.querySelector('.gtitle')?.textContent ?? c.id;
            return drawn.right > content.right + 0.5
              ? [`${title}: drawn to ${Math.round(drawn.right - content.left)} px of a ${Math.round(content.width)} px page`] : [];
          });
        }
        """;

    /// <summary>Debian's Chromium, headless in a container: no sandbox, no GPU, none of its own network traffic.</summary>
    internal static readonly string[] ChromiumArguments =
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
            await using var context = await browser.NewContextAsync(new() { Offline = true, ViewportSize = new() { Width = PageViewportWidth, Height = 900 } });
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
            var text = await page.EvaluateAsync<string>("() => document.body.innerText + ' ' + [...document.querySelectorAll('svg text')].map(t => t.textContent).join(' ')");
            var overflowing = new List<string>(await page.EvaluateAsync<string[]>(OverflowScript));
            if (screenshots is not null)
            {
                Directory.CreateDirectory(screenshots);
                await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, Path.ChangeExtension(Path.GetFileName(path), ".png")), FullPage = true });
            }

            // The same page in a VS Code-sized output: the body's padding is 16 px on each side.
            await page.SetViewportSizeAsync(NotebookOutputWidth + 32, 900);
            overflowing.AddRange((await page.EvaluateAsync<string[]>(OverflowScript)).Select(o => $"{o} (at a VS Code-like width)"));
            if (screenshots is not null)
            {
                await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, Path.GetFileNameWithoutExtension(path) + $"-{NotebookOutputWidth}px.png"), FullPage = true });
            }

            reports.Add(new PageReport(path, counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], errors, seconds, budgetSeconds, overflowing, EmojiCharacters.In(text)));
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
