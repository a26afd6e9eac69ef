namespace NotebookAttention.PageCheck;

/// <summary>
/// The scripts the live check evaluates in the classic notebook's page. They only read what the page shows (prompts,
/// the kernel indicator, outputs, plotly's drawing); the cells are run by clicking the page's own menu.
/// </summary>
public static class LiveScripts
{
    /// <summary>The menu the learner opens: Cell.</summary>
    public const string CellMenu = "#celllink";

    /// <summary>Its item Run All ("Run all cells in the notebook").</summary>
    public const string RunAllItem = "#run_all_cells > a";

    /// <summary>
    /// A chart is drawn when plotly's SVG is there with content and a size; a heatmap also needs its painted layer
    /// (plotly makes the SVG before it paints the cells). A chart is a heatmap when plotly's data on the chart
    /// (<c>element.data</c>) or the figure in the script beside it says so.
    /// </summary>
    private const string ChartRules = """
        const charts = [...document.querySelectorAll('#notebook-container .na-chart')];
        const isHeatmap = c => (Array.isArray(c.data) && c.data.some(t => t.type === 'heatmap'))
          || (c.nextElementSibling?.textContent ?? '').includes('"type":"heatmap"');
        const svgDrawn = c => {
          const svg = c.querySelector('.main-svg');
          if (!svg || svg.childElementCount === 0) { return false; }
          const box = svg.getBoundingClientRect();
          return box.width > 0 && box.height > 0;
        };
        const heatmapDrawn = c => c.querySelector('.heatmaplayer image, .heatmaplayer .hm') !== null;
        const drawn = c => svgDrawn(c) && (!isHeatmap(c) || heatmapDrawn(c));
        """;

    /// <summary>Each code cell's prompt, the kernel indicator's class and whether the kernel is connected, as JSON (<see cref="PageProgress.Parse"/>).</summary>
    public const string Progress = """
        () => JSON.stringify({
          prompts: [...document.querySelectorAll('#notebook-container .code_cell .input_prompt')].map(p => p.textContent),
          kernel: document.getElementById('kernel_indicator_icon')?.getAttribute('class') ?? '',
          connected: !!(window.Jupyter?.notebook?.kernel?.is_connected())
        })
        """;

    /// <summary>True once every chart on the page is drawn.</summary>
    public const string ChartsDrawn = "() => { " + ChartRules + " return charts.every(drawn); }";

    /// <summary>
    /// Charts and heatmaps, drawn or not, and every cell's error outputs and standard-error text, as JSON
    /// (<see cref="PageOutputs.Parse"/>). They come from the outputs the page holds (an error output with an empty
    /// traceback shows nothing, so the page's text alone would miss it), else from what the page shows as an error
    /// or as standard error.
    /// </summary>
    public const string Outputs = "() => { " + ChartRules + """
          const outputs = [];
          Jupyter.notebook.get_cells().forEach((cell, index) => {
            if (cell.cell_type !== 'code') { return; }
            const found = [];
            for (const output of cell.output_area.outputs) {
              if (output.output_type === 'error') { found.push({ kind: 'error', text: `${output.ename}: ${output.evalue}`.trim() }); }
              else if (output.output_type === 'stream' && output.name === 'stderr') { found.push({ kind: 'stderr', text: String(output.text) }); }
            }
            if (found.length === 0) {
              cell.element[0].querySelectorAll('.output_error, .output_stderr').forEach(e => found.push({ kind: 'shown', text: e.textContent }));
            }
            found.forEach(f => outputs.push({ cell: index + 1, kind: f.kind, text: f.text.slice(0, 2000) }));
          });
          return JSON.stringify({
            charts: charts.length,
            drawn: charts.filter(svgDrawn).length,
            heatmaps: charts.filter(isHeatmap).length,
            heatmapsDrawn: charts.filter(c => isHeatmap(c) && heatmapDrawn(c)).length,
            outputs
          });
        }
        """;
}
