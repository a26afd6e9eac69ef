using System.IO.Compression;
using System.Text;

namespace NotebookAttention.Notebooks;

/// <summary>
/// plotly.js for charts that render with no internet. Plotly.NET ships plotly.js inside its own dll, so nothing
/// is downloaded: the notebook gets it once, compressed, in the output of its setup cell, and the pages the
/// series runner writes load it from a file beside them.
/// </summary>
public static class OfflinePlotly
{
    /// <summary>The plotly.js version Plotly.NET 6.0.0 embeds.</summary>
    public const string Version = "2.28.0";

    /// <summary>File name the runner gives plotly.js beside the pages it writes.</summary>
    public const string FileName = "plotly-" + Version + ".min.js";

    /// <summary>The id of the element that marks the loader in a notebook's output.</summary>
    public const string LoaderId = "na-plotly-loader";

    private const string ResourceName = "Plotly.NET.plotly-" + Version + ".min.js";

    private static readonly Lazy<string> Compressed = new(() => Convert.ToBase64String(Gzip(Encoding.UTF8.GetBytes(Script()))));

    /// <summary>The full plotly.js source (about 3.6 MB), read from Plotly.NET's embedded resource.</summary>
    /// <returns>The script text.</returns>
    public static string Script()
    {
        using var stream = typeof(Plotly.NET.GenericChart).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Plotly.NET.dll has no resource {ResourceName}: the pinned Plotly.NET version changed; update {nameof(OfflinePlotly)}.{nameof(Version)}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// HTML that defines <c>window.naPlotly</c>, a promise of plotly.js, from a gzip-compressed copy embedded in
    /// the output (about 1.4 MB instead of 3.6 MB). Charts wait for it. Shown once, by the setup cell.
    /// </summary>
    /// <returns>The loader HTML.</returns>
    public static string LoaderHtml() =>
        $$"""
        <div id="{{LoaderId}}" style="font:12px sans-serif;color:#667">Charts ready: plotly.js {{Version}} is loaded from this notebook (no internet needed).</div>
        <script type="text/javascript">
        (function () {
          if (window.Plotly || window.naPlotly) { return; }
          var packed = "{{Compressed.Value}}";
          window.naPlotly = (async function () {
            var bytes = Uint8Array.from(atob(packed), function (c) { return c.charCodeAt(0); });
            var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
            var source = await new Response(stream).text();
            var amd = window.define;
            window.define = undefined;
            try {
              var script = document.createElement("script");
              script.text = source;
              document.head.appendChild(script);
            } finally {
              window.define = amd;
            }
            return window.Plotly;
          })();
        })();
        </script>
        """;

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
