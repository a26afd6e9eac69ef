using System.Text.RegularExpressions;
using NotebookAttention.Lessons;
using NotebookAttention.PageCheck;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

public partial class KernelTests
{
    /// <summary>
    /// A lesson exported as a file-based app runs with <c>dotnet run</c> as a learner runs it (for 03, with their own
    /// sentence typed into the app), exits 0, and writes a page that Chromium draws offline with the same number of
    /// charts, heatmaps and sliders as the kernel's page of the same notebook and sentence, and an executed notebook
    /// whose outputs agree with the kernel's by the engines' rule (<see cref="EngineAgreement"/>).
    /// </summary>
    [ChromiumTheory]
    [InlineData("03")]
    [InlineData("09")]
    public async Task An_exported_app_runs_with_dotnet_run_and_draws_what_the_kernel_draws(string prefix)
    {
        var root = SeriesRunner.FindRoot();
        var folder = Path.Combine(root, "artifacts", "app-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var notebook = series.Runner.Notebooks.Single(n => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal));
            var app = new AppExporter(root).Export(notebook, folder);
            string? sentence = null;
            if (TakesSentence(prefix))
            {
                sentence = Belarusian;
                var text = File.ReadAllText(app);
                var typed = Regex.Match(text, "Learner\\.Sentence\\((\"[^\"]*\")\\)");
                Assert.True(typed.Success, "the app has no Learner.Sentence(\"...\") line for the learner to edit");
                File.WriteAllText(app, text.Replace(typed.Groups[1].Value, $"\"{sentence}\"", StringComparison.Ordinal));
            }

            var result = Commands.Run("dotnet", ["run", app], folder, TimeSpan.FromMinutes(10));
            Assert.True(result.ExitCode == 0, $"dotnet run {Path.GetFileName(app)} exited with {result.ExitCode}:\n{result.Output}");
            var executed = Path.Combine(folder, Path.GetFileName(notebook));
            var appRun = new NotebookRun(Path.GetFileName(notebook), NotebookFile.Load(executed).CodeCells.Count(), result.Seconds, NotebookFile.Load(executed).Errors(), executed, result.Output);
            AssertRan(appRun);
            if (sentence is not null)
            {
                AssertShowsSentence(prefix, appRun, sentence);
            }

            var appPage = (await PageChecker.CheckAsync([Path.ChangeExtension(executed, ".html")], ChromiumTheoryAttribute.Chromium, null, PageBudgetSeconds)).Single();
            Assert.True(appPage.Passed, appPage.ToString());
            var kernel = series.Run(prefix, sentence);
            var kernelPage = await series.CheckPageAsync(kernel, PageBudgetSeconds);
            Assert.Equal((kernelPage.Charts, kernelPage.Heatmaps, kernelPage.Sliders), (appPage.Charts, appPage.Heatmaps, appPage.Sliders));

            // Output by output, as the engines are compared: the kernel's copy slimmed as the runner and the app slim theirs.
            var slimmedKernel = Path.Combine(folder, "kernel", Path.GetFileName(notebook));
            Directory.CreateDirectory(Path.GetDirectoryName(slimmedKernel)!);
            File.Copy(kernel.ExecutedPath, slimmedKernel);
            ExecutedNotebook.Slim(slimmedKernel);
            var disagreements = EngineAgreement.Compare(slimmedKernel, executed);
            Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
