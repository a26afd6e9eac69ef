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

        for (var column = 0; column < matrix.ColumnCount; column++)
        {
            for (var row = 0; row < matrix.RowCount; row++)
            {
                var value = matrix.At(row, column);
                if (!double.IsFinite(value))
                {
                    var kind = double.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity";
                    throw new ArgumentException(
                        $"{what} {Shape(matrix)} has {kind} at row {row}, column {column}: every entry must be a finite number; look at the step that produced this matrix.",
                        parameter);
                }
            }
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
