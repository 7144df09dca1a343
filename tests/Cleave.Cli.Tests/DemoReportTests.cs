using System.Text.RegularExpressions;
using Cleave.Cli.Demo;
using Cleave.Evaluation.Tests;

namespace Cleave.Cli.Tests;

/// <summary>The demo's report.html is a page a reader can use: the verdict, the two charts with the demo's own points, nothing wider than 1280 px.</summary>
public sealed class DemoReportTests
{
    private static DemoSummary Summary() => new(
        Images: 50, Cut: "MobilenetV2/expanded_conv_5/add", Codec: "rans-ifc:bits=3,ctx=2d", Link: "lte", Clients: 2, UnsplitTop1: 0.86,
        Float32FrameBytes: 100_368,
        Split: new PathSummary("split rans-ifc:bits=3,ctx=2d", 0.85, 0.97, 4_900, new LatencyBreakdown(9.5, 1.2, 7.0, 0.4, 0.6, 6.1, 1.0, 26.2, 25, 31)),
        Jpeg: new PathSummary("jpeg offload q=90", 0.86, 0.99, 21_700, new LatencyBreakdown(0, 2.1, 29.5, 0.3, 1.9, 18.0, 1.0, 53.1, 52, 60)),
        Elapsed: TimeSpan.FromSeconds(40));

    [Fact]
    public void The_report_has_the_verdict_and_both_charts_with_the_demos_points()
    {
        var s = Summary();
        string html = DemoReport.Html(s);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(DemoReport.Verdict(s).Trim()), html, StringComparison.Ordinal);
        var svgs = Regex.Matches(html, "<svg .*?</svg>", RegexOptions.Singleline).Select(m => m.Value).ToList();
        Assert.Equal(2, svgs.Count);
        foreach (string svg in svgs) SvgAssert.TextInside(svg);

        // Accuracy vs bytes: one marker per path the demo measured, at its bytes, and the unsplit level dashed.
        string accuracy = DemoReport.AccuracyChart(s);
        Assert.Equal(2, Regex.Matches(accuracy, "class=\"point\"").Count);
        Assert.Contains("<title>split rans-ifc:bits=3,ctx=2d</title>", accuracy, StringComparison.Ordinal);
        Assert.Contains("stroke-dasharray", accuracy, StringComparison.Ordinal);
        Assert.Contains("dashed line", html, StringComparison.Ordinal);

        // Latency: one stacked bar per path, one rect per non-zero stage (JPEG has no head on the device), distinct colours.
        string latency = DemoReport.LatencyChart(s);
        Assert.Equal(7 + 6, Regex.Matches(latency, "class=\"part\"").Count);
        var colours = Regex.Matches(latency, """<g class="legend"><rect [^>]*fill="(#[0-9a-f]{6})""").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(7, colours.Distinct().Count());

        // Nothing is laid out wider than the page allows.
        Assert.Contains("max-width:1000px", html, StringComparison.Ordinal);
        Assert.Contains("svg{max-width:100%", html, StringComparison.Ordinal);
    }
}
