using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace NotebookAttention.Runner;

/// <summary>A notebook construct that a file-based app cannot express, with the cell it is in.</summary>
/// <param name="notebook">The notebook's file name.</param>
/// <param name="cell">Zero-based index of the cell among all cells, as the runner reports cell errors.</param>
/// <param name="message">What is wrong and what to do.</param>
public sealed class AppExportException(string notebook, int cell, string message)
    : Exception($"{notebook}, cell {cell}: {message}")
{
    /// <summary>The notebook's file name.</summary>
    public string Notebook { get; } = notebook;

    /// <summary>Zero-based index of the cell among all cells.</summary>
    public int Cell { get; } = cell;
}

/// <summary>One code cell, as the kernel sees it: its index among all cells and its C# script text.</summary>
/// <param name="Index">Zero-based index among all cells of the notebook.</param>
/// <param name="Source">The cell's text with the kernel's <c>#r</c> lines already taken out.</param>
public sealed record ScriptCell(int Index, string Source);

/// <summary>One code cell turned into top-level statements of a program.</summary>
/// <param name="Index">Zero-based index among all cells.</param>
/// <param name="Statements">The cell's statements (usings and type declarations removed, names renamed, its value shown).</param>
/// <param name="Types">Type declarations of the cell, which C# wants after all top-level statements.</param>
/// <param name="Notes">Comment lines that say what changed from the notebook (renames).</param>
public sealed record ProgramCell(int Index, string Statements, string Types, IReadOnlyList<string> Notes);

/// <summary>The series of cells as one program: hoisted usings and the cells in order.</summary>
/// <param name="Usings">Using directives of all cells, deduplicated, in order of first appearance.</param>
/// <param name="Cells">The cells.</param>
public sealed record CellSeries(IReadOnlyList<string> Usings, IReadOnlyList<ProgramCell> Cells);

/// <summary>
/// Turns a notebook's code cells (C# script, one submission after another, as the kernel runs them) into the
/// top-level statements of one C# program. The cells are compiled as a chain of script submissions first, so
/// every rewrite rests on what the compiler bound, not on the text:
/// <list type="bullet">
/// <item>usings move to the top of the file (a program allows them only there);</item>
/// <item>a cell's trailing expression (the script's value, which the kernel shows) becomes a call to the show
/// method, or stays a statement when it is a void call;</item>
/// <item>a name declared at the top level of more than one cell (in a script each cell's variables are fields of
/// its own submission, so a later cell may declare the name again; in a program that is error CS0128) is renamed
/// in the earlier cells, <c>name_cellN</c>, together with every use the compiler bound to that declaration;</item>
/// <item>a local inside a block or lambda named like a top-level variable of any cell becomes <c>name_inner</c>
/// (a program's top-level locals are in scope in the whole file, error CS0136 otherwise);</item>
/// <item>script methods become local functions, script fields become locals, type declarations move after the
/// statements; top-level <c>await</c> needs nothing, since a program allows it too;</item>
/// <item>what a program cannot say the same way (a top-level <c>return</c>, members with access modifiers,
/// properties or events at the top level) stops the export with the cell's number.</item>
/// </list>
/// </summary>
public static class CellProgram
{
    /// <summary>The usings every .NET Interactive C# cell starts with.</summary>
    public static readonly IReadOnlyList<string> KernelUsings =
        ["using System;", "using System.Collections;", "using System.Collections.Generic;", "using System.Linq;", "using System.Text;", "using System.Threading.Tasks;"];

    private static readonly CSharpParseOptions ScriptOptions = new(LanguageVersion.Latest, kind: SourceCodeKind.Script);

    /// <summary>Converts the cells.</summary>
    /// <param name="notebook">The notebook's file name, for errors.</param>
    /// <param name="cells">The code cells in order.</param>
    /// <param name="references">Assemblies the cells may use (the library, its dependencies, the framework).</param>
    /// <param name="staticUsings">Types whose static members stand in for the kernel's globals (<c>display</c>, <c>HTML</c>).</param>
    /// <param name="showMethod">Name of the static method of one of <paramref name="staticUsings"/> that shows a cell's value.</param>
    /// <returns>The program's parts.</returns>
    /// <exception cref="AppExportException">A cell does not compile as script or uses a construct a program cannot express.</exception>
    public static CellSeries Convert(string notebook, IReadOnlyList<ScriptCell> cells, IReadOnlyList<MetadataReference> references, IReadOnlyList<string> staticUsings, string showMethod)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var submissions = Compile(notebook, cells, references, staticUsings);
        var renames = Renames(submissions);
        var usings = new List<string>();
        var converted = new List<ProgramCell>();
        foreach (var submission in submissions)
        {
            converted.Add(Rewrite(notebook, submission, renames, usings, showMethod));
        }

        return new CellSeries(usings, converted);
    }

    /// <summary>References for every assembly this process was started with (the runner's dependencies and the framework).</summary>
    /// <returns>The references.</returns>
    public static IReadOnlyList<MetadataReference> ProcessReferences() =>
        [.. ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(path => MetadataReference.CreateFromFile(path))];

    private sealed record Submission(ScriptCell Cell, SyntaxTree Tree, CSharpCompilation Compilation, SemanticModel Model);

    private static List<Submission> Compile(string notebook, IReadOnlyList<ScriptCell> cells, IReadOnlyList<MetadataReference> references, IReadOnlyList<string> staticUsings)
    {
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, usings: [.. KernelUsings.Select(u => u[6..^1]), .. staticUsings], nullableContextOptions: NullableContextOptions.Disable);
        var submissions = new List<Submission>();
        CSharpCompilation? previous = null;
        foreach (var cell in cells)
        {
            var tree = CSharpSyntaxTree.ParseText(cell.Source, ScriptOptions);
            var compilation = CSharpCompilation.CreateScriptCompilation($"cell{cell.Index}", tree, references, options, previous);
            var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (errors.Count > 0)
            {
                throw new AppExportException(notebook, cell.Index, $"the cell does not compile as C# script, so it cannot be exported: {Describe(errors[0])}");
            }

            submissions.Add(new Submission(cell, tree, compilation, compilation.GetSemanticModel(tree)));
            previous = compilation;
        }

        return submissions;
    }

    /// <summary>
    /// The names that change. A top-level symbol (a field or method of a submission) whose name a later cell declares
    /// again keeps its name in the last cell that declares it and becomes <c>name_cellN</c> in earlier ones. A local
    /// inside a block (a loop, a lambda) named like a top-level symbol becomes <c>name_inner</c>: in a program every
    /// top-level local is in scope in the whole file, so the two would clash (CS0136), which separate script
    /// submissions allow.
    /// </summary>
    private static Dictionary<ISymbol, (string Name, string Note)> Renames(List<Submission> submissions)
    {
        var declared = submissions
            .SelectMany(s => s.Compilation.ScriptClass!.GetMembers()
                .Where(m => !m.IsImplicitlyDeclared && m is IFieldSymbol or IMethodSymbol { MethodKind: MethodKind.Ordinary } && m.Locations.Any(l => l.SourceTree == s.Tree))
                .Select(m => (Symbol: m, s.Cell.Index)))
            .ToList();
        var taken = declared.Select(d => d.Symbol.Name).ToHashSet(StringComparer.Ordinal);
        string Unique(string name)
        {
            while (!taken.Add(name))
            {
                name += "_";
            }

            return name;
        }

        var renames = new Dictionary<ISymbol, (string Name, string Note)>(SymbolEqualityComparer.Default);
        foreach (var group in declared.GroupBy(d => d.Symbol.Name, StringComparer.Ordinal).Where(g => g.Select(d => d.Index).Distinct().Count() > 1))
        {
            var last = group.Max(d => d.Index);
            var cellsDeclaring = group.Select(d => d.Index).Distinct().Order().ToList();
            foreach (var (symbol, index) in group.Where(d => d.Index != last))
            {
                var name = Unique($"{symbol.Name}_cell{index}");
                renames[symbol] = (name, $"{symbol.Name} is declared again in cell {cellsDeclaring[cellsDeclaring.IndexOf(index) + 1]}: here it is {name}");
            }
        }

        var topLevel = declared.GroupBy(d => d.Symbol.Name, StringComparer.Ordinal).Select(g => g.Last()).ToDictionary(d => d.Symbol.Name, d => d.Index, StringComparer.Ordinal);
        var innerNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var submission in submissions)
        {
            foreach (var (_, symbol) in NamedTokens(submission.Model, submission.Tree.GetCompilationUnitRoot()))
            {
                if (symbol is ILocalSymbol or IRangeVariableSymbol && topLevel.TryGetValue(symbol.Name, out var cell) && !renames.ContainsKey(symbol))
                {
                    // Locals of one name share one new name: they were apart (or shadowing) before, and stay so.
                    var name = innerNames.TryGetValue(symbol.Name, out var known) ? known : innerNames[symbol.Name] = Unique($"{symbol.Name}_inner");
                    renames[symbol] = (name, $"{symbol.Name} inside this cell is {name}: the {symbol.Name} of cell {cell} is in scope in the whole app");
                }
            }
        }

        return renames;
    }

    private static ProgramCell Rewrite(string notebook, Submission submission, Dictionary<ISymbol, (string Name, string Note)> renames, List<string> usings, string showMethod)
    {
        var root = submission.Tree.GetCompilationUnitRoot();
        var index = submission.Cell.Index;
        var edits = new List<(TextSpanEdit Edit, int Order)>();
        var types = new List<string>();
        var notes = new List<string>();

        foreach (var directive in root.Usings)
        {
            var text = directive.ToString();
            var clash = directive.Alias is { } alias ? usings.FirstOrDefault(u => u != text && u.StartsWith($"using {alias.Name} =", StringComparison.Ordinal)) : null;
            if (clash is not null)
            {
                throw new AppExportException(notebook, index, $"'{text}' gives the alias another meaning than '{clash}' in an earlier cell; a program has one set of usings: give one of them another name.");
            }

            if (!usings.Contains(text, StringComparer.Ordinal) && !KernelUsings.Contains(text, StringComparer.Ordinal))
            {
                usings.Add(text);
            }

            edits.Add((new TextSpanEdit(directive.FullSpan.Start, directive.FullSpan.End, string.Empty), 0));
        }

        foreach (var externAlias in root.Externs)
        {
            throw new AppExportException(notebook, index, $"'{externAlias}' has no place in a file-based app: reference the assembly without an alias.");
        }

        foreach (var attributes in root.AttributeLists)
        {
            throw new AppExportException(notebook, index, $"the assembly attribute '{attributes}' cannot be exported: move it into the library.");
        }

        foreach (var member in root.Members)
        {
            switch (member)
            {
                case GlobalStatementSyntax statement:
                    RefuseTopLevelReturn(notebook, index, statement);
                    break;
                case FieldDeclarationSyntax field:
                    RefuseModifiers(notebook, index, field.Modifiers, "const", field.Declaration.Variables[0].Identifier.Text);
                    break;
                case MethodDeclarationSyntax method:
                    RefuseModifiers(notebook, index, method.Modifiers, "static async unsafe", method.Identifier.Text);
                    break;
                case BaseTypeDeclarationSyntax or DelegateDeclarationSyntax:
                    types.Add(member.ToFullString().Trim());
                    edits.Add((new TextSpanEdit(member.FullSpan.Start, member.FullSpan.End, string.Empty), 0));
                    break;
                default:
                    throw new AppExportException(notebook, index, $"a top-level {member.Kind()} ('{FirstLine(member)}') has no equivalent in a program's top-level statements: make it a variable or a method, or move it into the library.");
            }
        }

        foreach (var (token, symbol) in NamedTokens(submission.Model, root))
        {
            if (renames.TryGetValue(symbol.OriginalDefinition, out var rename))
            {
                edits.Add((new TextSpanEdit(token.Span.Start, token.Span.End, rename.Name), 1));
            }
        }

        foreach (var note in renames.Where(r => r.Key.Locations.Any(l => l.SourceTree == submission.Tree)).Select(r => r.Value.Note).Distinct())
        {
            notes.Add("// " + note);
        }

        if (root.Members.LastOrDefault() is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } last })
        {
            var type = submission.Model.GetTypeInfo(last.Expression).Type;
            if (type is null || type.SpecialType == SpecialType.System_Void)
            {
                edits.Add((new TextSpanEdit(last.Expression.Span.End, last.Expression.Span.End, ";"), 2));
            }
            else
            {
                edits.Add((new TextSpanEdit(last.Expression.Span.Start, last.Expression.Span.Start, showMethod + "("), 2));
                edits.Add((new TextSpanEdit(last.Expression.Span.End, last.Expression.Span.End, ");"), 2));
            }
        }

        var source = submission.Cell.Source;
        foreach (var (edit, _) in edits.OrderByDescending(e => e.Edit.Start).ThenBy(e => e.Order))
        {
            source = string.Concat(source.AsSpan(0, edit.Start), edit.Text, source.AsSpan(edit.End));
        }

        return new ProgramCell(index, source.Trim('\n', '\r'), string.Join("\n\n", types), notes);
    }

    private sealed record TextSpanEdit(int Start, int End, string Text);

    /// <summary>Every identifier token in the cell with the top-level symbol or the local it declares or refers to.</summary>
    private static IEnumerable<(SyntaxToken Token, ISymbol Symbol)> NamedTokens(SemanticModel model, CompilationUnitSyntax root)
    {
        foreach (var node in root.DescendantNodes())
        {
            var (token, symbol) = node switch
            {
                IdentifierNameSyntax name => (name.Identifier, model.GetSymbolInfo(name).Symbol),
                VariableDeclaratorSyntax declarator => (declarator.Identifier, model.GetDeclaredSymbol(declarator)),
                SingleVariableDesignationSyntax designation => (designation.Identifier, model.GetDeclaredSymbol(designation)),
                MethodDeclarationSyntax method => (method.Identifier, model.GetDeclaredSymbol(method)),
                ForEachStatementSyntax loop => (loop.Identifier, model.GetDeclaredSymbol(loop)),
                CatchDeclarationSyntax caught => (caught.Identifier, model.GetDeclaredSymbol(caught)),
                FromClauseSyntax from => (from.Identifier, model.GetDeclaredSymbol(from)),
                LetClauseSyntax let => (let.Identifier, model.GetDeclaredSymbol(let)),
                _ => (default, null),
            };
            if (symbol is ILocalSymbol or IRangeVariableSymbol || (symbol is IFieldSymbol or IMethodSymbol && symbol.ContainingType is { IsScriptClass: true }))
            {
                yield return (token, symbol);
            }
        }
    }

    private static void RefuseTopLevelReturn(string notebook, int index, GlobalStatementSyntax statement)
    {
        var returns = statement.DescendantNodesAndSelf(n => n is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
            .OfType<ReturnStatementSyntax>();
        if (returns.Any())
        {
            throw new AppExportException(notebook, index, "a top-level 'return' ends a script cell but would end the whole app: end the cell with an expression instead.");
        }
    }

    private static void RefuseModifiers(string notebook, int index, SyntaxTokenList modifiers, string allowed, string name)
    {
        var refused = modifiers.Where(m => !allowed.Split(' ').Contains(m.Text, StringComparer.Ordinal)).ToList();
        if (refused.Count > 0)
        {
            throw new AppExportException(notebook, index, $"'{string.Join(" ", refused)}' on '{name}' has no meaning for a local in a program's top-level statements: remove it.");
        }
    }

    private static string FirstLine(SyntaxNode node) => node.ToString().Split('\n')[0].Trim();

    private static string Describe(Diagnostic diagnostic)
    {
        var line = diagnostic.Location.GetLineSpan().StartLinePosition.Line + 1;
        return $"line {line}: {diagnostic.Id}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>Compiles a generated program and returns its errors.</summary>
    /// <param name="program">The program's text.</param>
    /// <param name="references">Assemblies it may use.</param>
    /// <returns>The compiler's errors, empty when it compiles.</returns>
    public static ImmutableArray<Diagnostic> ProgramErrors(string program, IReadOnlyList<MetadataReference> references)
    {
        var tree = CSharpSyntaxTree.ParseText(program, new CSharpParseOptions(LanguageVersion.Latest));
        var compilation = CSharpCompilation.Create("app", [tree], references, new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Disable));
        return [.. compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)];
    }
}
