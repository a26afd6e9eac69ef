using NotebookAttention.PageCheck;

// Opens rendered notebook pages in headless Chromium with the network blocked and checks that every chart is drawn,
// fits the page (at the page's width and at a VS Code-like 800 px) and that no character needs a colour emoji font.
// usage: dotnet run --project tests/NotebookAttention.PageCheck -- PAGE.html|FOLDER ... [--screenshots DIR] [--chromium PATH] [--max-seconds S]
// --max-seconds: a page fails when drawing every chart, from the start of navigation, takes longer.
// With --live-jupyter first it runs notebooks live in Jupyter Notebook instead (LiveOptions.Usage).
if (args.Length > 0 && args[0] == LiveOptions.Switch)
{
    return await LiveJupyter.RunAsync(args[1..]);
}

var pages = new List<string>();
string? screenshots = null;
double? budget = null;
var chromium = "/usr/bin/chromium";
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--screenshots": screenshots = args[++i]; break;
        case "--chromium": chromium = args[++i]; break;
        case "--max-seconds":
            if (!double.TryParse(args[++i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || !(seconds > 0))
            {
                Console.Error.WriteLine($"--max-seconds is \"{args[i]}\": it must be a positive number of seconds, e.g. --max-seconds 10.");
                return 2;
            }

            budget = seconds;
            break;
        default:
            pages.AddRange(Directory.Exists(args[i])
                ? Directory.GetFiles(args[i], "*.html").Where(p => Path.GetFileName(p) != "index.html").Order(StringComparer.Ordinal)
                : [args[i]]);
            break;
    }
}

if (pages.Count == 0)
{
    Console.Error.WriteLine("no pages to check: pass .html files or folders that hold them.");
    return 2;
}

if (!File.Exists(chromium))
{
    Console.Error.WriteLine($"no browser at {chromium}: install Debian's chromium (apt-get install chromium) or pass --chromium PATH.");
    return 2;
}

var reports = await PageChecker.CheckAsync(pages, chromium, screenshots, budget);
foreach (var report in reports)
{
    Console.WriteLine(report);
}

var failed = reports.Count(r => !r.Passed);
Console.WriteLine($"pages: {reports.Count - failed} passed, {failed} failed");
return failed == 0 ? 0 : 1;
