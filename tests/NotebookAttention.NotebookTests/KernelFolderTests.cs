using NotebookAttention.Runner;

namespace NotebookAttention.NotebookTests;

/// <summary>
/// Where <c>--install-kernel</c> puts the kernelspec when no folder is given: Jupyter's per-user data folder, by the
/// rules of <c>jupyter_core.paths.jupyter_data_dir</c>, for each operating system. Only the Linux rule can also be
/// checked against a real Jupyter here; the macOS and Windows rules are checked as path resolution.
/// </summary>
public sealed class KernelFolderTests
{
    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.Where(v => v.Name == name).Select(v => v.Value).FirstOrDefault();

    [Theory]
    [InlineData(JupyterPlatform.Linux, "/home/ann", "", "/home/ann/.local/share/jupyter/kernels")]
    [InlineData(JupyterPlatform.MacOS, "/Users/ann", "", "/Users/ann/Library/Jupyter/kernels")]
    [InlineData(JupyterPlatform.Windows, @"C:\Users\ann", @"C:\Users\ann\AppData\Roaming", @"C:\Users\ann\AppData\Roaming\jupyter\kernels")]
    public void Each_system_has_its_own_user_folder(JupyterPlatform platform, string home, string appData, string expected) =>
        Assert.Equal(expected, KernelSpec.DefaultFolder(platform, Environment(), home, appData));

    [Theory]
    [InlineData(JupyterPlatform.Linux, "/data/j", "/data/j/kernels")]
    [InlineData(JupyterPlatform.MacOS, "/data/j/", "/data/j/kernels")]
    [InlineData(JupyterPlatform.Windows, @"D:\j", @"D:\j\kernels")]
    public void JUPYTER_DATA_DIR_wins_on_every_system(JupyterPlatform platform, string dataDir, string expected) =>
        Assert.Equal(expected, KernelSpec.DefaultFolder(platform, Environment(("JUPYTER_DATA_DIR", dataDir), ("XDG_DATA_HOME", "/xdg")), "/home/ann", @"C:\Roaming"));

    [Fact]
    public void XDG_DATA_HOME_moves_the_folder_on_Linux_only()
    {
        var xdg = Environment(("XDG_DATA_HOME", "/srv/ann-data"));
        Assert.Equal("/srv/ann-data/jupyter/kernels", KernelSpec.DefaultFolder(JupyterPlatform.Linux, xdg, "/home/ann", ""));
        Assert.Equal("/Users/ann/Library/Jupyter/kernels", KernelSpec.DefaultFolder(JupyterPlatform.MacOS, xdg, "/Users/ann", ""));
        Assert.Equal("/home/ann/.local/share/jupyter/kernels", KernelSpec.DefaultFolder(JupyterPlatform.Linux, Environment(("XDG_DATA_HOME", "  ")), "/home/ann", ""));
    }

    [Fact]
    public void Windows_without_APPDATA_falls_back_to_the_config_folder()
    {
        Assert.Equal(@"C:\Users\ann\.jupyter\data\kernels", KernelSpec.DefaultFolder(JupyterPlatform.Windows, Environment(), @"C:\Users\ann", ""));
        Assert.Equal(@"E:\cfg\data\kernels", KernelSpec.DefaultFolder(JupyterPlatform.Windows, Environment(("JUPYTER_CONFIG_DIR", @"E:\cfg")), @"C:\Users\ann", ""));
    }

    [Fact]
    public void An_unknown_home_is_refused_with_what_to_do()
    {
        var error = Assert.Throws<ArgumentException>(() => KernelSpec.DefaultFolder(JupyterPlatform.Linux, Environment(), "", ""));
        Assert.Contains("--install-kernel DIR", error.Message, StringComparison.Ordinal);
        Assert.Equal(@"C:\R\jupyter\kernels", KernelSpec.DefaultFolder(JupyterPlatform.Windows, Environment(), "", @"C:\R"));
    }

    [Fact]
    public void This_machine_uses_the_rule_of_its_own_system()
    {
        Assert.True(OperatingSystem.IsLinux(), "these notebook tests run on Linux; the other systems' rules are covered above");
        var expected = KernelSpec.DefaultFolder(JupyterPlatform.Linux, System.Environment.GetEnvironmentVariable, System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), "");
        Assert.Equal(expected, KernelSpec.DefaultFolder());
        Assert.EndsWith("/kernels", expected, StringComparison.Ordinal);
    }
}
