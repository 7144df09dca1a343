using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Evaluation.Classification;
using Cleave.Models;
using Cleave.Models.Preprocessing;

namespace Cleave.Cli.Commands;

public sealed class EvalCommand : ICommand
{
    public string Name => "eval";
    public string Summary => "accuracy of a split image classifier with a codec at the cut, beside the unsplit model";
    public string Usage => """
        usage: cleave eval --model M.onnx --data DIR [--split T] [--codec "SPEC[;SPEC...]"] [--limit N] [--labels FILE] [--json]
          --model    an image classifier imported by `cleave import` (its preprocessing is read from the model)
          --data     images named <wnid>_<name>.JPEG (the imagenet-sample layout)
          --labels   the wnid list giving class indices (default: <assets>/vision/imagenet_wnids.txt)
          --split T  cut tensor (see `cleave inspect`); without it the unsplit model is evaluated
          --codec    codec(s) for the cut tensor, ';'-separated (default raw)
          --limit N  only the first N images (in name order)
        Reports top-1, top-5, agreement with the unsplit model's top-1, mean KL divergence to the unsplit output,
        bytes per sample (mean, p95; frame headers included) and head / encode / decode / tail milliseconds.
        """ + "\n" + EvalTasks.Usage;

    public int Run(IReadOnlyList<string> args)
    {
        (string task, args) = EvalTasks.Take(args);
        if (task != "classification") return EvalTasks.Run(task, args);
        var cl = new CommandLine(args, ["model", "data", "labels", "split", "codec", "limit", "assets"], ["json"]);
        string model = cl.Require("model");
        string data = cl.Require("data");
        string labels = cl.Get("labels") ?? Path.Combine(AssetLocator.Resolve(cl.Get("assets")), "vision", "imagenet_wnids.txt");
        int limit = cl.GetInt("limit", int.MaxValue);
        if (limit <= 0) throw new UsageException("--limit must be positive");
        string? split = cl.Get("split");
        var codecs = (cl.Get("codec") ?? "raw").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(FeatureCodecs.Create).ToList();
        if (split is null && cl.Has("codec")) throw new UsageException("--codec applies at a cut: give --split too");
        var images = ImageNetSample.Load(data, labels).Take(limit).ToList();
        if (images.Count == 0) throw new ArgumentException($"no labelled images in '{data}'");

        var results = new List<SplitClassificationResult>();
        foreach (var codec in split is null ? codecs.Take(1) : codecs)
            using (var progress = new Progress($"eval {(split is null ? "unsplit" : codec.Spec)}", images.Count))
                results.Add(SplitClassificationEval.Run(model, split, codec, images, i => progress.Report(i, Path.GetFileName(images[i].Path))));

        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartArray();
                foreach (var r in results)
                {
                    w.WriteStartObject();
                    w.WriteString("codec", r.Codec);
                    if (r.Split is null) w.WriteNull("split"); else w.WriteString("split", r.Split);
                    w.WriteNumber("images", r.Images);
                    w.WriteNumber("top1", r.Top1);
                    w.WriteNumber("top5", r.Top5);
                    w.WriteNumber("full_top1", r.FullTop1);
                    w.WriteNumber("agreement", r.Agreement);
                    w.WriteNumber("mean_kl", r.MeanKl);
                    w.WriteNumber("bytes_mean", r.BytesMean);
                    w.WriteNumber("bytes_p95", r.BytesP95);
                    w.WriteNumber("fp32_bytes", r.Float32Bytes);
                    w.WriteNumber("head_ms", r.HeadMs);
                    w.WriteNumber("encode_ms", r.EncodeMs);
                    w.WriteNumber("decode_ms", r.DecodeMs);
                    w.WriteNumber("tail_ms", r.TailMs);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
        else
        {
            Console.WriteLine($"{model}, split {split ?? "none"}, {images.Count} images");
            Console.WriteLine($"{"codec",-44} {"top-1",6} {"top-5",6} {"agree",6} {"KL",8} {"bytes",9} {"p95",9} {"x fp32",7} {"enc ms",7} {"dec ms",7}");
            foreach (var r in results)
                Console.WriteLine($"{r.Codec,-44} {100 * r.Top1,6:F1} {100 * r.Top5,6:F1} {100 * r.Agreement,6:F1} {r.MeanKl,8:F4} {r.BytesMean,9:F0} {r.BytesP95,9:F0} " +
                    $"{(r.BytesMean > 0 && r.Float32Bytes > 0 ? r.Float32Bytes / r.BytesMean : 0),7:F1} {r.EncodeMs,7:F2} {r.DecodeMs,7:F2}");
            Console.WriteLine($"unsplit top-1 on the same images: {100 * results[0].FullTop1:F1}%");
        }
        return 0;
    }
}
