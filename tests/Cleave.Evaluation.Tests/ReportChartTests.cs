using System.Text.RegularExpressions;
using Cleave.Evaluation.Classification;
using Cleave.Evaluation.Plotting;
using Cleave.Evaluation.Reports;
using SkiaSharp;

namespace Cleave.Evaluation.Tests;

/// <summary>
/// The sweep report's charts and verdict as a reader meets them: every legend entry inside the image, one colour per
/// series, captions that say "dashed" only where a dashed line is drawn, and a verdict that starts with the best points
/// and explains its targets.
/// </summary>
public sealed class ReportChartTests
{
    /// <summary>A sweep the size of the real one (7 cuts with long tensor names, 10 codecs each, JPEG and WebP).</summary>
    private static SweepResult WideSweep()
    {
        var points = new List<OperatingPoint>();
        string[] codecs = ["raw", "quant:bits=8", "quant:bits=6", "quant:bits=4", "quant:bits=3", "rans-ifc:bits=4,ctx=2d", "rans-ifc:bits=3,ctx=2d",
            "slicer:keep=0.1,blocks=8", "slicer:keep=0.2,blocks=8", "quant:bits=2"];
        for (int s = 0; s < 7; s++)
        {
            string split = $"MobilenetV2/expanded_conv_{s * 2 + 3}/depthwise/depthwise_relu6_with_a_long_suffix_{s}";
            for (int c = 0; c < codecs.Length; c++)
                points.Add(new OperatingPoint
                {
                    Kind = "split", Split = split, Codec = codecs[c], BytesMean = 100_000.0 / (1 + c * 3) / (1 + s * 0.2), Top1 = 0.866 - c * 0.004,
                    HeadMacs = 30_000_000L * (s + 1), Float32Bytes = 100_000,
                });
        }
        foreach (int q in new[] { 50, 75, 90, 95, 98 })
        {
            points.Add(new OperatingPoint { Kind = "jpeg", Codec = $"jpeg:q={q}", BytesMean = 200 * q, Top1 = 0.80 + q / 2000.0 });
            points.Add(new OperatingPoint { Kind = "webp", Codec = $"webp:q={q}", BytesMean = 150 * q, Top1 = 0.80 + q / 2100.0 });
        }
        return new SweepResult { Model = "mobilenet_v2_1.0_224", Images = 1000, FullTop1 = 0.866, FullTop5 = 0.97, TotalMacs = 300_000_000, Points = points };
    }

    [Fact]
    public void Every_legend_entry_is_inside_its_chart_and_every_series_has_its_own_colour()
    {
        foreach (var (name, caption, chart) in SweepReport.Charts(WideSweep()))
        {
            Assert.True(chart.Width <= 1280, $"{name}: {chart.Width} px wide");
            var legend = chart.Legend();
            Assert.Equal(chart.Series.Count, legend.Count);
            foreach (var e in legend)
            {
                Assert.True(e.Left >= 0 && e.Top >= 0 && e.Right <= chart.Width && e.Bottom <= chart.RenderedHeight,
                    $"{name}: legend entry '{e.Text}' at ({e.Left}, {e.Top})-({e.Right}, {e.Bottom}) outside {chart.Width}x{chart.RenderedHeight}");
            }
            Assert.Equal(legend.Count, legend.Select(e => e.Color).Distinct().Count());
            // The caption and the chart agree on dashed lines.
            Assert.Equal(chart.Series.Any(s => s.Dashed), caption.Contains("dashed", StringComparison.OrdinalIgnoreCase));
            using var png = SKBitmap.Decode(chart.RenderPng());
            Assert.Equal((chart.Width, chart.RenderedHeight), (png.Width, png.Height));
        }
    }

    [Fact]
    public void The_verdict_starts_with_the_best_point_ends_with_its_targets_explained_and_keeps_splits_apart()
    {
        var verdict = SweepVerdict.Compute(WideSweep());
        Assert.StartsWith("Fewest bytes at any split within 1 point", verdict.Sentences[0], StringComparison.Ordinal);
        Assert.Equal(SweepVerdict.TargetsExplained, verdict.Sentences[^1]);
        Assert.Contains("20x", SweepVerdict.TargetsExplained, StringComparison.Ordinal);
        Assert.Contains("float32", SweepVerdict.TargetsExplained, StringComparison.Ordinal);
        Assert.Contains("SC2", SweepVerdict.TargetsExplained, StringComparison.Ordinal);
        // Every target the verdict names is explained: the 20x target and SC2's device share.
        Assert.Contains(verdict.Sentences, s => s.Contains("the target is 20x", StringComparison.Ordinal));
        Assert.Contains(verdict.Sentences, s => s.Contains("(SC2)", StringComparison.Ordinal));
        Assert.Equal(7, verdict.PerSplitSentences.Count);
        Assert.DoesNotContain(verdict.Sentences, s => s.StartsWith("Split ", StringComparison.Ordinal));
        Assert.True(verdict.Sentences.Count <= 10, $"{verdict.Sentences.Count} sentences");
    }

    [Fact]
    public void Svg_charts_keep_their_labels_and_legend_inside_and_colour_each_part_differently()
    {
        string scatter = SvgChart.Scatter("t", "bytes", "top-1 %",
            [new SvgPoint("split rans-ifc:bits=3,ctx=2d,gains=calibrated,layout=spatial", 4900, 85.1), new SvgPoint("jpeg offload q=90 with a long name", 21000, 86.0)],
            logX: true, level: ("unsplit 86.6%", 86.6));
        Assert.Equal(2, Regex.Matches(scatter, "class=\"point\"").Count);
        Assert.Contains("stroke-dasharray", scatter, StringComparison.Ordinal);
        SvgAssert.TextInside(scatter);

        string[] parts = ["device (head or JPEG)", "encode", "uplink", "server queue", "server decode", "server model", "downlink"];
        string bars = SvgChart.StackedBars("t", "milliseconds", parts, [new SvgBar("split", [5, 1, 30, 2, 1, 8, 3]), new SvgBar("JPEG offload", [0, 2, 90, 2, 3, 20, 3])]);
        Assert.Equal(13, Regex.Matches(bars, "class=\"part\"").Count); // one zero part is not drawn
        var legendColours = Regex.Matches(bars, """<g class="legend"><rect [^>]*fill="(#[0-9a-f]{6})""").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(parts.Length, legendColours.Count);
        Assert.Equal(parts.Length, legendColours.Distinct().Count());
        SvgAssert.TextInside(bars);
    }
}
