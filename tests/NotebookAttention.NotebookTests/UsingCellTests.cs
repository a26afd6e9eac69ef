using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// Each notebook's <c>using</c> cell names only namespaces that notebook uses: a learner reading the cell should learn
/// where the notebook's types come from, not a list copied from the notebook before. Static (no kernel): the names a
/// namespace offers are read by reflection from the assemblies a notebook loads, and looked for in its code.
/// </summary>
public partial class UsingCellTests
{
    private static readonly SeriesRunner Series = new(SeriesRunner.FindRoot());

    /// <summary>What a notebook's code can see: the two packed libraries, the core library, MathNet and the base library.</summary>
    private static readonly Assembly[] Visible =
    [
        typeof(global::NotebookAttention.Notebooks.Plots).Assembly,
        typeof(global::NotebookAttention.Pretrained.MiniLm).Assembly,
        typeof(global::NotebookAttention.Attention.Mask).Assembly,
        typeof(MathNet.Numerics.LinearAlgebra.Matrix<>).Assembly,
        typeof(object).Assembly,
    ];

    public static TheoryData<string> Notebooks() => [.. Series.Notebooks.Select(Path.GetFileName).OfType<string>()];

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Using_cell_names_only_namespaces_the_notebook_uses(string name)
    {
        var notebook = NotebookFile.Load(Path.Combine(Series.NotebooksFolder, name));
        var sources = notebook.CodeCells.Select(NotebookFile.Source).ToList();
        var usingCell = sources.SingleOrDefault(s => UsingLine().IsMatch(s));
        Assert.True(usingCell is not null, $"{name} has no single using cell");
        var namespaces = UsingLine().Matches(usingCell).Select(m => m.Groups["namespace"].Value).ToList();

        // The code that needs the usings: every other code cell and every solution block (it replaces an answer cell).
        var solutions = notebook.Cells.OfType<JsonObject>()
            .Where(c => (string?)c["cell_type"] == "markdown")
            .SelectMany(c => SolutionBlock().Matches(NotebookFile.Source(c)).Select(m => m.Groups["code"].Value));
        var identifiers = Identifiers(string.Join("\n", sources.Where(s => s != usingCell).Concat(solutions)));

        var unused = namespaces.Where(ns => !NamesOffered(ns).Overlaps(identifiers)).ToList();
        Assert.True(
            unused.Count == 0,
            $"{name}'s using cell names {string.Join(", ", unused)}, but none of {(unused.Count == 1 ? "its" : "their")} types or extension methods appear in the notebook's code: remove {(unused.Count == 1 ? "that line" : "those lines")}.");
    }

    [Fact]
    public void The_check_sees_a_namespace_whose_types_are_unused()
    {
        // The rule must be able to fail: Recurrence offers types (ElmanRnn, ...) that a masking notebook never names,
        // while Attention offers Mask, which it does.
        var masking = Identifiers("var mask = Mask.Causal(4); Plots.Heatmap(mask.ToMatrix());");
        Assert.False(NamesOffered("NotebookAttention.Recurrence").Overlaps(masking));
        Assert.True(NamesOffered("NotebookAttention.Attention").Overlaps(masking));
        Assert.True(NamesOffered("System.IO").Overlaps(Identifiers("File.ReadAllText(\"x\")")));
        Assert.NotEmpty(NamesOffered("NotebookAttention.Analysis"));
    }

    /// <summary>Simple names of the public types of <paramref name="ns"/> (generic arity dropped) and of its extension methods.</summary>
    private static HashSet<string> NamesOffered(string ns)
    {
        var types = Visible.SelectMany(a => a.GetExportedTypes()).Where(t => t.Namespace == ns).ToList();
        var typeNames = types.Select(t => t.Name.Split('`')[0]);
        var extensions = types
            .Where(t => t.IsDefined(typeof(ExtensionAttribute), false))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(m => m.IsDefined(typeof(ExtensionAttribute), false))
            .Select(m => m.Name);
        return [.. typeNames.Concat(extensions)];
    }

    /// <summary>The identifiers of C# code, outside plain string literals and comments.</summary>
    private static HashSet<string> Identifiers(string code)
    {
        var withoutStrings = PlainString().Replace(code, "\"\"");
        var withoutComments = LineComment().Replace(withoutStrings, string.Empty);
        return [.. Identifier().Matches(withoutComments).Select(m => m.Value)];
    }

    [GeneratedRegex(@"^using (?<namespace>[A-Za-z_][A-Za-z0-9_.]*);", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    [GeneratedRegex(@"```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex SolutionBlock();

    [GeneratedRegex(@"(?<![$@])""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex PlainString();

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex LineComment();

    [GeneratedRegex(@"\b[A-Za-z_][A-Za-z0-9_]*\b")]
    private static partial Regex Identifier();
}
