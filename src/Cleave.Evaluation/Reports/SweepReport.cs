using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Cleave.Evaluation.Classification;
using Cleave.Evaluation.Plotting;

namespace Cleave.Evaluation.Reports;

/// <summary>
/// Writes a sweep's report folder: results.json, results.csv, three PNG charts (accuracy vs bytes, the Pareto
/// front, device compute vs bytes; and per split whose early exit ran, its exit-rate vs accuracy curve) and report.html, which embeds the charts as base64 data URIs so the single
/// file opens offline, with a verdict computed from the results.
/// </summary>
public static class SweepReport
{
    public const string AccuracyChart = "accuracy_vs_bytes.png";
    public const string ParetoChart = "pareto_front.png";
    public const string ComputeChart = "compute_vs_bytes.png";

    /// <summary>Writes the folder (created if needed) and returns the files written.</summary>
    public static IReadOnlyList<string> Write(SweepResult result, string directory, string? command = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(directory);
        var verdict = SweepVerdict.Compute(result);
        var files = new List<string>();
        string Save(string name, byte[] bytes)
        {
            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, bytes);
            files.Add(path);
            return path;
        }

        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json, SweepJson.Options)) SweepJson.Write(w, result, verdict, command);
        Save("results.json", json.ToArray());
        Save("results.csv", Encoding.UTF8.GetBytes(Csv(result)));
        var charts = Charts(result).Select(c => (c.Name, c.Caption, Png: c.Chart.RenderPng())).ToList();
        foreach (var c in charts) Save(c.Name, c.Png);
        Save("report.html", Encoding.UTF8.GetBytes(Html(result, verdict, charts, command)));
        return files;
    }

    /// <summary>The report's charts with their file names and captions (what <see cref="Write"/> renders).</summary>
    public static IReadOnlyList<(string Name, string Caption, LineChart Chart)> Charts(SweepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return
        [
            (AccuracyChart, "Top-1 accuracy against bytes sent per image (log scale): every codec at every split (markers, one colour per split), the float32 tensor (raw) and the image-offload baselines (one series per format, its qualities joined by a line). The two dashed lines are the unsplit model's top-1 and one point below it, the tolerance the verdict uses.", AccuracyVsBytes(result)),
            (ParetoChart, "The accuracy-vs-bytes Pareto front over all points that send something (no other point has both fewer bytes and higher top-1), and the same front restricted to points whose device runs at most half of the model's MACs (image offload included). Dashed lines: the unsplit model's top-1 and one point below it.", Pareto(result)),
            (ComputeChart, "Device compute (head MACs; 0 for image offload) against bytes sent: SC2's other axis. The local baseline (whole model on the device, nothing sent) cannot be drawn on a log axis; its MACs are in the table.", ComputeVsBytes(result)),
            .. ExitReport.Charts(result),
        ];
    }

    public static string Csv(SweepResult result)
    {
        var front = new HashSet<OperatingPoint>(ParetoFront.AccuracyVsBytes(result.Points), ReferenceEqualityComparer.Instance);
        var sb = new StringBuilder("kind,split,codec,family,images,top1,top5,agreement,mean_kl,bytes_mean,bytes_p95,fp32_bytes,x_fp32,head_params,head_macs,head_ms,encode_ms,decode_ms,tail_ms,pareto\n");
        foreach (var p in result.Points)
            sb.AppendLine(string.Join(",",
                p.Kind, Quote(p.Split ?? ""), Quote(p.Codec), Quote(p.Family), I(p.Images), F(p.Top1), F(p.Top5), F(p.Agreement), F(p.MeanKl),
                F(p.BytesMean), F(p.BytesP95), F(p.Float32Bytes), F(p.CompressionVsFloat32), I(p.HeadParams), I(p.HeadMacs),
                F(p.HeadMs), F(p.EncodeMs), F(p.DecodeMs), F(p.TailMs), front.Contains(p) ? "1" : "0"));
        return sb.ToString();
    }

    private static string Quote(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    private static string F(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static LineChart AccuracyVsBytes(SweepResult result)
    {
        var chart = new LineChart { Title = $"{result.Model}: top-1 vs bytes per image ({result.Images} images)", XLabel = "bytes per image (mean, log)", YLabel = "top-1 %", LogX = true };
        foreach (var group in result.Points.Where(p => p.IsSplit).GroupBy(p => p.Split!))
            chart.Series.Add(new ChartSeries(OperatingPoint.ShortSplitName(group.Key), [.. group.Select(Xy)], Connect: false));
        foreach (var group in result.Points.Where(p => p.IsImageOffload).GroupBy(p => p.Kind))
            chart.Series.Add(new ChartSeries(group.Key.ToUpperInvariant() + " offload", [.. group.Select(Xy)]));
        AddUnsplitLevel(chart, result);
        return chart;
    }

    private static LineChart Pareto(SweepResult result)
    {
        var front = ParetoFront.AccuracyVsBytes(result.Points);
        var chart = new LineChart { Title = $"{result.Model}: Pareto front (top-1 vs bytes)", XLabel = "bytes per image (mean, log)", YLabel = "top-1 %", LogX = true };
        chart.Series.Add(new ChartSeries("all points", [.. result.Points.Where(p => p.BytesMean > 0).Select(Xy)], Connect: false));
        chart.Series.Add(new ChartSeries("Pareto front", [.. front.Select(Xy)]));
        // SC2: the bytes-only front favours cuts that run nearly the whole model on the device; show the front of
        // the points that leave most of the compute to the server beside it.
        var light = ParetoFront.AccuracyVsBytes([.. result.Points.Where(p => p.HeadMacs <= SweepVerdict.DeviceShareBudget * result.TotalMacs)]);
        if (light.Count > 0)
            chart.Series.Add(new ChartSeries($"front, device <= {SweepVerdict.DeviceShareBudget * 100:0}% of MACs", [.. light.Select(Xy)]));
        AddUnsplitLevel(chart, result);
        return chart;
    }

    private static LineChart ComputeVsBytes(SweepResult result)
    {
        var chart = new LineChart { Title = $"{result.Model}: device compute vs bytes", XLabel = "device MACs per image (millions)", YLabel = "bytes per image (mean, log)", LogY = true };
        foreach (var group in result.Points.Where(p => p.BytesMean > 0).GroupBy(p => p.IsSplit ? OperatingPoint.ShortSplitName(p.Split!) : p.Kind.ToUpperInvariant() + " offload"))
            chart.Series.Add(new ChartSeries(group.Key, [.. group.Select(p => (p.HeadMacs / 1e6, p.BytesMean))], Connect: false));
        return chart;
    }

    private static (double X, double Y) Xy(OperatingPoint p) => (p.BytesMean, 100 * p.Top1);

    private static void AddUnsplitLevel(LineChart chart, SweepResult result)
    {
        var sending = result.Points.Where(p => p.BytesMean > 0).ToList();
        if (sending.Count == 0) return;
        double lo = sending.Min(p => p.BytesMean), hi = sending.Max(p => p.BytesMean);
        chart.Series.Add(new ChartSeries($"unsplit ({100 * result.FullTop1:0.0}%)", [(lo, 100 * result.FullTop1), (hi, 100 * result.FullTop1)], Dashed: true));
        chart.Series.Add(new ChartSeries("unsplit - 1 point", [(lo, 100 * result.FullTop1 - 1), (hi, 100 * result.FullTop1 - 1)], Dashed: true));
    }

    private static string Html(SweepResult result, SweepVerdict verdict, IEnumerable<(string Name, string Caption, byte[] Png)> charts, string? command)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var front = new HashSet<OperatingPoint>(ParetoFront.AccuracyVsBytes(result.Points), ReferenceEqualityComparer.Instance);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cleave sweep: ").Append(E(result.Model)).Append("</title>\n<style>")
          .Append("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}")
          .Append("table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td.l,th.l{text-align:left}")
          .Append("tr.front{background:#eef6ee}img{max-width:100%;border:1px solid #ddd}code,pre{background:#f4f4f4}pre{padding:.5em;white-space:pre-wrap}")
          .Append(".verdict li{margin:.3em 0}</style></head><body>\n");
        sb.Append("<h1>Cleave sweep: ").Append(E(result.Model)).Append("</h1>\n<p>")
          .Append(result.Images).Append(" images; started ").Append(result.StartedUtc.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))
          .Append("; ran ").Append(result.ElapsedSeconds.ToString("0", CultureInfo.InvariantCulture)).Append(" s. Unsplit model: ")
          .Append(result.TotalParams.ToString("N0", CultureInfo.InvariantCulture)).Append(" parameters, ")
          .Append(result.TotalMacs.ToString("N0", CultureInfo.InvariantCulture)).Append(" MACs per image.</p>\n");
        if (command is not null) sb.Append("<pre>").Append(E(command)).Append("</pre>\n");
        sb.Append("<h2>Verdict</h2>\n<ul class=\"verdict\">\n");
        foreach (string s in verdict.Sentences) sb.Append("<li>").Append(E(s)).Append("</li>\n");
        sb.Append("</ul>\n<details><summary>Per split</summary><ul>\n");
        foreach (string s in verdict.PerSplitSentences) sb.Append("<li>").Append(E(s)).Append("</li>\n");
        sb.Append("</ul></details>\n<p>Computed from the results below (best Cleave point = fewest bytes among codecs other than raw within ")
          .Append((SweepVerdict.Tolerance * 100).ToString("0.#", CultureInfo.InvariantCulture)).Append(" point of the unsplit top-1; image offload sends the input already cropped and resized to the model's input size).</p>\n");
        foreach (var (name, caption, png) in charts)
            sb.Append("<figure><img alt=\"").Append(E(name)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png))
              .Append("\"><figcaption>").Append(E(caption)).Append("</figcaption></figure>\n");
        sb.Append(ExitReport.Html(result));
        sb.Append("<h2>All points</h2>\n<p>Green rows are on the accuracy-vs-bytes Pareto front. Bytes are whole messages (frame headers or image files); ms are means per image on the machine that ran the sweep.</p>\n<table><tr>")
          .Append("<th class=\"l\">split</th><th class=\"l\">codec / baseline</th><th>top-1 %</th><th>top-5 %</th><th>agree %</th><th>mean KL</th><th>bytes</th><th>p95</th><th>x fp32</th><th>head MMAC</th><th>head params</th><th>head ms</th><th>enc ms</th><th>dec ms</th><th>tail ms</th></tr>\n");
        foreach (var p in result.Points.OrderBy(p => p.Split ?? "~").ThenBy(p => p.Kind).ThenBy(p => p.BytesMean))
            sb.Append(front.Contains(p) ? "<tr class=\"front\">" : "<tr>")
              .Append("<td class=\"l\">").Append(E(p.Split is null ? "(" + p.Kind + ")" : OperatingPoint.ShortSplitName(p.Split))).Append("</td>")
              .Append("<td class=\"l\"><code>").Append(E(p.Codec)).Append("</code></td>")
              .Append(Cell(100 * p.Top1, "0.0")).Append(Cell(100 * p.Top5, "0.0")).Append(Cell(100 * p.Agreement, "0.0")).Append(Cell(p.MeanKl, "0.0000"))
              .Append(Cell(p.BytesMean, "0")).Append(Cell(p.BytesP95, "0")).Append(Cell(p.CompressionVsFloat32, "0.0"))
              .Append(Cell(p.HeadMacs / 1e6, "0.0")).Append(Cell(p.HeadParams, "N0"))
              .Append(Cell(p.HeadMs, "0.00")).Append(Cell(p.EncodeMs, "0.00")).Append(Cell(p.DecodeMs, "0.00")).Append(Cell(p.TailMs, "0.00")).Append("</tr>\n");
        sb.Append("</table>\n<p>Also in this folder: results.json, results.csv and the PNGs.</p>\n</body></html>\n");
        return sb.ToString();

        static string Cell(double v, string format) => "<td>" + v.ToString(format, CultureInfo.InvariantCulture) + "</td>";
    }
}
