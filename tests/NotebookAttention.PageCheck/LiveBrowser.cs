using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Playwright;

namespace NotebookAttention.PageCheck;

/// <summary>
/// Opens notebooks in the classic notebook page in headless Chromium, clicks Cell ▸ Run All as a learner does, and
/// reads what the page shows. The browser reaches one origin only, the server's; every other request and websocket
/// is refused.
/// </summary>
public static class LiveBrowser
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Whether the browser may load <paramref name="url"/>: anything that is not network (data:, blob:, about:) or
    /// the exact origin of the server (scheme http or ws, host 127.0.0.1, its port).
    /// </summary>
    /// <param name="origin">The server's origin, <c>http://127.0.0.1:PORT</c>.</param>
    /// <param name="url">The URL the page asks for.</param>
    /// <returns>True when it may be loaded.</returns>
    public static bool Allows(Uri origin, string url)
    {
        ArgumentNullException.ThrowIfNull(origin);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var target))
        {
            return false;
        }

        return target.Scheme is not ("http" or "https" or "ws" or "wss" or "ftp" or "file")
            || (target.Scheme is ("http" or "ws") && target.Host == origin.Host && target.Port == origin.Port && target.UserInfo.Length == 0);
    }

    /// <summary>Runs each notebook through the page, one after the other, shutting each kernel down after it.</summary>
    /// <param name="server">The running server.</param>
    /// <param name="notebooks">Notebook file names in the served folder.</param>
    /// <param name="options">Browser path and time limit.</param>
    /// <param name="log">Progress lines.</param>
    /// <returns>One report per notebook, and every refused request.</returns>
    public static async Task<(IReadOnlyList<LiveNotebookReport> Reports, IReadOnlyList<string> Refused)> RunAsync(JupyterServer server, IReadOnlyList<string> notebooks, LiveOptions options, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(notebooks);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = options.Chromium,
            Headless = true,
            // Every host name but the server's address resolves to nothing, so nothing else can be reached by name.
            Args = [.. PageChecker.ChromiumArguments, $"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {server.Origin.Host}"],
        });
        await using var context = await browser.NewContextAsync(new() { ServiceWorkers = ServiceWorkerPolicy.Block, ViewportSize = new() { Width = 1200, Height = 900 } });
        var refused = new ConcurrentQueue<string>();
        await context.RouteAsync(url => !Allows(server.Origin, url), route =>
        {
            refused.Enqueue(route.Request.Url);
            return route.AbortAsync("blockedbyclient");
        });
        await context.RouteWebSocketAsync(url => !Allows(server.Origin, url), socket =>
        {
            refused.Enqueue(socket.Url);
            _ = socket.CloseAsync();
        });

        var reports = new List<LiveNotebookReport>();
        foreach (var notebook in notebooks)
        {
            log($"{notebook}: opening it and clicking Cell > Run All");
            var report = await RunOneAsync(context, server, notebook, options.MaxSeconds);
            await server.ShutdownKernelsAsync();
            reports.Add(report);
            log(report.ToString());
        }

        return (reports, [.. refused.Distinct()]);
    }

    private static async Task<LiveNotebookReport> RunOneAsync(IBrowserContext context, JupyterServer server, string notebook, double budgetSeconds)
    {
        var page = await context.NewPageAsync();
        var problems = new List<string>();
        page.PageError += (_, error) => problems.Add($"script error on the page: {error}");
        var clock = Stopwatch.StartNew();
        var budget = TimeSpan.FromSeconds(budgetSeconds);
        double Remaining() => Math.Max(1, (budget - clock.Elapsed).TotalMilliseconds);
        var startSeconds = 0.0;
        var runSeconds = 0.0;
        var progress = new PageProgress([], string.Empty, Connected: false);
        try
        {
            await page.GotoAsync(new Uri(server.Origin, $"notebooks/{Uri.EscapeDataString(notebook)}?token={server.Token}").AbsoluteUri, new() { WaitUntil = WaitUntilState.Load, Timeout = (float)Remaining() });
            progress = await PollAsync(page, p => p.KernelIdle || p.KernelDead, clock, budget);
            startSeconds = clock.Elapsed.TotalSeconds;
            if (progress.KernelIdle)
            {
                await page.ClickAsync(LiveScripts.CellMenu, new() { Timeout = (float)Remaining() });
                await page.ClickAsync(LiveScripts.RunAllItem, new() { Timeout = (float)Remaining() });
                progress = await PollAsync(page, p => p.Settled, clock, budget);
                if (!progress.KernelDead)
                {
                    await page.WaitForFunctionAsync(LiveScripts.ChartsDrawn, null, new() { Timeout = (float)Remaining(), PollingInterval = (float)PollInterval.TotalMilliseconds });
                }

                runSeconds = clock.Elapsed.TotalSeconds - startSeconds;
            }
        }
        catch (TimeoutException)
        {
            runSeconds = Math.Max(0, clock.Elapsed.TotalSeconds - startSeconds);
            problems.Add($"stopped at the time limit: {budgetSeconds:0.#} s from opening the page until every cell has run and every chart is drawn (--max-seconds)");
        }

        progress = PageProgress.Parse(await page.EvaluateAsync<string>(LiveScripts.Progress));
        if (progress.KernelDead)
        {
            problems.Add("the kernel died (the page shows Kernel Dead): see artifacts/live/server.log");
        }

        var outputs = PageOutputs.Parse(await page.EvaluateAsync<string>(LiveScripts.Outputs));
        await page.CloseAsync();
        return new LiveNotebookReport(notebook, progress.Prompts.Count, startSeconds, runSeconds, budgetSeconds, progress, outputs, problems);
    }

    private static async Task<PageProgress> PollAsync(IPage page, Func<PageProgress, bool> done, Stopwatch clock, TimeSpan budget)
    {
        while (true)
        {
            var progress = PageProgress.Parse(await page.EvaluateAsync<string>(LiveScripts.Progress));
            if (done(progress))
            {
                return progress;
            }

            if (clock.Elapsed > budget)
            {
                throw new TimeoutException($"the page did not reach the awaited state within {budget.TotalSeconds:0} s.");
            }

            await Task.Delay(PollInterval);
        }
    }
}
