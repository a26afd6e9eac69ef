using System.Text;

namespace NotebookAttention.Lessons;

/// <summary>
/// Routes Console.Out and Console.Error to the running cell (<see cref="LessonRecorder.RunningCell"/>) as stream
/// outputs, as the kernel records them; between cells they go to the process's console as before.
/// </summary>
internal sealed class CellConsole : TextWriter
{
    private readonly TextWriter original;
    private readonly bool standardError;

    private CellConsole(TextWriter original, bool standardError)
    {
        this.original = original;
        this.standardError = standardError;
    }

    public override Encoding Encoding => original.Encoding;

    public static void Install()
    {
        Console.SetOut(new CellConsole(Console.Out, standardError: false));
        Console.SetError(new CellConsole(Console.Error, standardError: true));
    }

    public override void Write(char value) => Write(value.ToString());

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        if (LessonRecorder.RunningCell is { } cell)
        {
            cell.Write(value, standardError);
        }
        else
        {
            original.Write(value);
        }
    }

    public override void WriteLine(string? value) => Write(value + new string(CoreNewLine));

    public override void Flush() => original.Flush();
}
