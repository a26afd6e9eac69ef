using System.Text.Json.Nodes;
using NotebookAttention.Lessons;
using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// No output path reaches the lessons: both engines refuse an output folder that is the notebook's own folder before
/// deleting anything, the exporter refuses the notebooks folder and keeps an app the learner changed, and an app
/// refuses to overwrite a notebook it did not write.
/// </summary>
[Collection(InProcessLessons.Name)]
public sealed class OutputGuardTests : IDisposable
{
    private static readonly string Root = SeriesRunner.FindRoot();
    private readonly string folder = Directory.CreateTempSubdirectory("output-guard-tests-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // A one-cell lesson in the temporary folder, as committed (no outputs).
    private string Lesson(string name = "hand.ipynb")
    {
        var cells = new JsonArray(new JsonObject { ["cell_type"] = "code", ["metadata"] = new JsonObject(), ["outputs"] = new JsonArray(), ["source"] = "var n = 1;" });
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, new JsonObject { ["cells"] = cells, ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 5 }.ToJsonString());
        return path;
    }

    public static TheoryData<string> Spellings() => ["{0}", "{0}/", "{0}/./", "{0}/../{1}"];

    [Theory]
    [MemberData(nameof(Spellings))]
    public void The_scripting_engine_refuses_the_notebooks_own_folder_before_deleting_it(string spelling)
    {
        var lesson = Lesson();
        var before = File.ReadAllText(lesson);
        var output = string.Format(System.Globalization.CultureInfo.InvariantCulture, spelling, folder, Path.GetFileName(folder));
        var error = Assert.Throws<ArgumentException>(() => new ScriptingEngine(folder).Execute(lesson, output, TimeSpan.FromSeconds(30)));
        Assert.Contains("committed notebooks", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(lesson));
    }

    [Fact]
    public void The_kernel_engine_refuses_the_notebooks_own_folder_before_deleting_it()
    {
        var lesson = Lesson();
        var before = File.ReadAllText(lesson);
        Assert.Throws<ArgumentException>(() => new SeriesRunner(Root).Execute(lesson, folder + Path.DirectorySeparatorChar, TimeSpan.FromSeconds(30)));
        Assert.Equal(before, File.ReadAllText(lesson));
    }

    [Fact]
    public void A_symbolic_link_to_the_notebooks_folder_is_the_same_folder_and_a_sibling_is_not()
    {
        var link = Path.Combine(Path.GetTempPath(), Path.GetFileName(folder) + "-link");
        Directory.CreateSymbolicLink(link, folder);
        try
        {
            Assert.True(OutputGuard.SameFolder(link, folder));
            Assert.False(OutputGuard.SameFolder(Path.Combine(folder, "series"), folder));
            Assert.Throws<ArgumentException>(() => new ScriptingEngine(folder).Execute(Lesson(), link, TimeSpan.FromSeconds(30)));
        }
        finally
        {
            Directory.Delete(link);
        }
    }

    [Fact]
    public void Export_refuses_the_notebooks_folder_and_the_command_exits_2_without_writing()
    {
        var lesson = Lesson();
        Assert.Throws<ArgumentException>(() => new AppExporter(Root).Export(lesson, folder));
        Assert.False(File.Exists(Path.Combine(folder, "hand.cs")));

        var notebooks = Path.Combine(Root, "notebooks");
        var apps = Directory.GetFiles(notebooks, "*.cs").Length;
        Assert.Equal(2, AppExporter.Command(new SeriesRunner(Root), notebooks + "/.", ["03"]));
        Assert.Equal(apps, Directory.GetFiles(notebooks, "*.cs").Length);
    }

    [Fact]
    public void Export_overwrites_its_own_app_but_keeps_one_the_learner_changed_unless_forced()
    {
        var lesson = Lesson();
        var apps = Path.Combine(folder, "apps");
        var exporter = new AppExporter(Root);
        var app = exporter.Export(lesson, apps);
        Assert.True(AppExporter.IsUnedited(File.ReadAllText(app)));
        Assert.Equal(app, exporter.Export(lesson, apps));

        var edited = File.ReadAllText(app).Replace("var n = 1;", "var n = 2;", StringComparison.Ordinal);
        File.WriteAllText(app, edited);
        Assert.False(AppExporter.IsUnedited(edited));
        var error = Assert.Throws<IOException>(() => exporter.Export(lesson, apps));
        Assert.Contains("--force", error.Message, StringComparison.Ordinal);
        Assert.Equal(edited, File.ReadAllText(app));

        File.WriteAllText(app, "// a file of the learner's own, no hash line\n");
        Assert.Throws<IOException>(() => exporter.Export(lesson, apps));

        var options = RunnerOptions.Parse(["--export-apps", apps, "--force"]);
        Assert.True(options.Force);
        Assert.False(RunnerOptions.Parse(["--export-apps", apps]).Force);
        exporter.Export(lesson, apps, options.Force);
        Assert.Contains("var n = 1;", File.ReadAllText(app), StringComparison.Ordinal);
        Assert.True(AppExporter.IsUnedited(File.ReadAllText(app)));
    }

    [Fact]
    public void An_app_beside_the_lesson_it_came_from_refuses_to_start()
    {
        var lesson = Lesson("03-hand.ipynb");
        var before = File.ReadAllText(lesson);
        File.WriteAllText(Path.Combine(folder, "03-hand.cs"), "// an app exported into the notebooks folder\n");
        AppContext.SetData("EntryPointFilePath", Path.Combine(folder, "03-hand.cs"));
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => LessonApp.Start("03-hand.ipynb", "."));
            Assert.Contains("no lesson app wrote", error.Message, StringComparison.Ordinal);
            Assert.Equal(before, File.ReadAllText(lesson));
        }
        finally
        {
            AppContext.SetData("EntryPointFilePath", null);
        }
    }

    [Fact]
    public void An_app_overwrites_only_notebooks_an_app_wrote()
    {
        var lesson = NotebookFile.Load(Path.Combine(Root, "notebooks", "03-weighted-sum.ipynb"));
        Assert.False(LessonApp.WrittenByApp(lesson));
        Assert.True(LessonApp.WrittenByApp(LessonApp.Parse(new AppExporter(Root).Convert(Path.Combine(Root, "notebooks", "03-weighted-sum.ipynb"), Path.Combine(Root, "artifacts", "apps")))));
    }
}
