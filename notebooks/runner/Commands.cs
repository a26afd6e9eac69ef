using System.Diagnostics;
using System.Text;

namespace NotebookAttention.Runner;

/// <summary>The outcome of a finished (or stopped) process.</summary>
/// <param name="ExitCode">Exit code, or -1 when it was stopped at the time limit.</param>
/// <param name="Output">Standard output and standard error, interleaved.</param>
/// <param name="Seconds">Wall-clock time.</param>
/// <param name="TimedOut">Whether it hit the time limit.</param>
public sealed record CommandResult(int ExitCode, string Output, double Seconds, bool TimedOut);

/// <summary>Runs external commands (dotnet, the kernel) with a time limit.</summary>
public static class Commands
{
    /// <summary>Runs a command and waits for it, killing it (and its children) at the time limit.</summary>
    /// <param name="fileName">Program to run.</param>
    /// <param name="arguments">Its arguments, passed as they are.</param>
    /// <param name="workingDirectory">Folder to run it in.</param>
    /// <param name="timeout">Time limit.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <returns>What happened.</returns>
    public static CommandResult Run(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var output = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new CommandResult(-1, output.ToString(), stopwatch.Elapsed.TotalSeconds, TimedOut: true);
        }

        process.WaitForExit();
        return new CommandResult(process.ExitCode, output.ToString(), stopwatch.Elapsed.TotalSeconds, TimedOut: false);
    }

    /// <summary>Runs a command and throws with its output when it fails.</summary>
    /// <param name="what">What the command does, for the error message.</param>
    /// <param name="fileName">Program to run.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="workingDirectory">Folder to run it in.</param>
    /// <param name="timeout">Time limit.</param>
    /// <returns>What happened.</returns>
    /// <exception cref="InvalidOperationException">The command failed or timed out.</exception>
    public static CommandResult RunOrThrow(string what, string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var result = Run(fileName, arguments, workingDirectory, timeout);
        if (result.TimedOut || result.ExitCode != 0)
        {
            var reason = result.TimedOut ? $"did not finish within {timeout.TotalSeconds:0} s" : $"failed with exit code {result.ExitCode}";
            throw new InvalidOperationException($"{what} {reason}:\n{result.Output}");
        }

        return result;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
