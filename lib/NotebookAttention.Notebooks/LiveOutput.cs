using System.Diagnostics;

namespace NotebookAttention.Notebooks;

/// <summary>
/// Output that changes while a cell runs (a training's progress line), and the cell's stop button. The library does
/// not depend on the notebook kernel: the package's <c>extension.dib</c> calls <see cref="Connect"/> with the
/// kernel's display and cancellation, and without it (a test, a console program) a <see cref="LiveLine"/> shows
/// nothing and the cancellation token never fires.
/// </summary>
/// <remarks>
/// Why not the kernel's own <c>display(...).Update(...)</c>: in the last .NET Interactive kernel (1.0.712001) the
/// Jupyter message of an update carries another display id than the one its display was sent with (checked here with
/// jupyter_client), so Jupyter drops every update and the cell keeps its first line. The extension therefore sends
/// the display and its updates itself, with one id. A front end that records every update as a new output
/// (dotnet-repl, which the series runner uses) gets no updates at all, only the final line, so an executed notebook
/// holds one line per training, not hundreds.
/// </remarks>
public static class LiveOutput
{
    private static Func<string, Action<string>>? show;
    private static Func<bool> updatesInPlace = () => false;
    private static Func<CancellationToken> cancellation = () => CancellationToken.None;

    /// <summary>
    /// The attribute that marks a finished line's one-line summary (HTML-encoded), e.g. a training's last step, loss and
    /// accuracy: the series runner prints it on the notebook's console line.
    /// </summary>
    public const string SummaryAttribute = "data-na-summary";

    /// <summary>True once a kernel has connected its display.</summary>
    public static bool IsConnected => show is not null;

    /// <summary>
    /// Called by the package's kernel extension. <paramref name="display"/> shows an HTML fragment in the running
    /// cell's output and returns the action that replaces it in place; <paramref name="replacesInPlace"/> says whether
    /// the front end shows such a replacement in place (false under automation, which records each one as a new
    /// output); <paramref name="cellCancellation"/> gives the running cell's cancellation token (fired by the kernel's
    /// interrupt, the notebook's stop button).
    /// </summary>
    /// <param name="display">Shows HTML; returns its in-place updater.</param>
    /// <param name="replacesInPlace">Whether updates replace the shown HTML in this front end.</param>
    /// <param name="cellCancellation">The running cell's cancellation token.</param>
    public static void Connect(Func<string, Action<string>> display, Func<bool> replacesInPlace, Func<CancellationToken> cellCancellation)
    {
        ArgumentNullException.ThrowIfNull(display);
        ArgumentNullException.ThrowIfNull(replacesInPlace);
        ArgumentNullException.ThrowIfNull(cellCancellation);
        show = display;
        updatesInPlace = replacesInPlace;
        cancellation = cellCancellation;
    }

    /// <summary>The running cell's cancellation token: fired when the learner stops the cell; never fires outside a kernel.</summary>
    public static CancellationToken CellCancellation => cancellation();

    /// <summary>Starts a line that will be updated in place; nothing is shown until the first <see cref="LiveLine.Report"/>.</summary>
    /// <param name="minimumInterval">Least time between two updates sent to the front end (the last one is always sent).</param>
    public static LiveLine Line(TimeSpan? minimumInterval = null) =>
        new(show, show is not null && updatesInPlace(), minimumInterval ?? TimeSpan.FromMilliseconds(250));
}

/// <summary>
/// One line of a cell's output that changes while the cell runs: <see cref="Report"/> for progress (sent at most every
/// few hundred milliseconds, and only where the front end replaces it in place), <see cref="Finish"/> for the final
/// text, which is always shown, exactly once.
/// </summary>
public sealed class LiveLine
{
    private readonly Func<string, Action<string>>? show;
    private readonly bool live;
    private readonly TimeSpan interval;
    private readonly Stopwatch clock = new();
    private Action<string>? update;
    private bool finished;

    internal LiveLine(Func<string, Action<string>>? show, bool live, TimeSpan interval)
    {
        this.show = show;
        this.live = live;
        this.interval = interval;
    }

    /// <summary>Number of times the front end was sent this line (first display and updates, final text included).</summary>
    public int Sent { get; private set; }

    /// <summary>The last HTML given, progress or final.</summary>
    public string Latest { get; private set; } = string.Empty;

    /// <summary>Progress: shown in place when the front end can, at most once per interval.</summary>
    /// <param name="html">The line's HTML.</param>
    public void Report(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        Latest = html;
        if (!live || finished || (update is not null && clock.Elapsed < interval))
        {
            return;
        }

        Send(html);
    }

    /// <summary>The final text: replaces the progress in place, or is shown once where there was none.</summary>
    /// <param name="html">The line's HTML.</param>
    public void Finish(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        Latest = html;
        if (finished)
        {
            throw new InvalidOperationException("this line is finished already: start a new one with LiveOutput.Line().");
        }

        finished = true;
        if (show is not null)
        {
            Send(html);
        }
    }

    private void Send(string html)
    {
        if (update is null)
        {
            update = show!(html);
        }
        else
        {
            update(html);
        }

        Sent++;
        clock.Restart();
    }
}
