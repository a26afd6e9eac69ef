using System.Text.RegularExpressions;
using NotebookAttention.Tests.Support;

namespace NotebookAttention.Tests;

/// <summary>
/// XML docs in lib/ say something the name does not: a <c>&lt;param&gt;</c> or <c>&lt;returns&gt;</c> line that only
/// repeats the parameter's, method's or return type's name ("The figure.", <c>seed</c>: "Seed.") is refused. The build
/// (warnings as errors, CS1573) wants all parameters of a method documented or none, so a method's param lines may go
/// only all together: the rule flags them when every one of them is name-only.
/// </summary>
public partial class DocCommentTests
{
    /// <summary>
    /// Files other branches of issue 13 rewrite while it is open (Fast/ and the fast MiniLM encoder, 16 name-only lines)
    /// or share (Plots.cs, where a branch changes only the functions it adds, 11 lines): those lines go, and these
    /// entries with them, once the branches are merged.
    /// </summary>
    private static readonly string[] OpenElsewhere = [];

    private static readonly HashSet<string> Filler = ["the", "a", "an", "of", "its", "this", "given", "number", "to", "be", "one", "each"];

    [Fact]
    public void No_param_or_returns_line_only_repeats_a_name()
    {
        var lib = Repository.PathOf("lib");
        var found = Directory.EnumerateFiles(lib, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path: f, Relative: Path.GetRelativePath(lib, f).Replace('\\', '/')))
            .Where(f => !OpenElsewhere.Any(open => f.Relative.StartsWith(open, StringComparison.Ordinal)))
            .SelectMany(f => NameOnlyLines(File.ReadAllLines(f.Path)).Select(line => $"{f.Relative}: {line}"))
            .ToList();
        Assert.True(found.Count == 0, $"{found.Count} doc lines only repeat a name; drop them or say what the name does not (shape, unit, range, why):\n{string.Join("\n", found)}");
    }

    [Fact]
    public void The_rule_tells_a_repeated_name_from_a_shape_a_symbol_or_a_unit()
    {
        string[] repeats =
        [
            "    /// <summary>A mask.</summary>",
            "    /// <param name=\"tokens\">Number of tokens.</param>",
            "    /// <param name=\"seed\">The seed.</param>",
            "    /// <returns>The mask.</returns>",
            "    public static Mask Causal(int tokens, int seed)",
        ];
        Assert.Equal(3, NameOnlyLines(repeats).Count);

        string[] informative =
        [
            "    /// <summary>A mask.</summary>",
            "    /// <param name=\"tokens\">Sequence length n, at least 1.</param>",
            "    /// <param name=\"seed\">The seed.</param>",
            "    /// <returns>[tokens x tokens], true where allowed.</returns>",
            "    public static Mask Causal(int tokens, int seed)",
        ];
        Assert.Empty(NameOnlyLines(informative));
        Assert.False(NameOnly("Q [n x d].", ["queries"]));
        Assert.False(NameOnly("η.", ["learning", "rate"]));
        Assert.True(NameOnly("The learning rate.", ["learning", "rate"]));
    }

    /// <summary>The name-only doc lines of one file's text, each as "line number: text".</summary>
    private static List<string> NameOnlyLines(string[] lines)
    {
        var found = new List<string>();
        for (var start = 0; start < lines.Length; start++)
        {
            if (!lines[start].TrimStart().StartsWith("///", StringComparison.Ordinal))
            {
                continue;
            }

            var end = start;
            while (end < lines.Length && lines[end].TrimStart().StartsWith("///", StringComparison.Ordinal))
            {
                end++;
            }

            var declaration = lines.Skip(end).FirstOrDefault(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('[')) ?? string.Empty;
            var signature = declaration.Split('(')[0];
            var block = Enumerable.Range(start, end - start).ToList();
            var parameters = block.Select(i => (Line: i, Match: Param().Match(lines[i]))).Where(p => p.Match.Success).ToList();
            var isType = TypeDeclaration().IsMatch(signature);
            if (!isType && parameters.Count > 0 && parameters.Count == block.Count(i => lines[i].Contains("<param ", StringComparison.Ordinal))
                && parameters.All(p => NameOnly(p.Match.Groups["text"].Value, Words(p.Match.Groups["name"].Value))))
            {
                found.AddRange(parameters.Select(p => $"{p.Line + 1}: {lines[p.Line].Trim()}"));
            }

            foreach (var i in block)
            {
                var returns = Returns().Match(lines[i]);
                if (returns.Success && (BareNoun().IsMatch(returns.Groups["text"].Value.Trim()) && !Informative(returns.Groups["text"].Value)
                    || NameOnly(returns.Groups["text"].Value, [.. Identifier().Matches(signature).SelectMany(m => Words(m.Value))])))
                {
                    found.Add($"{i + 1}: {lines[i].Trim()}");
                }
            }

            start = end;
        }

        return found;
    }

    /// <summary>Whether a doc text says nothing but words of the name (articles and "number of" aside).</summary>
    private static bool NameOnly(string text, IReadOnlyCollection<string> nameWords) =>
        !Informative(text)
        && Identifier().Matches(text).Select(m => m.Value.ToLowerInvariant()).Where(w => !Filler.Contains(w)).Select(Singular).All(nameWords.Contains);

    /// <summary>A shape, formula, symbol (one letter, dQ, η) or acronym is information the name does not carry.</summary>
    private static bool Informative(string text) =>
        Symbolic().IsMatch(text)
        || text.Any(c => c > 127)
        || Identifier().Matches(text).Any(m => m.Value.Length == 1 || m.Value.Skip(1).Any(char.IsUpper));

    /// <summary>The lower-case, singular words of a camelCase name; "count" also reads as "number".</summary>
    private static List<string> Words(string name)
    {
        var words = CamelWord().Matches(name).Select(m => Singular(m.Value.ToLowerInvariant())).ToList();
        if (words.Contains("count"))
        {
            words.Add("number");
        }

        return words;
    }

    private static string Singular(string word) => word.Length > 3 && word.EndsWith('s') ? word[..^1] : word;

    [GeneratedRegex(@"^\s*/// <param name=""(?<name>[^""]+)"">(?<text>.*)</param>\s*$")]
    private static partial Regex Param();

    [GeneratedRegex(@"^\s*/// <returns>(?<text>.*)</returns>\s*$")]
    private static partial Regex Returns();

    [GeneratedRegex(@"^(The|A|An) [a-z]+\.$")]
    private static partial Regex BareNoun();

    [GeneratedRegex(@"\b(record|class|struct|interface|enum|delegate)\b")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"[\[\]()\d_=/^<>+*,;:&]")]
    private static partial Regex Symbolic();

    [GeneratedRegex(@"[A-Za-z]+")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")]
    private static partial Regex CamelWord();
}
