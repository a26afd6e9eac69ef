using System.Net;
using System.Text.Json.Nodes;
using NotebookAttention.Analysis;
using NotebookAttention.Runner;
using NotebookAttention.Tokens;

namespace NotebookAttention.NotebookTests;

/// <summary>Notebook 02's d_k demonstration, checked in the executed notebook (kept apart so it merges easily).</summary>
public partial class KernelTests
{
    [Fact]
    public void Notebook_02_prints_the_d_k_conclusion_the_library_draws_from_its_numbers_and_it_shows_the_effect()
    {
        var run = series.Run("02");
        AssertRan(run);
        var cell = NotebookFile.Load(run.ExecutedPath).CodeCells.Single(c => NotebookFile.Source(c).Trim() == "scaling.Report()");
        var printed = WebUtility.HtmlDecode(string.Concat((cell["outputs"] as JsonArray ?? []).OfType<JsonObject>()
            .SelectMany(o => (o["data"] as JsonObject ?? []).Select(d => NotebookFile.Text(d.Value)))));

        // The notebook's sentence and seeds (its cell 7 and its d_k cell), recomputed here.
        var tokens = Tokenizer.Words(TypedSentence("02"));
        var x = PositionalEncoding.AddTo(new Embeddings(dimension: 16, seed: 1).Embed(tokens));
        var measured = ScalingDemonstration.Run(x, tokens, smallDk: 8, largeDk: 256, seed: 2).Measurement;
        Assert.Contains(measured.Conclusion, string.Join(' ', printed.Split((char[])[' ', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.True(measured.UnscaledGetsMorePeaked && measured.ScaledStaysSpread, printed);
    }
}
