using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Evaluation.Segmentation;
using Cleave.Models;

namespace Cleave.Cli.Commands;

/// <summary><c>cleave eval --task segmentation</c>: output formatting over <see cref="SplitSegmentationEval"/>.</summary>
internal static class EvalSegmentationTask
{
    public static int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["model", "split", "codec", "image", "mask", "ignore", "assets"], ["json"]);
        string model = cl.Require("model");
        string split = cl.Require("split");
        var codecs = List(cl.Get("codec") ?? "raw").Select(FeatureCodecs.Create).ToList();
        if (cl.Has("image") != cl.Has("mask")) throw new UsageException("--image and --mask go together");
        string vision = cl.Has("image") ? "" : Path.Combine(AssetLocator.Resolve(cl.Get("assets")), "vision");
        var images = List(cl.Get("image") ?? Path.Combine(vision, "bird_segmentation.bmp"));
        var masks = List(cl.Get("mask") ?? Path.Combine(vision, "bird_segmentation_mask.bmp"));
        if (images.Count != masks.Count) throw new UsageException($"{images.Count} images but {masks.Count} masks");
        var ignore = List(cl.Get("ignore") ?? "255", ',').Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v : throw new UsageException($"--ignore takes integer labels, got '{s}'")).ToList();
        var samples = images.Zip(masks, (i, m) => new SegmentationSample(i, m)).ToList();

        IReadOnlyList<SplitSegmentationResult> results;
        using (var progress = new Progress("eval segmentation", (codecs.Count + 1) * samples.Count))
        {
            int step = 0;
            results = SplitSegmentationEval.Run(model, split, codecs, samples, ignore, (what, i) => progress.Report(step++, $"{what} {Path.GetFileName(samples[i].ImagePath)}"));
        }

        if (cl.Has("json"))
            Json.WriteObjects(results, (w, r) =>
            {
                w.WriteString("codec", r.Codec);
                w.WriteString("split", r.Split);
                w.WriteNumber("images", r.Images);
                w.WriteNumber("miou", r.MeanIoU);
                w.WriteNumber("full_miou", r.FullMeanIoU);
                w.WriteNumber("pixel_accuracy", r.PixelAccuracy);
                w.WriteNumber("pixel_agreement", r.PixelAgreement);
                w.WriteNumber("bytes_mean", r.BytesMean);
                w.WriteNumber("fp32_bytes", r.Float32Bytes);
                w.WriteNumber("head_ms", r.HeadMs);
                w.WriteNumber("encode_ms", r.EncodeMs);
                w.WriteNumber("decode_ms", r.DecodeMs);
                w.WriteNumber("tail_ms", r.TailMs);
            });
        else
        {
            Console.WriteLine($"{model}, split {split}, {samples.Count} image(s); unsplit mean IoU {results[0].FullMeanIoU:F4}");
            Console.WriteLine($"{"codec",-40} {"mIoU",7} {"delta",7} {"agree",7} {"bytes",9} {"x fp32",7} {"enc ms",7} {"dec ms",7}");
            foreach (var r in results)
                Console.WriteLine($"{r.Codec,-40} {r.MeanIoU,7:F4} {r.MeanIoU - r.FullMeanIoU,7:F4} {100 * r.PixelAgreement,7:F2} {r.BytesMean,9:F0} " +
                    $"{r.Float32Bytes / r.BytesMean,7:F1} {r.EncodeMs,7:F2} {r.DecodeMs,7:F2}");
        }
        return 0;
    }

    private static List<string> List(string value, char separator = ';') =>
        [.. value.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
