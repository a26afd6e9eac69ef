using System.Globalization;
using System.Net;
using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Training;
using Plotly.NET;

namespace NotebookAttention.Notebooks;

/// <summary>
/// How the library's types look in a notebook. The package's <c>extension.dib</c> registers <see cref="ToHtml"/>
/// as the HTML formatter of every type in <see cref="Types"/>, so a cell that ends with an attention result
/// shows its chart.
/// </summary>
public static class NotebookDisplay
{
    private const int MaxTableSide = 16;

    /// <summary>The types that display as charts or tables.</summary>
    public static IReadOnlyList<Type> Types { get; } =
    [
        typeof(AttentionResult),
        typeof(MultiHeadAttentionResult),
        typeof(Mask),
        typeof(Matrix<double>),
        typeof(Figure),
        typeof(FigureGrid),
        typeof(GenericChart),
        typeof(ExerciseResult),
        typeof(TableView),
        typeof(GradientCheckResult),
        typeof(ShareReport),
        typeof(FirstLossReport),
        typeof(HeldOutAccuracy),
    ];

    /// <summary>The HTML for one of the <see cref="Types"/>.</summary>
    /// <param name="value">The value to show.</param>
    /// <returns>An HTML fragment.</returns>
    /// <exception cref="ArgumentException">The value is not of a type this class knows.</exception>
    public static string ToHtml(object value) => value switch
    {
        AttentionResult result => Caption(result.ToString()) + Plots.Weights(result).ToHtml(),
        MultiHeadAttentionResult result => Caption(result.ToString()) + Plots.Heads(result).ToHtml(),
        Mask mask => Caption($"mask [{mask.Queries} x {mask.Keys}]: 1 = may attend, 0 = masked") + MaskFigure(mask).ToHtml(),
        Matrix<double> matrix => MatrixHtml(matrix),
        Figure figure => figure.ToHtml(),
        FigureGrid grid => grid.ToHtml(),
        GenericChart chart => new Figure(chart, "chart", string.Empty, 640, 420).ChartHtml(),
        ExerciseResult exercise => exercise.ToHtml(),
        TableView table => table.ToHtml(),
        GradientCheckResult check => TrainingDisplay.GradientCheckHtml(check),
        ShareReport share => TrainingDisplay.ShareHtml(share),
        FirstLossReport first => TrainingDisplay.FirstLossHtml(first),
        HeldOutAccuracy heldOut => TrainingDisplay.HeldOutHtml(heldOut),
        null => throw new ArgumentNullException(nameof(value)),
        _ => throw new ArgumentException($"{value.GetType().Name} has no notebook display: use one of {string.Join(", ", Types.Select(t => t.Name))}.", nameof(value)),
    };

    private static Figure MaskFigure(Mask mask)
    {
        var labels = Enumerable.Range(0, Math.Max(mask.Queries, mask.Keys)).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        return Plots.Heatmap(mask.ToMatrix(), labels[..mask.Queries], labels[..mask.Keys], "Mask", "allowed", 0, 1);
    }

    private static string MatrixHtml(Matrix<double> matrix)
    {
        var rows = Math.Min(matrix.RowCount, MaxTableSide);
        var columns = Math.Min(matrix.ColumnCount, MaxTableSide);
        var shown = rows < matrix.RowCount || columns < matrix.ColumnCount
            ? $" (showing the first {rows} rows and {columns} columns; index the matrix to see the rest)"
            : string.Empty;
        var rowLabels = Enumerable.Range(0, rows).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        var columnLabels = Enumerable.Range(0, columns).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        return Caption($"matrix [{matrix.RowCount} x {matrix.ColumnCount}]{shown}") + Table.Of(matrix.SubMatrix(0, rows, 0, columns), rowLabels, columnLabels);
    }

    private static string Caption(string text) =>
        $"<div style=\"font:13px monospace;margin:2px 0 6px\">{WebUtility.HtmlEncode(text)}</div>";
}
