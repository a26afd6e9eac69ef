using NotebookAttention.Notebooks;
using NotebookAttention.Recurrence;

namespace NotebookAttention.Tests.Notebooks;

public class FigureNumbersTests
{
    [Fact]
    public void Numbers_show_the_figures_own_table_under_its_title_through_the_notebook_display()
    {
        var figure = RecurrencePlots.PathLengthCurves([Architecture.Recurrent, Architecture.SelfAttention], [8, 16]);
        var numbers = figure.Numbers();

        Assert.Equal(figure.TableHtml, numbers.Html);
        Assert.Equal($"Numbers: {figure.Title}", numbers.Title);
        Assert.Contains(typeof(TableView), NotebookDisplay.Types);
        var html = NotebookDisplay.ToHtml(numbers);
        Assert.EndsWith(figure.TableHtml, html, StringComparison.Ordinal);
        Assert.Contains("<td style=\"padding:2px 6px;text-align:right\">16</td>", html, StringComparison.Ordinal);
    }
}
