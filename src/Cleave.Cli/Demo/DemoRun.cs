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
        // The default split has no exit; one trained into the folder (`cleave train exit --split ...`) is used and counted.
        using var exit = DeviceExit.Load(split);
        if (exit is not null) log($"exit: {Cleave.Models.EarlyExit.ExitManifest.FileName} in {splitPath}: images the exit answers at confidence >= {exit.Threshold:0.####} (calibrated) are not sent");
        log($"split: {options.Clients} clients send '{codec.Spec}' frames of {split.Manifest.Cut[0].Name} over {options.Link}");
        await RunClientsAsync(server.Url, ServingModes.Split, split.ManifestHash, codec.Spec, samples, "split",
            path => head.Encode(path, codec, exit), (s, p) => s.Split = p, cancellationToken);
        log($"offload: the same clients send JPEG q={options.JpegQuality} images of the model's input size over {options.Link.Name}");
        await RunClientsAsync(server.Url, ServingModes.Full, "", "", samples, "jpeg",
            path => JpegPayload(head.Preprocessing, jpeg, path), (s, p) => s.Jpeg = p, cancellationToken);

        var cutShape = new TensorShape([.. split.CutSampleShape().Shape.Select(d => (int)d)]);
        int float32Bytes = FeatureCodecs.Create("raw").Encode(new float[cutShape.ElementCount], cutShape).Length;
        return DemoSummary.From(options, samples, outputs, float32Bytes, split.Manifest.Cut[0].Name, clock.Elapsed, exit?.Threshold);
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
        else log($"import: reusing {model} from an earlier run (delete {options.WorkDirectory} to start over)");
        string splitPath = Path.Combine(options.WorkDirectory, "split-" + string.Concat(options.Cut.Select(c => char.IsLetterOrDigit(c) ? c : '_')));
        if (!File.Exists(Path.Combine(splitPath, "split.json")))
        {
            log($"split: at {options.Cut} -> {splitPath}");
            ModelSplitter.Split(OnnxModel.Load(model), [options.Cut], sourceName: Path.GetFileName(model)).Save(splitPath);
        }
        else log($"split: reusing {splitPath}");
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

    /// <summary>
    /// Clients, each its own stream with one request in flight (a device sends its next image after the answer),
    /// take every <c>Clients</c>-th image; <see cref="ImageClassificationRun"/> does the sending and timing.
    /// </summary>
    private async Task RunClientsAsync(Uri server, string mode, string manifestHash, string codec, List<DemoSample> samples, string label,
        Func<string, EncodedFrame> makePayload, Action<DemoSample, DemoPath> record, CancellationToken cancellationToken)
    {
        var byPath = samples.ToDictionary(s => s.Image.Path);
        int done = 0;
        var clients = Enumerable.Range(0, options.Clients).Select(async index =>
        {
            await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
            {
                Server = server, Mode = mode, ManifestHash = manifestHash, Codecs = codec.Length > 0 ? [codec] : [],
                Link = options.Link, LinkSeed = index, ClientId = $"demo-{label}-{index}",
            }, cancellationToken);
            var mine = samples.Where((_, i) => i % options.Clients == index).Select(s => s.Image.Path).ToList();
            await ImageClassificationRun.RunAsync(client, mine, makePayload, inFlight: 1, onResult: r =>
            {
                if (r.AnsweredOnDevice)
                {
                    record(byPath[r.Image], new DemoPath(r.Top1, 0, r.HeadMs, r.EncodeMs, 0, 0, 0, 0, 0, r.HeadMs + r.EncodeMs, Exited: true, BytesSaved: r.BytesSaved));
                    progress(Interlocked.Increment(ref done), samples.Count, label);
                    return;
                }
                var answer = r.Result ?? throw new InvalidOperationException($"{r.Image} got no answer on the {label} path: {r.Error}");
                var t = answer.Timing;
                record(byPath[r.Image], new DemoPath(answer.Top1, r.PayloadBytes, r.HeadMs, r.EncodeMs, answer.UplinkMs, t.QueueMs,
                    t.DecodeMs, t.TailMs, answer.DownlinkMs, r.HeadMs + r.EncodeMs + answer.TotalMs));
                progress(Interlocked.Increment(ref done), samples.Count, label);
            }, cancellationToken: cancellationToken);
        });
        await Task.WhenAll(clients);
    }

    /// <summary>The JPEG-offload payload: the crop resized to the model input, encoded on the device (no head runs).</summary>
    private static EncodedFrame JpegPayload(PreprocessingSpec spec, ImageBaseline jpeg, string path)
    {
        var image = RgbImage.Load(path);
        long start = Stopwatch.GetTimestamp();
        byte[] file = jpeg.Encode(ImageBaseline.ResizeForModel(image, spec));
        return new EncodedFrame(file, new TensorShape(0), 0, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
}
