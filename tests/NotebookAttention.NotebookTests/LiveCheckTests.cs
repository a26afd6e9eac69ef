using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NotebookAttention.PageCheck;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// The parts of the live check (<c>PageCheck --live-jupyter</c>) that need no notebook server: the socket table and
/// the loopback rule, the browser's one allowed origin, reading the page's prompts and outputs, the verdict per
/// notebook, the options, the served copy and the process clean-up. The live run itself is a CI step.
/// </summary>
public sealed class LiveCheckTests : IDisposable
{
    private const int ServerPid = 100;
    private const int ServerPort = 8888;

    private readonly string folder = Directory.CreateTempSubdirectory("live-check-").FullName;

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Socket_table_keeps_only_listening_rows_whose_inode_a_watched_process_holds()
    {
        string[] table =
        [
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            "   0: 0100007F:22B8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000000000000 100 0 0 10 0",
            "   1: 00000000:0800 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5002 1 0000000000000000 100 0 0 10 0",
            "   2: 0100007F:22B8 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 5003 1 0000000000000000 20 4 30 10 -1",
            "   3: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9999 1 0000000000000000 100 0 0 10 0",
        ];
        var owners = new Dictionary<long, int> { [5001] = ServerPid, [5002] = 200, [5003] = ServerPid };

        var sockets = ListeningSockets.InTable(table, owners).ToList();

        Assert.Equal(
            [new ListeningSocket(IPAddress.Loopback, 8888, ServerPid), new ListeningSocket(IPAddress.Any, 2048, 200)],
            sockets);
    }

    [Fact]
    public void Loopback_rule_holds_when_server_and_kernel_listen_on_127_0_0_1_only()
    {
        ListeningSocket[] sockets =
        [
            new(IPAddress.Loopback, ServerPort, ServerPid),
            new(IPAddress.Loopback, 2048, 200),
            new(IPAddress.Parse("::ffff:127.0.0.1"), 40000, 200),
        ];

        Assert.Empty(ProcessWatch.Problems(sockets, ServerPid, ServerPort));
    }

    [Theory]
    [InlineData("0.0.0.0", true)]
    [InlineData("::", true)]
    [InlineData("192.0.2.7", true)]
    [InlineData("::1", false)]
    [InlineData("127.0.0.2", false)]
    public void Loopback_rule_fails_a_kernel_socket_on_any_other_address_and_says_when_it_is_reachable(string address, bool reachable)
    {
        ListeningSocket[] sockets = [new(IPAddress.Loopback, ServerPort, ServerPid), new(IPAddress.Parse(address), 2048, 200)];

        var problem = Assert.Single(ProcessWatch.Problems(sockets, ServerPid, ServerPort));

        Assert.Contains("other addresses than 127.0.0.1", problem, StringComparison.Ordinal);
        Assert.Contains(":2048 (pid 200)", problem, StringComparison.Ordinal);
        Assert.Equal(reachable, problem.Contains("reachable from other machines", StringComparison.Ordinal));
    }

    [Fact]
    public void Loopback_rule_fails_a_watch_that_saw_no_kernel_or_not_the_server()
    {
        var noKernel = Assert.Single(ProcessWatch.Problems([new(IPAddress.Loopback, ServerPort, ServerPid)], ServerPid, ServerPort));
        Assert.Contains("no kernel socket", noKernel, StringComparison.Ordinal);

        var noServer = Assert.Single(ProcessWatch.Problems([new(IPAddress.Loopback, 2048, 200)], ServerPid, ServerPort));
        Assert.Contains($"never seen listening on port {ServerPort}", noServer, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Watch_sees_a_socket_opened_on_every_interface_and_the_rule_fails_it()
    {
        var everywhere = new TcpListener(IPAddress.Any, 0);
        var loopback = new TcpListener(IPAddress.Loopback, 0);
        everywhere.Start();
        loopback.Start();
        try
        {
            var watch = new ProcessWatch(Environment.ProcessId);
            watch.Sample();
            var port = ((IPEndPoint)loopback.LocalEndpoint).Port;
            var exposedPort = ((IPEndPoint)everywhere.LocalEndpoint).Port;

            Assert.Contains(new ListeningSocket(IPAddress.Loopback, port, Environment.ProcessId), watch.Listening);
            Assert.Contains(new ListeningSocket(IPAddress.Any, exposedPort, Environment.ProcessId), watch.Listening);
            var problems = ProcessWatch.Problems(watch.Listening, Environment.ProcessId, port);
            Assert.Contains(problems, p => p.Contains($"0.0.0.0:{exposedPort}", StringComparison.Ordinal) && p.Contains("reachable", StringComparison.Ordinal));
        }
        finally
        {
            everywhere.Stop();
            loopback.Stop();
        }
    }

    [LinuxFact]
    public void Processes_seen_in_the_tree_are_ended_by_id_and_none_is_left()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var watch = new ProcessWatch(child.Id);
            watch.Sample();
            Assert.Equal([child.Id], watch.Alive().Select(p => p.Pid));

            var ended = watch.EndSurvivors();

            Assert.Equal([child.Id], ended.Select(p => p.Pid));
            Assert.Contains("sleep 60", ended[0].Command, StringComparison.Ordinal);
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(5)), "the watched process is still running after EndSurvivors");
            Assert.Empty(watch.Alive());
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
            }
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:4242/notebooks/03-weighted-sum.ipynb?token=abc", true)]
    [InlineData("ws://127.0.0.1:4242/api/kernels/1/channels?session_id=2", true)]
    [InlineData("data:image/png;base64,AAAA", true)]
    [InlineData("blob:http://127.0.0.1:4242/5e7", true)]
    [InlineData("http://127.0.0.1:2048/discovery", false)]
    [InlineData("ws://127.0.0.1:2048/kernelhub", false)]
    [InlineData("https://127.0.0.1:4242/static/x.js", false)]
    [InlineData("http://localhost:4242/static/x.js", false)]
    [InlineData("http://user@127.0.0.1:4242/", false)]
    [InlineData("https://cdn.plot.ly/plotly-2.28.0.min.js", false)]
    [InlineData("file:///etc/passwd", false)]
    [InlineData("not a url", false)]
    public void Browser_reaches_only_the_server_origin(string url, bool allowed)
    {
        Assert.Equal(allowed, LiveBrowser.Allows(new Uri("http://127.0.0.1:4242"), url));
    }

    [Theory]
    [InlineData("In [ ]:", CellState.NotRun)]
    [InlineData("In\u00a0[\u00a0]:", CellState.NotRun)]
    [InlineData("In [*]:", CellState.Running)]
    [InlineData("In\u00a0[*]:", CellState.Running)]
    [InlineData("In [12]:", CellState.Run)]
    [InlineData(" In [3]: ", CellState.Run)]
    public void Prompts_tell_which_cells_ran(string prompt, CellState state)
    {
        Assert.Equal(state, PageProgress.StateOf(prompt));
    }

    [Fact]
    public void A_prompt_of_another_layout_is_refused_with_the_reason()
    {
        var error = Assert.Throws<FormatException>(() => PageProgress.StateOf("[3]:"));
        Assert.Contains("page layout changed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Progress_is_settled_only_when_the_kernel_is_idle_and_connected_with_no_cell_queued_or_when_it_died()
    {
        var running = PageProgress.Parse("""{"prompts": ["In [1]:", "In [*]:", "In [*]:"], "kernel": "kernel_busy_icon", "connected": true}""");
        Assert.Equal((1, 2, false), (running.Run, running.Running, running.Settled));

        var idleBetweenCells = running with { KernelIcon = "kernel_idle_icon" };
        Assert.False(idleBetweenCells.Settled);

        var done = PageProgress.Parse("""{"prompts": ["In [1]:", "In [2]:", "In [3]:"], "kernel": "kernel_idle_icon", "connected": true}""");
        Assert.Equal((3, 0, true), (done.Run, done.Running, done.Settled));

        Assert.False((done with { Connected = false }).KernelIdle);
        var dead = running with { KernelIcon = "kernel_dead_icon" };
        Assert.True(dead.KernelDead && dead.Settled);
    }

    [Fact]
    public void Outputs_sort_error_outputs_and_tracebacks_from_compiler_warnings()
    {
        var outputs = PageOutputs.Parse("""
            {"charts": 4, "drawn": 3, "heatmaps": 2, "heatmapsDrawn": 2, "outputs": [
              {"cell": 3, "kind": "stderr", "text": "warning CS1701: Assuming assembly reference 'A' matches 'B'\n"},
              {"cell": 22, "kind": "stderr", "text": "(1,15): warning CS8632: The annotation ...\n\n(3,15): warning CS8632: The annotation ..."},
              {"cell": 7, "kind": "error", "text": "Error: (2,1): error CS0103: The name 'x' does not exist"},
              {"cell": 9, "kind": "stderr", "text": "Unhandled exception. System.InvalidOperationException: boom\n   at Submission#5.<Initialize>()"},
              {"cell": 11, "kind": "stderr", "text": "warning CS8632: fine\nSystem.Exception: not fine"},
              {"cell": 12, "kind": "shown", "text": "warning CS1701: shown as an error output"}
            ]}
            """);

        Assert.Equal((4, 3, 2, 2, false), (outputs.Charts, outputs.Drawn, outputs.Heatmaps, outputs.HeatmapsDrawn, outputs.AllDrawn));
        Assert.Equal(["cell 3: warning CS1701: Assuming assembly reference 'A' matches 'B'", "cell 22: (1,15): warning CS8632: The annotation ... …"], outputs.Warnings);
        Assert.False(outputs.Clean);
        Assert.Equal([7, 9, 11, 12], outputs.Errors.Select(e => int.Parse(e[5..e.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal("cell 7: Error: (2,1): error CS0103: The name 'x' does not exist", outputs.Errors[0]);
        Assert.Equal("cell 9: Unhandled exception. System.InvalidOperationException: boom …", outputs.Errors[1]);
    }

    [Fact]
    public void A_notebook_passes_only_when_every_cell_ran_every_chart_was_drawn_and_nothing_failed_or_warned()
    {
        var progress = PageProgress.Parse("""{"prompts": ["In [1]:", "In [2]:"], "kernel": "kernel_idle_icon", "connected": true}""");
        var outputs = new PageOutputs(3, 3, 2, 2, [], []);
        var good = new LiveNotebookReport("03-weighted-sum.ipynb", 2, 6.3, 10.0, 120, progress, outputs, []);
        Assert.True(good.Passed, good.ToString());
        Assert.StartsWith("ok   03-weighted-sum.ipynb: 10.0 s after Run All (kernel ready in 6.3 s; limit 120 s), 2/2 cells run, 3/3 charts drawn, 2/2 heatmaps drawn, 0 errors, 0 compiler warnings", good.ToString(), StringComparison.Ordinal);

        LiveNotebookReport[] bad =
        [
            good with { CodeCells = 3 },
            good with { Progress = progress with { Prompts = ["In [1]:", "In [ ]:"] } },
            good with { Outputs = outputs with { Drawn = 2 } },
            good with { Outputs = outputs with { HeatmapsDrawn = 1 } },
            good with { Outputs = new PageOutputs(0, 0, 0, 0, [], []) },
            good with { Outputs = outputs with { Errors = ["cell 7: Error: boom"] } },
            good with { Outputs = outputs with { Warnings = ["cell 3: warning CS1701: Assuming assembly reference ..."] } },
            good with { Problems = ["stopped at the time limit"] },
        ];
        Assert.All(bad, report => Assert.False(report.Passed, report.ToString()));
        Assert.All(bad, report => Assert.StartsWith("FAIL", report.ToString(), StringComparison.Ordinal));
        Assert.Contains("compiler warning on stderr: cell 3: warning CS1701", bad[^2].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_live_page_with_fewer_charts_than_the_kernels_executed_copy_fails_and_without_a_copy_nothing_is_compared()
    {
        var executed = Path.Combine(folder, "03-weighted-sum.ipynb");
        static System.Text.Json.Nodes.JsonObject Shown(System.Text.Json.Nodes.JsonNode html) =>
            new() { ["output_type"] = "display_data", ["data"] = new System.Text.Json.Nodes.JsonObject { ["text/html"] = html } };
        const string chart = "<div class=\"na-chart\" id=\"c\"></div>";
        var cells = new System.Text.Json.Nodes.JsonArray(
            new System.Text.Json.Nodes.JsonObject { ["cell_type"] = "code", ["outputs"] = new System.Text.Json.Nodes.JsonArray(Shown(new System.Text.Json.Nodes.JsonArray(chart, chart))) },
            new System.Text.Json.Nodes.JsonObject { ["cell_type"] = "markdown", ["source"] = "class=\"na-chart\" in prose does not count" },
            new System.Text.Json.Nodes.JsonObject { ["cell_type"] = "code", ["outputs"] = new System.Text.Json.Nodes.JsonArray(Shown(chart)) });
        File.WriteAllText(executed, new System.Text.Json.Nodes.JsonObject { ["cells"] = cells }.ToJsonString());
        Assert.Equal(3, ExpectedCharts.Count(executed));

        var progress = PageProgress.Parse("""{"prompts": ["In [1]:"], "kernel": "kernel_idle_icon", "connected": true}""");
        var report = new LiveNotebookReport("03-weighted-sum.ipynb", 1, 6.3, 10.0, 120, progress, new PageOutputs(3, 3, 0, 0, [], []), []);
        Assert.Null(ExpectedCharts.Mismatch(report, executed));
        var missing = report with { Outputs = new PageOutputs(2, 2, 0, 0, [], []) };
        Assert.True(missing.Passed);
        Assert.Contains("2 chart(s) on the live page, 3 in the kernel's executed copy", ExpectedCharts.Mismatch(missing, executed), StringComparison.Ordinal);
        Assert.Null(ExpectedCharts.Mismatch(missing, Path.Combine(folder, "absent.ipynb")));
    }

    [Fact]
    public void Options_default_to_the_issue_notebooks_and_refuse_bad_values()
    {
        var defaults = LiveOptions.Parse([]);
        Assert.Contains("03", defaults.Only);
        Assert.Contains("08", defaults.Only);
        Assert.Equal(120, defaults.MaxSeconds);

        var chosen = LiveOptions.Parse(["--only", "02", "--only", "05", "--max-seconds", "45.5", "--jupyter", "/opt/j"]);
        Assert.Equal(["02", "05"], chosen.Only);
        Assert.Equal((45.5, "/opt/j"), (chosen.MaxSeconds, chosen.Jupyter));

        Assert.Contains("positive number", Assert.Throws<ArgumentException>(() => LiveOptions.Parse(["--max-seconds", "0"])).Message, StringComparison.Ordinal);
        Assert.Contains("needs a value", Assert.Throws<ArgumentException>(() => LiveOptions.Parse(["--only"])).Message, StringComparison.Ordinal);
        Assert.Contains("unknown option --sentence", Assert.Throws<ArgumentException>(() => LiveOptions.Parse(["--sentence", "x"])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Served_copy_holds_the_notebooks_and_what_their_kernel_needs_and_leaves_the_repository_alone()
    {
        var root = FakeRepository(packed: true);
        var notebooks = ServedCopy.Select(Path.Combine(root, "notebooks"), ["03"]);
        Assert.Equal([Path.Combine(root, "notebooks", "03-weighted-sum.ipynb")], notebooks);
        var before = ServedCopy.Fingerprints(notebooks);
        var target = Path.Combine(root, "artifacts", "live", "series");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "stale.ipynb"), "{}");

        var served = ServedCopy.Write(root, notebooks, target);

        Assert.Equal(Path.Combine(target, "notebooks"), served);
        string[] expected =
        [
            ".config/dotnet-tools.json", "03-weighted-sum.ipynb", "NuGet.config", "local-packages/NotebookAttention.Notebooks.0.1.0.nupkg",
        ];
        Assert.Equal(expected, Directory.GetFiles(served, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(served, f).Replace('\\', '/')).Order(StringComparer.Ordinal));
        Assert.Equal("the cat", File.ReadAllText(Path.Combine(served, "..", "data", "sentences.en.txt")));
        File.WriteAllText(Path.Combine(served, "03-weighted-sum.ipynb"), "autosaved");
        Assert.Equal(before, ServedCopy.Fingerprints(notebooks));
        Assert.Equal(root, ServedCopy.RepositoryRoot(Path.Combine(root, "notebooks")));
    }

    [Fact]
    public void Served_copy_refuses_an_unpacked_library_and_an_unknown_prefix_with_what_to_do()
    {
        var root = FakeRepository(packed: false);
        var unpacked = Assert.Throws<InvalidOperationException>(() => ServedCopy.Write(root, [], Path.Combine(root, "artifacts", "live", "series")));
        Assert.Contains("README command 1", unpacked.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<ArgumentException>(() => ServedCopy.Select(Path.Combine(root, "notebooks"), ["03", "42"]));
        Assert.Contains("starts with 42", unknown.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Jupyter_is_found_only_as_an_executable_on_path_and_its_absence_names_the_apt_package()
    {
        var plain = Directory.CreateDirectory(Path.Combine(folder, "plain")).FullName;
        var bin = Directory.CreateDirectory(Path.Combine(folder, "bin")).FullName;
        File.WriteAllText(Path.Combine(plain, JupyterServer.Program), "not executable");
        File.WriteAllText(Path.Combine(bin, JupyterServer.Program), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(bin, JupyterServer.Program), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        Assert.Equal(Path.Combine(bin, JupyterServer.Program), JupyterServer.Find(JupyterServer.Program, $"{plain}:{bin}"));
        Assert.Null(JupyterServer.Find(JupyterServer.Program, plain));
        Assert.Null(JupyterServer.Find(JupyterServer.Program, null));
        Assert.Contains("apt-get install --no-install-recommends jupyter-notebook", JupyterServer.MissingMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Log_tail_keeps_the_last_lines()
    {
        Assert.Equal("c\nd", JupyterServer.Tail("a\nb\nc\nd\n", lines: 2));
        Assert.Equal("a", JupyterServer.Tail("a", lines: 5));
        Assert.Equal("(the log is empty)", JupyterServer.Tail(" \n"));
    }

    private string FakeRepository(bool packed)
    {
        var root = Directory.CreateDirectory(Path.Combine(folder, "repo")).FullName;
        File.WriteAllText(Path.Combine(root, ServedCopy.SolutionFile), string.Empty);
        var notebooks = Directory.CreateDirectory(Path.Combine(root, "notebooks")).FullName;
        File.WriteAllText(Path.Combine(notebooks, "03-weighted-sum.ipynb"), "{\"cells\": []}");
        File.WriteAllText(Path.Combine(notebooks, "08-pretrained-attention.ipynb"), "{\"cells\": []}");
        File.WriteAllText(Path.Combine(notebooks, "NuGet.config"), "<configuration />");
        Directory.CreateDirectory(Path.Combine(notebooks, "local-packages"));
        File.WriteAllText(Path.Combine(notebooks, "local-packages", "README.md"), "packed here");
        if (packed)
        {
            File.WriteAllText(Path.Combine(notebooks, "local-packages", "NotebookAttention.Notebooks.0.1.0.nupkg"), "zip");
        }

        Directory.CreateDirectory(Path.Combine(root, ".config"));
        File.WriteAllText(Path.Combine(root, ".config", "dotnet-tools.json"), "{}");
        Directory.CreateDirectory(Path.Combine(root, "data"));
        File.WriteAllText(Path.Combine(root, "data", "sentences.en.txt"), "the cat");
        return root;
    }
}
