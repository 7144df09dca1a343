using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Cleave.Cli.Infrastructure;
using Cleave.Evaluation.Plotting;

namespace Cleave.Cli.Demo;

/// <summary>The demo's closing table (text), its JSON and its self-contained HTML report.</summary>
public static class DemoReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Table(DemoSummary s)
    {
        var b = new StringBuilder();
        b.AppendLine(Inv, $"MobileNetV2 cut at {s.Cut}, {s.Images} ImageNet sample images, {s.Clients} clients over {s.Link}");
        b.AppendLine();
        // The path column is as wide as the longest name (a codec spec can be long), at least 40.
        int w = Math.Max(40, Math.Max(s.Split.Name.Length, s.Jpeg.Name.Length) + 1);
        b.AppendLine(Inv, $"{"path".PadRight(w)} top-1   agreement   bytes/image   vs float32   vs JPEG");
        b.AppendLine(Inv, $"{"unsplit (whole model on device)".PadRight(w)} {s.UnsplitTop1 * 100,5:F1}%   {"",9}   {0,11:N0}");
        b.AppendLine(Inv, $"{"split float32 (raw)".PadRight(w)} {"",6}   {"",9}   {s.Float32FrameBytes,11:N0}   {1,9:F1}x");
        Row(b, w, s.Split, s.SplitVsFloat32, s.SplitVsJpeg);
        Row(b, w, s.Jpeg, s.Float32FrameBytes / s.Jpeg.BytesMean, 1);
        if (s.Exit is { } x)
            b.AppendLine(Inv, $"early exit (threshold {x.Threshold:0.####}, calibrated): {x.Exited} of {x.Images} answered on the device ({100 * x.ExitRate:F1}%, {x.ExitCorrect} right), sent {x.Images - x.Exited} ({x.SentCorrect} right); {x.BytesSaved:N0} bytes not sent, {x.ServerMsSaved:F1} ms of server decode + tail saved; the split row's bytes count 0 for an exit");
        b.AppendLine();
        b.AppendLine("latency, mean ms   device  encode  uplink   queue  decode    tail downlink   total   p50   p95");
        Latency(b, "split", s.Split.Latency);
        Latency(b, "jpeg offload", s.Jpeg.Latency);
        b.AppendLine();
        b.Append(Verdict(s));
        return b.ToString();
    }

    /// <summary>One sentence saying whether splitting won here, computed from the numbers (never assumed).</summary>
    public static string Verdict(DemoSummary s)
    {
        if (s.Split.BytesMean == 0)
            return string.Create(Inv, $"verdict: the split's early exit answered every image on the device, so nothing was sent; top-1 {(s.UnsplitTop1 - s.Split.Top1) * 100:+0.0;-0.0;0.0} points vs unsplit.{Environment.NewLine}");
        double drop = (s.UnsplitTop1 - s.Split.Top1) * 100;
        string bytes = s.SplitVsJpeg >= 1
            ? string.Create(Inv, $"{s.SplitVsJpeg:F1}x fewer bytes than JPEG offload")
            : string.Create(Inv, $"{1 / s.SplitVsJpeg:F1}x MORE bytes than JPEG offload");
        string accuracy = s.Split.Top1 >= s.Jpeg.Top1 ? "at equal or better top-1 than JPEG" : "at LOWER top-1 than JPEG";
        string latency = s.Split.Latency.Total <= s.Jpeg.Latency.Total ? "faster" : "slower";
        return string.Create(Inv,
            $"verdict: the split sends {s.SplitVsFloat32:F1}x fewer bytes than float32 and {bytes} {accuracy}, top-1 {drop:+0.0;-0.0;0.0} points vs unsplit; end to end it is {latency} than JPEG offload ({s.Split.Latency.Total:F0} vs {s.Jpeg.Latency.Total:F0} ms mean).{Environment.NewLine}");
    }

    private static void Row(StringBuilder b, int width, PathSummary p, double vsFloat, double vsJpeg) =>
        b.AppendLine(Inv, $"{p.Name.PadRight(width)} {p.Top1 * 100,5:F1}%   {p.Agreement * 100,8:F1}%   {p.BytesMean,11:N0}   {vsFloat,9:F1}x   {vsJpeg,6:F2}x");

    private static void Latency(StringBuilder b, string name, LatencyBreakdown l) =>
        b.AppendLine(Inv, $"{name,-16} {l.Device,8:F1}{l.Encode,8:F1}{l.Uplink,8:F1}{l.Queue,8:F1}{l.Decode,8:F1}{l.Tail,8:F1}{l.Downlink,9:F1}{l.Total,8:F1}{l.TotalP50,6:F0}{l.TotalP95,6:F0}");

    public static void WriteJson(DemoSummary s, string reportPath) => Json.Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("images", s.Images);
        w.WriteString("cut", s.Cut);
        w.WriteString("codec", s.Codec);
        w.WriteString("link", s.Link);
        w.WriteNumber("clients", s.Clients);
        w.WriteNumber("unsplit_top1", s.UnsplitTop1);
        w.WriteNumber("float32_frame_bytes", s.Float32FrameBytes);
        // JSON has no infinity: an exit that answered everything leaves these undefined.
        if (double.IsFinite(s.SplitVsFloat32)) w.WriteNumber("split_vs_float32", s.SplitVsFloat32); else w.WriteNull("split_vs_float32");
        if (double.IsFinite(s.SplitVsJpeg)) w.WriteNumber("split_vs_jpeg", s.SplitVsJpeg); else w.WriteNull("split_vs_jpeg");
        PathJson(w, "split", s.Split);
        PathJson(w, "jpeg", s.Jpeg);
        if (s.Exit is { } x)
        {
            w.WriteStartObject("exit");
            w.WriteNumber("threshold", x.Threshold);
            w.WriteNumber("exited", x.Exited);
            w.WriteNumber("sent", x.Images - x.Exited);
            w.WriteNumber("exit_rate", x.ExitRate);
            w.WriteNumber("exit_correct", x.ExitCorrect);
            w.WriteNumber("sent_correct", x.SentCorrect);
            w.WriteNumber("bytes_saved", x.BytesSaved);
            w.WriteNumber("server_ms_saved", x.ServerMsSaved);
            w.WriteEndObject();
        }
        w.WriteString("verdict", Verdict(s).Trim());
        w.WriteString("report", reportPath);
        w.WriteNumber("elapsed_s", s.Elapsed.TotalSeconds);
        w.WriteEndObject();
    });

    private static void PathJson(Utf8JsonWriter w, string name, PathSummary p)
    {
        w.WriteStartObject(name);
        w.WriteString("name", p.Name);
        w.WriteNumber("top1", p.Top1);
        w.WriteNumber("agreement", p.Agreement);
        w.WriteNumber("bytes_mean", p.BytesMean);
        var l = p.Latency;
        w.WriteStartObject("latency_ms");
        w.WriteNumber("device", l.Device);
        w.WriteNumber("encode", l.Encode);
        w.WriteNumber("uplink", l.Uplink);
        w.WriteNumber("queue", l.Queue);
        w.WriteNumber("decode", l.Decode);
        w.WriteNumber("tail", l.Tail);
        w.WriteNumber("downlink", l.Downlink);
        w.WriteNumber("total_mean", l.Total);
        w.WriteNumber("total_p50", l.TotalP50);
        w.WriteNumber("total_p95", l.TotalP95);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The accuracy-vs-bytes chart: the demo's measured paths (split, JPEG offload) and the unsplit top-1 as a dashed level.</summary>
    public static string AccuracyChart(DemoSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return SvgChart.Scatter("Top-1 against bytes sent per image", "bytes per image (mean, log scale)", "top-1 %",
        [
            new SvgPoint(s.Split.Name, s.Split.BytesMean, 100 * s.Split.Top1),
            new SvgPoint(s.Jpeg.Name, s.Jpeg.BytesMean, 100 * s.Jpeg.Top1),
        ], logX: true, level: (string.Create(Inv, $"unsplit model on the device: {100 * s.UnsplitTop1:0.0}%"), 100 * s.UnsplitTop1));
    }

    /// <summary>The mean latency of each path, stage by stage, as stacked bars (their sum; the table's total is the mean measured end to end).</summary>
    public static string LatencyChart(DemoSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        static SvgBar Bar(string name, LatencyBreakdown l) => new(name, [l.Device, l.Encode, l.Uplink, l.Queue, l.Decode, l.Tail, l.Downlink]);
        return SvgChart.StackedBars("Mean latency per request, by stage", "milliseconds",
            ["device (head)", "encode (codec or JPEG)", "uplink", "server queue", "server decode", "server model", "downlink"],
            [Bar("split", s.Split.Latency), Bar("JPEG offload", s.Jpeg.Latency)]);
    }

    /// <summary>
    /// A self-contained page (no scripts, no external files): the verdict, the accuracy-vs-bytes chart and the latency
    /// breakdown as inline SVG, and the table. At most 1000 px wide; the charts scale down with a narrower window.
    /// </summary>
    public static void WriteHtml(DemoSummary s, string path)
    {
        ArgumentNullException.ThrowIfNull(s);
        File.WriteAllText(path, Html(s));
    }

    public static string Html(DemoSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        string text = WebUtility.HtmlEncode(Table(s));
        return $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>Cleave demo</title>
            <style>body{font-family:sans-serif;max-width:1000px;margin:2rem auto;padding:0 1rem;color:#222}
            pre{background:#f6f6f6;padding:1rem;overflow-x:auto;font-size:13px}svg{max-width:100%;height:auto}
            .verdict{font-size:1.1rem;background:#eef4fb;border-left:4px solid #1f77b4;padding:.6rem 1rem}
            figure{margin:1.5rem 0}figcaption{color:#555;font-size:.9rem}</style>
            </head><body>
            <h1>Cleave demo: split MobileNetV2 over an emulated link</h1>
            <p class="verdict">{{WebUtility.HtmlEncode(Verdict(s))}}</p>
            <figure>{{AccuracyChart(s)}}<figcaption>Each path's top-1 over the {{s.Images}} sample images against the mean bytes it
            sent per image; the dashed line is the whole model run on the device (nothing sent). The cut tensor as float32
            would be {{s.Float32FrameBytes.ToString("N0", Inv)}} bytes.</figcaption></figure>
            <figure>{{LatencyChart(s)}}<figcaption>Where the time goes, mean milliseconds per request: device and encode on the
            client, the emulated link ({{WebUtility.HtmlEncode(s.Link)}}) both ways, queue, decode and model run on the server.
            The number after a bar is the sum of its stages; the table's total is measured end to end, with p50 and p95.</figcaption></figure>
            <pre>{{text}}</pre>
            <p>Split: the device runs the head up to <code>{{WebUtility.HtmlEncode(s.Cut)}}</code>, encodes the tensor with
            <code>{{WebUtility.HtmlEncode(s.Codec)}}</code> and a real server on a loopback port runs the tail. JPEG offload: the
            device sends the input, cropped and resized to 224x224, as a JPEG and the same server runs the whole model.
            Uplink and downlink times are emulated ({{WebUtility.HtmlEncode(s.Link)}}); device, encode, queue, decode and tail
            times are measured on this machine. Accuracy is over the ImageNet sample (one image per class), which is easier
            than the ImageNet validation set: compare the paths, do not quote it as ImageNet accuracy.
            Wider sweeps over splits, codecs and baselines: <code>cleave sweep</code> (docs/evaluation.md).</p>
            <p>Generated {{DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", Inv)}} UTC in {{s.Elapsed.TotalSeconds.ToString("F0", Inv)}} s.</p>
            </body></html>
            """;
    }
}
