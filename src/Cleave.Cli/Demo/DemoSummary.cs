using Cleave.Models.Preprocessing;

namespace Cleave.Cli.Demo;

/// <summary>Mean latency components of one path, in ms (device = head or nothing; encode = codec or JPEG encoder).</summary>
public sealed record LatencyBreakdown(double Device, double Encode, double Uplink, double Queue, double Decode, double Tail,
    double Downlink, double Total, double TotalP50, double TotalP95);

/// <summary>Accuracy, bytes and latency of one path over the demo images.</summary>
public sealed record PathSummary(string Name, double Top1, double Agreement, double BytesMean, LatencyBreakdown Latency);

/// <summary>
/// What the split's early exit did in the demo: images answered on the device and how many of those and of the sent
/// ones were right, the frames not sent, and the server decode + tail time they would have cost (at the sent requests'
/// mean; 0 when none was sent).
/// </summary>
public sealed record DemoExitSummary(double Threshold, int Exited, int Images, int ExitCorrect, int SentCorrect, long BytesSaved, double ServerMsSaved)
{
    public double ExitRate => Images == 0 ? 0 : (double)Exited / Images;
}

/// <summary>Everything `cleave demo` reports (<see cref="Exit"/> only when the demo's split folder has an early exit).</summary>
public sealed record DemoSummary(
    int Images, string Cut, string Codec, string Link, int Clients, double UnsplitTop1, int Float32FrameBytes,
    PathSummary Split, PathSummary Jpeg, TimeSpan Elapsed, DemoExitSummary? Exit = null)
{
    /// <summary>Float32 frame over the split's mean bytes per request (exits count 0); infinite when the exit answered everything.</summary>
    public double SplitVsFloat32 => Split.BytesMean > 0 ? Float32FrameBytes / Split.BytesMean : double.PositiveInfinity;
    public double SplitVsJpeg => Split.BytesMean > 0 ? Jpeg.BytesMean / Split.BytesMean : double.PositiveInfinity;

    public static DemoSummary From(DemoOptions options, IReadOnlyList<DemoSample> samples, int outputs, int float32Bytes,
        string cut, TimeSpan elapsed, double? exitThreshold = null)
    {
        double unsplit = samples.Count(s => s.UnsplitTop1 == Truth(s, outputs)) / (double)samples.Count;
        return new DemoSummary(samples.Count, cut, options.Codec, options.Link.ToString(), options.Clients, unsplit, float32Bytes,
            Summarize($"split {options.Codec}", samples, s => s.Split, outputs),
            Summarize($"jpeg offload q={options.JpegQuality}", samples, s => s.Jpeg, outputs),
            elapsed, exitThreshold is double t ? SummarizeExit(t, samples, outputs) : null);
    }

    private static DemoExitSummary SummarizeExit(double threshold, IReadOnlyList<DemoSample> samples, int outputs)
    {
        var exited = samples.Where(s => s.Split!.Exited).ToList();
        var sent = samples.Where(s => !s.Split!.Exited).ToList();
        double serverMs = sent.Count == 0 ? 0 : sent.Average(s => s.Split!.DecodeMs + s.Split.TailMs);
        return new DemoExitSummary(threshold, exited.Count, samples.Count,
            exited.Count(s => s.Split!.Top1 == Truth(s, outputs)), sent.Count(s => s.Split!.Top1 == Truth(s, outputs)),
            exited.Sum(s => (long)s.Split!.BytesSaved), exited.Count * serverMs);
    }

    private static int Truth(DemoSample sample, int outputs) => ImageNetSample.OutputIndex(sample.Image.ClassIndex, outputs);

    private static PathSummary Summarize(string name, IReadOnlyList<DemoSample> samples, Func<DemoSample, DemoPath?> pick, int outputs)
    {
        var paths = samples.Select(s => (Sample: s, Path: pick(s) ?? throw new InvalidOperationException($"image {s.Image.Path} got no answer on the {name} path"))).ToList();
        double n = paths.Count;
        var totals = paths.Select(p => p.Path.TotalMs).Order().ToArray();
        var latency = new LatencyBreakdown(
            paths.Average(p => p.Path.DeviceMs), paths.Average(p => p.Path.EncodeMs), paths.Average(p => p.Path.UplinkMs),
            paths.Average(p => p.Path.QueueMs), paths.Average(p => p.Path.DecodeMs), paths.Average(p => p.Path.TailMs),
            paths.Average(p => p.Path.DownlinkMs), totals.Average(), Percentile(totals, 0.5), Percentile(totals, 0.95));
        return new PathSummary(name,
            paths.Count(p => p.Path.Top1 == Truth(p.Sample, outputs)) / n,
            paths.Count(p => p.Path.Top1 == p.Sample.UnsplitTop1) / n,
            paths.Average(p => (double)p.Path.Bytes), latency);
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
