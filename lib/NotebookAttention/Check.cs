using MathNet.Numerics.LinearAlgebra;

namespace NotebookAttention;

/// <summary>Input checks shared by every step, with messages that say what was wrong and what to do.</summary>
internal static class Check
{
    /// <summary>"[rows x columns]", the way shapes are written throughout the series.</summary>
    public static string Shape(Matrix<double> matrix) => $"[{matrix.RowCount} x {matrix.ColumnCount}]";

    /// <summary>Throws when <paramref name="matrix"/> is null, empty or holds NaN or infinity.</summary>
    public static void Finite(Matrix<double> matrix, string what, string parameter)
    {
        ArgumentNullException.ThrowIfNull(matrix, parameter);
        if (matrix.RowCount == 0 || matrix.ColumnCount == 0)
        {
            throw new ArgumentException($"{what} is {Shape(matrix)}: it needs at least one row and one column.", parameter);
        }

        if (FirstNonFinite(matrix) is (var row, var column, var value))
        {
            throw new ArgumentException(
                $"{what} {Shape(matrix)} has {Name(value)} at row {row}, column {column}: every entry must be a finite number; look at the step that produced this matrix.",
                parameter);
        }
    }

    /// <summary>
    /// Throws when a product of finite inputs came out NaN or infinite: the inputs were finite but too large for
    /// fp64, so the result cannot be shown or used honestly.
    /// </summary>
    public static void NoOverflow(Matrix<double> result, string what, string remedy, string parameter)
    {
        if (FirstNonFinite(result) is (var row, var column, var value))
        {
            throw new ArgumentException(
                $"{what} {Shape(result)} overflowed fp64 (±1.8e308) at row {row}, column {column} (it came out {Name(value)}) although every input is finite: {remedy}.",
                parameter);
        }
    }

    /// <summary>Throws, naming the buffer, row, column and value, when a row-major fp32 buffer holds NaN or infinity.</summary>
    public static unsafe void Finite(float* data, int rows, int columns, string what, string remedy, string parameter)
    {
        var index = Fast.VectorRows.FirstNonFinite(data, (long)rows * columns);
        if (index >= 0)
        {
            throw new ArgumentException($"{what} [{rows} x {columns}] has {Name(data[index])} at row {index / columns}, column {index % columns}: {remedy}.", parameter);
        }
    }

    /// <inheritdoc cref="Finite(float*, int, int, string, string, string)"/>
    public static unsafe void Finite(ReadOnlySpan<float> data, int rows, int columns, string what, string remedy, string parameter)
    {
        fixed (float* start = data)
        {
            Finite(start, rows, columns, what, remedy, parameter);
        }
    }

    /// <summary>The first NaN or infinity of a matrix, column by column (MathNet stores columns), or null.</summary>
    private static (int Row, int Column, double Value)? FirstNonFinite(Matrix<double> matrix)
    {
        for (var column = 0; column < matrix.ColumnCount; column++)
        {
            for (var row = 0; row < matrix.RowCount; row++)
            {
                var value = matrix.At(row, column);
                if (!double.IsFinite(value))
                {
                    return (row, column, value);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Throws, before anything is allocated, when the reference path's fp64 [queries x keys] matrices would not
    /// fit: more entries than one .NET array holds, or more bytes than the machine has available.
    /// </summary>
    /// <param name="queries">Rows of each matrix.</param>
    /// <param name="keys">Columns of each matrix.</param>
    /// <param name="matrices">How many such matrices the step keeps at once (scores, masked scores, weights, per head).</param>
    /// <param name="what">The step, for the message.</param>
    /// <param name="memoryBudgetBytes">Memory it may use; null for what the machine has available now.</param>
    public static void ReferenceFits(long queries, long keys, int matrices, string what, long? memoryBudgetBytes = null)
    {
        Fits(queries, keys, matrices, what, "the reference path is for short sentences; for long sequences use Fast.FastAttention.Tiled (fp32, extra memory O(n·d)) or Fast.FastMultiHeadAttention", nameof(queries), memoryBudgetBytes);
    }

    /// <summary>
    /// Throws, before anything is allocated, when <paramref name="matrices"/> fp64 [rows x columns] matrices would
    /// not fit: more entries than one .NET array holds, or more bytes than the machine has available.
    /// </summary>
    public static void Fits(long rows, long columns, int matrices, string what, string remedy, string parameter, long? memoryBudgetBytes = null)
    {
        var entries = (double)rows * columns;
        var needed = entries * sizeof(double) * matrices;
        var available = memoryBudgetBytes ?? Fast.FastAttention.AvailableMemoryBytes();
        if (entries > Array.MaxLength || needed > available)
        {
            throw new ArgumentOutOfRangeException(
                parameter,
                $"{what} keeps {matrices} fp64 [{rows:N0} x {columns:N0}] matrices ({Bytes(needed)}), but {Bytes(available)} is available{(entries > Array.MaxLength ? $" and one array holds at most {Array.MaxLength:N0} entries" : string.Empty)}: {remedy}.");
        }
    }

    /// <summary>Throws when a stored [rows x columns] table would hold more entries than one .NET array can.</summary>
    public static void TableFits(long rows, long columns, string what, string remedy, string parameter)
    {
        if ((double)rows * columns > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(
                parameter,
                $"{what} [{rows:N0} x {columns:N0}] would hold {(double)rows * columns:N0} entries, more than one .NET array holds ({Array.MaxLength:N0}): {remedy}.");
        }
    }

    /// <summary>A byte count in KiB, MiB or GiB.</summary>
    public static string Bytes(double bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (1L << 20):0.0} MiB",
        _ => $"{bytes / 1024.0:0.0} KiB",
    };

    /// <summary>"NaN", "+infinity" or "-infinity" for a non-finite value.</summary>
    public static string Name(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity";

    /// <summary>Refuses a flat buffer whose length is not rows x columns, saying what it should be.</summary>
    /// <param name="actual">The buffer's length.</param>
    /// <param name="rows">Rows it should hold.</param>
    /// <param name="columns">Columns it should hold.</param>
    /// <param name="what">The buffer's name in the message, e.g. "keys".</param>
    /// <param name="shape">The shape in the caller's terms, e.g. "n x d_k".</param>
    /// <param name="parameter">The parameter name.</param>
    public static void Length(long actual, int rows, int columns, string what, string shape, string parameter)
    {
        var expected = (long)rows * columns;
        if (actual != expected)
        {
            throw new ArgumentException(
                $"{what} has {actual:N0} floats but a row-major [{rows} x {columns}] matrix needs {expected:N0} ({shape}): pass it row-major, one row per token, or check the counts and d.",
                parameter);
        }
    }

    /// <summary>Throws when <paramref name="value"/> is below <paramref name="minimum"/>.</summary>
    public static void AtLeast(long value, long minimum, string what, string parameter)
    {
        if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(parameter, value, $"{what} is {value}: it must be at least {minimum}.");
        }
    }

    /// <summary>Throws when <paramref name="value"/> is below <paramref name="minimum"/>.</summary>
    public static void AtLeast(int value, int minimum, string what, string parameter)
    {
        if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(parameter, value, $"{what} is {value}: it must be at least {minimum}.");
        }
    }

    /// <summary>Throws when token labels are given but their count differs from the rows they label.</summary>
    public static void Labels(IReadOnlyList<string>? labels, int rows, string what, string parameter)
    {
        if (labels is not null && labels.Count != rows)
        {
            throw new ArgumentException(
                $"there are {labels.Count} token labels but {what} has {rows} rows: pass one label per token (the tokens of the same sentence).",
                parameter);
        }
    }

    /// <summary>Position numbers "0", "1", ... as labels when no tokens are given.</summary>
    public static IReadOnlyList<string> LabelsOrPositions(IReadOnlyList<string>? labels, int count) =>
        labels ?? [.. Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}
