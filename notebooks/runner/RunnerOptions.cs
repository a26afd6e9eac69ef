using System.Globalization;

namespace NotebookAttention.Runner;

/// <summary>Command-line options of the series runner.</summary>
public sealed class RunnerOptions
{
    /// <summary>What the runner accepts.</summary>
    public const string Usage = """
        usage: dotnet run --project notebooks/runner [-- options]
          --only PREFIX      run only notebooks whose file name starts with PREFIX (repeatable), e.g. --only 03
          --sentence TEXT    replace the sentence typed in every notebook with TEXT
          --output DIR       where executed notebooks and pages go (default: artifacts/series for the kernel,
                             artifacts/scripting for the scripting engine; with --engine both: DIR/series and
                             DIR/scripting)
          --engine NAME      kernel (default: the .NET Interactive kernel through dotnet-repl, as in VS Code and
                             Jupyter), scripting (Roslyn scripting in this process: no kernel, no port, nothing
                             downloaded) or both (both engines, then --compare on what they wrote)
          --compare DIR1 DIR2
                             instead of running: compare two folders of executed notebooks (same notebooks succeed,
                             same number of charts, heatmaps and tables, same text outputs once machine figures,
                             a number with a unit of time, speed or memory, are masked; cells tagged
                             timing-dependent compared by kind only)
          --timeout SECONDS  time limit per notebook (default: 300; the first run restores packages)
          --install-kernel [DIR]
                             instead of running: install the .NET Interactive Jupyter kernelspecs (.net-csharp
                             and its F# and PowerShell siblings) into DIR (default: Jupyter's user kernels folder)
                             so the kernel listens on 127.0.0.1 only
          --export-apps DIR  instead of running: write each notebook (or those --only names) as a .NET 10
                             file-based app DIR/NN-name.cs; `dotnet run DIR/NN-name.cs` runs the lesson and
                             writes its page beside the app; DIR must not be the notebooks folder
          --force            with --export-apps: overwrite apps changed since their export (kept otherwise)
        """;

    /// <summary>Notebook file-name prefixes to run; empty for all.</summary>
    public List<string> Only { get; } = [];

    /// <summary>Sentence that replaces the typed one, or null.</summary>
    public string? Sentence { get; private set; }

    /// <summary>Output folder, or null for the default.</summary>
    public string? Output { get; private set; }

    /// <summary>Which engine runs the notebooks.</summary>
    public RunnerEngine Engine { get; private set; } = RunnerEngine.Kernel;

    /// <summary>The two folders of executed notebooks to compare instead of running, or null.</summary>
    public (string First, string Second)? Compare { get; private set; }

    /// <summary>Time limit per notebook.</summary>
    public int TimeoutSeconds { get; private set; } = 300;

    /// <summary>Whether to install the loopback-only Jupyter kernelspecs instead of running the series.</summary>
    public bool InstallKernel { get; private set; }

    /// <summary>The Jupyter kernels folder for <see cref="InstallKernel"/>, or null for Jupyter's user folder.</summary>
    public string? KernelFolder { get; private set; }

    /// <summary>Where to export the notebooks as file-based apps, or null to run the series.</summary>
    public string? ExportApps { get; private set; }

    /// <summary>With <see cref="ExportApps"/>: overwrite apps the learner changed since their export.</summary>
    public bool Force { get; private set; }

    /// <summary>Whether to print the usage.</summary>
    public bool Help { get; private set; }

    /// <summary>Parses the arguments.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">An option is unknown or lacks its value.</exception>
    public static RunnerOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new RunnerOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.\n{Usage}");
            switch (args[i])
            {
                case "--only": options.Only.Add(Value()); break;
                case "--sentence": options.Sentence = Value(); break;
                case "--output": options.Output = Value(); break;
                case "--engine":
                    var engine = Value();
                    options.Engine = engine switch
                    {
                        "kernel" => RunnerEngine.Kernel,
                        "scripting" => RunnerEngine.Scripting,
                        "both" => RunnerEngine.Both,
                        _ => throw new ArgumentException($"--engine {engine} is unknown: use kernel, scripting or both.\n{Usage}"),
                    };
                    break;
                case "--compare":
                    var first = Value();
                    options.Compare = (first, i + 1 < args.Count ? args[++i] : throw new ArgumentException($"--compare needs two folders of executed notebooks.\n{Usage}"));
                    break;
                case "--timeout": options.TimeoutSeconds = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--install-kernel":
                    options.InstallKernel = true;
                    if (i + 1 < args.Count && !args[i + 1].StartsWith('-'))
                    {
                        options.KernelFolder = args[++i];
                    }

                    break;
                case "--export-apps": options.ExportApps = Value(); break;
                case "--force": options.Force = true; break;
                case "-h" or "--help": options.Help = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}.\n{Usage}");
            }
        }

        return options;
    }
}

/// <summary>The engines that can run the series.</summary>
public enum RunnerEngine
{
    /// <summary>The .NET Interactive kernel through dotnet-repl (the default; what VS Code and Jupyter run).</summary>
    Kernel,

    /// <summary>Roslyn scripting inside the runner (<see cref="ScriptingEngine"/>).</summary>
    Scripting,

    /// <summary>Both, one after the other, then their executed notebooks compared.</summary>
    Both,
}
