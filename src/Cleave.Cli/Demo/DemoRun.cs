using System.Collections.Concurrent;
using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Evaluation.Classification;
using Cleave.Models.Importers.TfLite;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Runtime;
using Cleave.Runtime.Client;
using Cleave.Runtime.Serving;

namespace Cleave.Cli.Demo;

/// <summary>
/// The end-to-end demo: import MobileNetV2 from the shared TFLite file, cut it mid-network, start a real server on a
/// loopback port, and send the sample images from several clients over an emulated link, once as compressed split
/// features and once as JPEG files for the whole model on the server (the baseline split computing must beat). The
/// whole model run on the device is the accuracy reference.
/// </summary>
public sealed class DemoRun(DemoOptions options, Action<string> log, Action<int, int, string> progress)
{
    public const string TfLiteModel = "vision/mobilenet_v2_1.0_224_quant.tflite";

    public async Task<DemoSummary> RunAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(options.WorkDirectory);
        var (modelPath, splitPath) = Prepare();
        var samples = PickImages();

        log($"reference: the whole model on the device, {samples.Count} images");
        int outputs = RunReference(modelPath, samples);

        var split = SplitDirectory.Load(splitPath);
        var codec = FeatureCodecs.Create(options.Codec);
        var jpeg = ImageBaseline.Parse($"jpeg:q={options.JpegQuality}");
        log($"server: split tail + whole model on 127.0.0.1 (max batch {options.MaxBatch})");
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = splitPath, FullModelPath = modelPath, Port = 0, MaxBatch = options.MaxBatch,
        }, cancellationToken);

        using var head = SplitHead.Load(split);
        log($"split: {options.Clients} clients send '{codec.Spec}' frames of {split.Manifest.Cut[0].Name} over {options.Link}");
        await RunClientsAsync(server.Url, ServingModes.Split, split.ManifestHash, codec.Spec, samples, "split",
            s => SplitPath(head, codec, s), (s, p) => s.Split = p, cancellationToken);
        log($"offload: the same clients send JPEG q={options.JpegQuality} images of the model's input size over {options.Link.Name}");
        await RunClientsAsync(server.Url, ServingModes.Full, "", "", samples, "jpeg",
            s => JpegPath(head.Preprocessing, jpeg, s), (s, p) => s.Jpeg = p, cancellationToken);

        int float32Bytes = FeatureCodecs.Create("raw").Encode(new float[split.CutSampleShape().Shape.Aggregate(1L, (a, b) => a * b)],
            new TensorShape([.. split.CutSampleShape().Shape.Select(d => (int)d)])).Length;
        return DemoSummary.From(options, samples, outputs, float32Bytes, split.Manifest.Cut[0].Name, clock.Elapsed);
    }

    /// <summary>Imports and splits once; later runs reuse the files (both steps take well under a second anyway).</summary>
    private (string Model, string Split) Prepare()
    {
        string tflite = Path.Combine(options.AssetsRoot, TfLiteModel);
        if (!File.Exists(tflite))
            throw new FileNotFoundException($"MobileNetV2 not found at {tflite}; point --assets (or CLEAVE_ASSETS) at a copy of the shared assets", tflite);
        string model = Path.Combine(options.WorkDirectory, "mobilenet_v2.onnx");
        if (!File.Exists(model))
        {
            log($"import: {tflite} -> {model}");
            TfLiteImporter.Import(tflite, model);
        }
        string splitPath = Path.Combine(options.WorkDirectory, "split-" + string.Concat(options.Cut.Select(c => char.IsLetterOrDigit(c) ? c : '_')));
        if (!File.Exists(Path.Combine(splitPath, "split.json")))
        {
            log($"split: at {options.Cut} -> {splitPath}");
            ModelSplitter.Split(OnnxModel.Load(model), [options.Cut], sourceName: Path.GetFileName(model)).Save(splitPath);
        }
        return (model, splitPath);
    }

    /// <summary>Evenly spaced over the sample (one image per class, sorted by class), so a subset spans the classes.</summary>
    private List<DemoSample> PickImages()
    {
        var all = ImageNetSample.FromAssets(options.AssetsRoot);
        if (all.Count == 0) throw new FileNotFoundException($"no images in {Path.Combine(options.AssetsRoot, "imagenet-sample")}");
        int count = Math.Min(options.Images, all.Count);
        return [.. Enumerable.Range(0, count).Select(i => new DemoSample(all[(int)((long)i * all.Count / count)]))];
    }

    private int RunReference(string modelPath, List<DemoSample> samples)
    {
        using var whole = new ImageModelSession(modelPath);
        int outputs = 0;
        for (int start = 0; start < samples.Count; start += 16)
        {
            var batch = samples.Skip(start).Take(16).ToList();
            var scores = whole.RunBatch([.. batch.Select(s => RgbImage.Load(s.Image.Path))]);
            for (int i = 0; i < batch.Count; i++)
            {
                outputs = scores[i].Length;
                batch[i].UnsplitTop1 = ImageNetSample.TopK(scores[i], 1)[0];
            }
            progress(Math.Min(start + 16, samples.Count), samples.Count, "reference");
        }
        return outputs;
    }

    private static (byte[] Payload, double DeviceMs, double EncodeMs) SplitPath(SplitHead head, FeatureCodec codec, DemoSample sample)
    {
        var frame = head.Encode(sample.Image.Path, codec);
        return (frame.Frame, frame.HeadMs, frame.EncodeMs);
    }

    private static (byte[] Payload, double DeviceMs, double EncodeMs) JpegPath(PreprocessingSpec spec, ImageBaseline jpeg, DemoSample sample)
    {
        var image = RgbImage.Load(sample.Image.Path);
        long start = Stopwatch.GetTimestamp();
        byte[] file = jpeg.Encode(ImageBaseline.ResizeForModel(image, spec));
        return (file, 0, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    /// <summary>Clients, each its own stream, take images from one queue until it is empty; one request in flight each.</summary>
    private async Task RunClientsAsync(Uri server, string mode, string manifestHash, string codec, List<DemoSample> samples, string label,
        Func<DemoSample, (byte[] Payload, double DeviceMs, double EncodeMs)> prepare, Action<DemoSample, DemoPath> record,
        CancellationToken cancellationToken)
    {
        var queue = new ConcurrentQueue<DemoSample>(samples);
        int done = 0;
        var workers = Enumerable.Range(0, options.Clients).Select(async index =>
        {
            await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
            {
                Server = server, Mode = mode, ManifestHash = manifestHash, Codecs = codec.Length > 0 ? [codec] : [],
                Link = options.Link, LinkSeed = index, ClientId = $"demo-{label}-{index}",
            }, cancellationToken);
            while (queue.TryDequeue(out var sample))
            {
                // The device's own work runs off the thread pool's I/O path so clients overlap like separate devices.
                var (payload, deviceMs, encodeMs) = await Task.Run(() => prepare(sample), cancellationToken);
                var answer = await client.InferAsync(payload, cancellationToken: cancellationToken);
                var t = answer.Timing;
                record(sample, new DemoPath(answer.Top1, answer.PayloadBytes, deviceMs, encodeMs, answer.UplinkMs, t.QueueMs,
                    t.DecodeMs, t.TailMs, answer.DownlinkMs, deviceMs + encodeMs + answer.TotalMs));
                progress(Interlocked.Increment(ref done), samples.Count, label);
            }
        });
        await Task.WhenAll(workers);
    }
}
