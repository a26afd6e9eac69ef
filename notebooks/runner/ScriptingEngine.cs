using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using NotebookAttention.Notebooks;

namespace NotebookAttention.Runner;

/// <summary>
/// The second engine: runs a notebook's code cells in order on Roslyn scripting inside this process, with no kernel,
/// no port and nothing downloaded. Each notebook gets a fresh script state. <c>#r "nuget: NotebookAttention*, ..."</c>
/// resolves to the library built from this repository (the assemblies this runner is built with); any other
/// <c>#r</c> or magic command fails its cell. Outputs are recorded by <see cref="LessonRecorder"/> with the
/// kernel's formatters, so the executed notebook has the kernel engine's shape.
/// </summary>
/// <remarks>
/// A cell runs on its own background thread and is given the time left of the notebook's limit. When time runs out
/// the cell's cancellation token fires (<see cref="LiveOutput.CellCancellation"/>; trainings stop at their next step)
/// and the notebook stops with an error; a cell that ignores cancellation is left running in the background (a
/// thread cannot be killed) and its later output is dropped.
/// </remarks>
public sealed partial class ScriptingEngine
{
    /// <summary>The kernel's default usings in a C# cell (see PLATFORM-NOTES), plus the kernel's <c>display</c> and <c>HTML</c>.</summary>
    public static readonly IReadOnlyList<string> DefaultImports =
        ["System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks", "System.Linq", typeof(Lesson).FullName!];

    /// <summary>The library's packages a notebook may load, each by one of its types (the assembly that <c>#r "nuget: ..."</c> names).</summary>
    public static readonly IReadOnlyDictionary<string, Assembly> Packages = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase)
    {
        ["NotebookAttention"] = typeof(Attention.ScaledDotProductAttention).Assembly,
        ["NotebookAttention.Notebooks"] = typeof(NotebookDisplay).Assembly,
        ["NotebookAttention.Pretrained"] = typeof(Pretrained.MiniLm).Assembly,
    };

    /// <summary>Creates the engine; cells run with <paramref name="workingDirectory"/> as the current folder, as the kernel does.</summary>
    /// <param name="workingDirectory">The notebooks folder.</param>
    public ScriptingEngine(string workingDirectory)
    {
        WorkingDirectory = workingDirectory;
    }

    /// <summary>The folder cells run in.</summary>
    public string WorkingDirectory { get; }

    /// <summary>Runs one notebook top to bottom and writes its executed copy to <paramref name="outputFolder"/>.</summary>
    /// <param name="notebook">Path of the .ipynb.</param>
    /// <param name="outputFolder">Where the executed notebook is written.</param>
    /// <param name="timeout">Time limit for the whole notebook.</param>
    /// <param name="sentence">A sentence that replaces the one typed in the notebook (<see cref="Learner.SentenceVariable"/>), or null.</param>
    /// <returns>How it went; the first failing cell stops the notebook and is its only error.</returns>
    /// <exception cref="ArgumentException"><paramref name="outputFolder"/> is the notebook's own folder (checked before anything is deleted).</exception>
    public NotebookRun Execute(string notebook, string outputFolder, TimeSpan timeout, string? sentence = null)
    {
        var executed = OutputGuard.FreshExecutedPath(notebook, outputFolder);
        var name = Path.GetFileName(notebook);
        var recorder = LessonRecorder.Load(notebook);
        var codeCells = recorder.Notebook.CodeCells.Count();
        var previousSentence = Environment.GetEnvironmentVariable(Learner.SentenceVariable);
        var previousFolder = Environment.CurrentDirectory;
        var stopwatch = Stopwatch.StartNew();
        try
        {
            if (sentence is not null)
            {
                Environment.SetEnvironmentVariable(Learner.SentenceVariable, sentence);
            }

            Environment.CurrentDirectory = WorkingDirectory;
            var session = new Session();
            var failed = false;
            for (var i = 0; i < recorder.Notebook.Cells.Count && !failed; i++)
            {
                if (recorder.Notebook.Cells[i] is JsonObject cell && (string?)cell["cell_type"] == "code")
                {
                    failed = !RunCell(recorder, session, i, NotebookFile.Source(cell), timeout - stopwatch.Elapsed);
                }
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(Learner.SentenceVariable, previousSentence);
            Environment.CurrentDirectory = previousFolder;
        }

        var seconds = stopwatch.Elapsed.TotalSeconds;
        recorder.Save(executed);
        return new NotebookRun(name, codeCells, seconds, recorder.Errors, executed, string.Empty);
    }

    // Runs one cell into its outputs; false when it failed (compile error, exception, time limit or a directive this
    // engine cannot run), which stops the notebook. Failures are recorded as the kernel records them: an error output
    // named "Error" whose value is the compiler's diagnostics or the exception's ToString().
    private static bool RunCell(LessonRecorder recorder, Session session, int index, string source, TimeSpan left)
    {
        using var cancellation = new CancellationTokenSource();
        var cell = recorder.BeginCell(index, cancellation.Token);
        try
        {
            var (code, packages, problem) = Directives(source);
            if (problem is not null)
            {
                cell.Error("Error", problem);
                return false;
            }

            if (packages.Count > 0)
            {
                session.Load(packages);
                cell.PackagesLoaded(packages.Select(p => $"{p.Name}, {p.Version}"));
            }

            if (string.IsNullOrWhiteSpace(code))
            {
                return true;
            }

            Exception? failure = null;
            var thread = new Thread(() => failure = session.Run(code, cell, cancellation.Token)) { IsBackground = true, Name = $"cell {index}" };
            if (left > TimeSpan.Zero)
            {
                thread.Start();
            }

            if (left <= TimeSpan.Zero || !thread.Join(left))
            {
                // Trainings stop at their next step when the cell's token fires; a loop that ignores it is abandoned.
                cancellation.Cancel();
                var stopped = left > TimeSpan.Zero && thread.Join(TimeSpan.FromSeconds(5));
                cell.Error("Error", string.Create(CultureInfo.InvariantCulture, $"TimeoutException: the notebook's time limit ran out in this cell ({Math.Max(0, left.TotalSeconds):0.0} s were left for it); ")
                    + (stopped ? $"the cell stopped: {failure?.Message ?? "it ended"}. " : "the cell did not stop and was abandoned. ")
                    + "Raise --timeout, or find the loop that does not end.");
                return false;
            }

            if (failure is not null)
            {
                cell.Error("Error", failure is CompilationErrorException compile
                    ? string.Join("\n", compile.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()))
                    : failure.ToString());
                return false;
            }

            return true;
        }
        finally
        {
            recorder.EndCell();
        }
    }

    /// <summary>
    /// Splits a cell into its C# and its <c>#r "nuget: ..."</c> lines. Directive lines become blank lines, so the
    /// compiler's line numbers still match the cell.
    /// </summary>
    /// <param name="source">The cell's source.</param>
    /// <returns>The code, the packages named, and the problem when the cell uses a directive this engine cannot run (null when none).</returns>
    public static (string Code, IReadOnlyList<(string Name, string Version)> Packages, string? Problem) Directives(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var lines = source.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var packages = new List<(string Name, string Version)>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (NugetReference().Match(line) is { Success: true } match)
            {
                var package = match.Groups["name"].Value;
                if (!Packages.ContainsKey(package))
                {
                    return (string.Empty, [], $"line {i + 1}: {line} cannot be loaded by the scripting engine: it runs without NuGet and only knows the library built from this repository ({string.Join(", ", Packages.Keys)}). Run this notebook on the kernel engine (the default), or reference one of those packages.");
                }

                packages.Add((package, match.Groups["version"].Value.Trim()));
                lines[i] = string.Empty;
            }
            else if (KernelDirective().IsMatch(line))
            {
                return (string.Empty, [], $"line {i + 1}: {line} is a kernel directive the scripting engine does not run (it knows only #r \"nuget: NotebookAttention..., VERSION\"). Run this notebook on the kernel engine (the default), or remove the directive.");
            }
        }

        return (string.Join("\n", lines), packages, null);
    }

    // Every directive that loads something: #r (also written #r"x.dll", without a space), #i, #load, and the kernel's #! magics.
    [GeneratedRegex(@"^#(?:r|i|load)\b|^#!")]
    private static partial Regex KernelDirective();

    [GeneratedRegex("""^#r\s+"nuget:\s*(?<name>[^,"\s]+)\s*(,(?<version>[^"]*))?"\s*$""")]
    private static partial Regex NugetReference();

    /// <summary>One notebook's script state: the references loaded so far and the chain of submissions.</summary>
    private sealed class Session
    {
        // #load is refused by Directives; the refusing source resolver makes sure no script file is read even so.
        private ScriptOptions options = ScriptOptions.Default.WithImports(DefaultImports).AddReferences(typeof(Lesson).Assembly).WithSourceResolver(new RefusingSourceResolver());
        private ScriptState<object>? state;

        public void Load(IEnumerable<(string Name, string Version)> packages)
        {
            foreach (var (name, _) in packages)
            {
                options = options.AddReferences(Closure(Packages[name]));
            }
        }

        public Exception? Run(string code, CellOutputs cell, CancellationToken cancellation)
        {
            try
            {
                state = state is null
                    ? CSharpScript.RunAsync(code, options, cancellationToken: cancellation).GetAwaiter().GetResult()
                    : state.ContinueWithAsync(code, options, cancellation).GetAwaiter().GetResult();
                if (EndsWithExpression(state.Script))
                {
                    cell.Value(state.ReturnValue);
                }

                return null;
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                return error;
            }
        }

        // A cell that ends with an expression (no semicolon) shows its value, null included, as in the kernel; a trailing
        // call that returns void shows nothing (the kernel publishes only when the submission has a result).
        private static bool EndsWithExpression(Script script)
        {
            var compilation = script.GetCompilation();
            var tree = compilation.SyntaxTrees.Single();
            return tree.GetRoot() is CompilationUnitSyntax unit
                && unit.Members.LastOrDefault() is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } last }
                && compilation.GetSemanticModel(tree).GetTypeInfo(last.Expression).Type is not { SpecialType: SpecialType.System_Void };
        }

        // The package's assembly and every non-framework assembly it references, as NuGet would bring them along.
        private static Dictionary<string, Assembly>.ValueCollection Closure(Assembly root)
        {
            var seen = new Dictionary<string, Assembly>(StringComparer.Ordinal);
            var pending = new Stack<Assembly>([root]);
            while (pending.TryPop(out var assembly))
            {
                if (!seen.TryAdd(assembly.GetName().Name!, assembly))
                {
                    continue;
                }

                foreach (var reference in assembly.GetReferencedAssemblies())
                {
                    if (!seen.ContainsKey(reference.Name!) && !IsFramework(reference))
                    {
                        pending.Push(Assembly.Load(reference));
                    }
                }
            }

            return seen.Values;
        }

        private static bool IsFramework(AssemblyName name) =>
            name.Name is { } n && (n == "mscorlib" || n == "netstandard" || n.StartsWith("System.", StringComparison.Ordinal) && !n.StartsWith("System.Numerics.Tensors", StringComparison.Ordinal) || n.StartsWith("Microsoft.Win32", StringComparison.Ordinal) || n == "System");
    }

    /// <summary>Resolves no source file: a cell cannot pull a .csx from disk.</summary>
    private sealed class RefusingSourceResolver : SourceReferenceResolver
    {
        public override bool Equals(object? other) => other is RefusingSourceResolver;

        public override int GetHashCode() => nameof(RefusingSourceResolver).GetHashCode(StringComparison.Ordinal);

        public override string? NormalizePath(string path, string? baseFilePath) => null;

        public override string? ResolveReference(string path, string? baseFilePath) => null;

        public override Stream OpenRead(string resolvedPath) => throw new IOException($"the scripting engine reads no script files ({resolvedPath}).");
    }
}
