using System.Globalization;
using System.Net;
using System.Text;
using Cleave.Evaluation.Classification;
using Cleave.Evaluation.Plotting;

namespace Cleave.Evaluation.Reports;

/// <summary>
/// The early-exit part of a sweep report: for each split whose exit ran, the calibration curve stored with the split
/// (exit rate vs overall accuracy per threshold, on its held-out images) with the measured points of this run on it,
/// and a table of what the exit did (exits, accuracy of exited and sent images, bytes and tail work saved).
/// </summary>
public static class ExitReport
{
    /// <summary>One chart per split with an exit: <c>exit_curve.png</c>, <c>exit_curve_2.png</c>, ...</summary>
    public static IReadOnlyList<(string Name, string Caption, LineChart Chart)> Charts(SweepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var charts = new List<(string, string, LineChart)>();
        foreach (var group in WithExit(result))
        {
            var first = group.First().Exit!;
            var chart = new LineChart
            {
                Title = $"{OperatingPoint.ShortSplitName(group.Key)}: early exit, exit rate vs top-1",
                XLabel = "images answered on the device (exit rate, %)", YLabel = "top-1 %",
            };
            if (first.Curve is { Points.Count: > 0 } curve)
                chart.Series.Add(new ChartSeries($"stored curve ({curve.Images} held-out images; {(curve.Labelled ? "accuracy" : "agreement with the full model")})",
                    [.. curve.Points.OrderBy(p => p.ExitRate).Select(p => (100 * p.ExitRate, 100 * p.Accuracy))]));
            foreach (var p in group)
                chart.Series.Add(new ChartSeries($"measured at {p.Exit!.Threshold.ToString("0.####", CultureInfo.InvariantCulture)}: {p.Codec}",
                    [(100 * p.Exit.ExitRate, 100 * p.Top1)], Connect: false));
            string name = charts.Count == 0 ? "exit_curve.png" : $"exit_curve_{charts.Count + 1}.png";
            charts.Add((name, $"Early exit at {group.Key}: the calibration curve stored with the split (exit.json: each threshold's share of images answered on the device and overall top-1, exits and sent images together) and this run's measured point for each codec at the threshold it ran at.", chart));
        }
        return charts;
    }

    /// <summary>The HTML section (empty when no exit ran).</summary>
    public static string Html(SweepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var points = WithExit(result).SelectMany(g => g).ToList();
        if (points.Count == 0) return "";
        static string E(string s) => WebUtility.HtmlEncode(s);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("<h2>Early exit</h2>\n<p>Images the exit answers on the device send nothing (0 bytes) and cost the server nothing; their frames are counted as bytes saved and their tail work (MACs, and the decode + tail time measured for them anyway) as work saved. Top-1 above counts the exit's answer for them.</p>\n<table><tr>");
        sb.Append("<th class=\"l\">split</th><th class=\"l\">codec</th><th>threshold</th><th>exit rate %</th><th>top-1 %</th><th>exited right</th><th>sent right</th><th>bytes / request</th><th>bytes saved</th><th>tail MMAC saved</th><th>tail ms saved</th><th>exit ms</th></tr>\n");
        foreach (var p in points)
        {
            var x = p.Exit!;
            sb.Append("<tr><td class=\"l\">").Append(E(OperatingPoint.ShortSplitName(p.Split!))).Append("</td><td class=\"l\"><code>").Append(E(p.Codec)).Append("</code></td>")
              .Append("<td>").Append(x.Threshold.ToString("0.####", inv)).Append(x.Calibrated ? " (calibrated)" : " (given)").Append("</td>")
              .Append(string.Create(inv, $"<td>{100 * x.ExitRate:0.0}</td><td>{100 * p.Top1:0.0}</td><td>{x.ExitCorrect} / {x.Exited}</td><td>{x.SentCorrect} / {x.Sent}</td>"))
              .Append(string.Create(inv, $"<td>{p.BytesMean:0}</td><td>{x.BytesSaved:N0}</td><td>{x.TailMacsSaved / 1e6:0.0}</td><td>{x.TailMsSaved:0.0}</td><td>{x.ExitMs:0.00}</td></tr>\n"));
        }
        return sb.Append("</table>\n").ToString();
    }

    private static IEnumerable<IGrouping<string, OperatingPoint>> WithExit(SweepResult result) =>
        result.Points.Where(p => p.Exit is not null && p.Split is not null).GroupBy(p => p.Split!);
}
