using System.Globalization;

namespace NotebookAttention.PageCheck;

/// <summary>Command-line options of the live check (<c>--live-jupyter</c>): which notebooks, how long, which programs.</summary>
public sealed class LiveOptions
{
    /// <summary>The first argument that selects the live check instead of checking rendered pages.</summary>
    public const string Switch = "--live-jupyter";

    /// <summary>What the live check accepts.</summary>
    public const string Usage = """
        usage: dotnet run --project tests/NotebookAttention.PageCheck -- --live-jupyter [options]
          --only PREFIX      notebooks whose file name starts with PREFIX (repeatable; default: 03 04 08)
          --max-seconds S    time limit per notebook, from opening its page until every cell has run and every
                             chart is drawn (default: 120)
          --chromium PATH    the browser (default: /usr/bin/chromium)
          --jupyter PATH     the classic notebook server (default: jupyter-notebook found on PATH)
        Serves a copy of the notebooks from artifacts/live/ with Jupyter Notebook on 127.0.0.1 and the series' own
        kernelspec, clicks Cell > Run All in headless Chromium and checks every cell ran, every chart was drawn and
        no cell shows an error or a compiler warning. Run README command 1 first: it packs the library the notebooks load.
        """;

    /// <summary>
    /// The notebooks checked when no <c>--only</c> is given: the two (03, small; 08, the pretrained model)
    /// plus 04, cheap, with 21 heatmaps and the data it reads from <c>../data</c>: 20 to 45 s each on a busy 2-core
    /// machine, kernel start included.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultNotebooks = ["03", "04", "08"];

    /// <summary>Notebook file-name prefixes to check.</summary>
    public IReadOnlyList<string> Only { get; private set; } = DefaultNotebooks;

    /// <summary>Time limit per notebook, in seconds.</summary>
    public double MaxSeconds { get; private set; } = 120;

    /// <summary>Path of the Chromium executable.</summary>
    public string Chromium { get; private set; } = "/usr/bin/chromium";

    /// <summary>Path of <c>jupyter-notebook</c>, or null to find it on PATH.</summary>
    public string? Jupyter { get; private set; }

    /// <summary>Reads the arguments that follow <see cref="Switch"/>.</summary>
    /// <param name="args">The arguments, without <see cref="Switch"/>.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">An option is unknown, lacks its value, or its value is not usable.</exception>
    public static LiveOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new LiveOptions();
        var only = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.\n{Usage}");
            switch (name)
            {
                case "--only": only.Add(Value()); break;
                case "--chromium": options.Chromium = Value(); break;
                case "--jupyter": options.Jupyter = Value(); break;
                case "--max-seconds":
                    var text = Value();
                    options.MaxSeconds = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && double.IsFinite(seconds)
                        ? seconds
                        : throw new ArgumentException($"--max-seconds is \"{text}\": it must be a positive number of seconds, e.g. --max-seconds 120.");
                    break;
                default: throw new ArgumentException($"unknown option {name}.\n{Usage}");
            }
        }

        if (only.Count > 0)
        {
            options.Only = only;
        }

        return options;
    }
}
