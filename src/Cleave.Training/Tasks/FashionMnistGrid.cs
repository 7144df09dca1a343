using System.Diagnostics;
using System.Globalization;
using Cleave.Codecs.IO;
using Cleave.Models.Preprocessing;
using Cleave.Training.Data;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using Cleave.Training.Loop;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Cleave.Training.Tasks;

/// <summary>What <see cref="FashionMnistGrid"/> trains: every width x depth, each with the same options and seed.</summary>
public sealed record FashionMnistGridRequest
{
    public IReadOnlyList<int> Widths { get; init; } = [8, 16, 32];
    public IReadOnlyList<int> Depths { get; init; } = [2, 3, 4];
    public required TrainingOptions Options { get; init; }
    /// <summary>Use only the first N training images (0 = all 60,000).</summary>
    public int Limit { get; init; }
    /// <summary>Score on the first N test images (0 = all 10,000).</summary>
    public int TestLimit { get; init; }
    public required string OutputDirectory { get; init; }
    public string FashionMnistFolder { get; init; } = FashionMnist.DefaultFolder;

    public void Validate()
    {
        Options.Validate();
        if (Widths.Count == 0 || Depths.Count == 0) throw new ArgumentException("the grid needs at least one width and one depth");
        if (Widths.Any(w => w is < 1 or > 256)) throw new ArgumentException("widths must be 1..256 channels");
        if (Depths.Any(d => d is < 1 or > 8)) throw new ArgumentException("depths must be 1..8 convolution stages");
        if (Widths.Distinct().Count() != Widths.Count || Depths.Distinct().Count() != Depths.Count) throw new ArgumentException("the grid lists a width or depth twice");
    }
}

/// <summary>One trained grid point: its ONNX file (with Fashion-MNIST's grey 28x28 preprocessing recorded) and its test top-1.</summary>
public sealed record FashionMnistGridPoint(int Width, int Depth, string ModelPath, long Parameters, double TestTop1, int TestImages, double Seconds, TrainingSummary Training)
{
    public string Name => NameOf(Width, Depth);

    public static string NameOf(int width, int depth) => string.Create(CultureInfo.InvariantCulture, $"fmnist-w{width}-d{depth}");
}

/// <summary>
/// A small trained search space for the joint model x cut search: plain CNNs on Fashion-MNIST over a grid of widths
/// (channels of the first stage) and depths (conv-BN-ReLU stages; stages 2 and 3 halve the resolution and double the
/// channels, later ones keep both), global pooling and a linear layer, each trained briefly with the same seed and
/// written as ONNX that `cleave plan` profiles at its cuts like any imported model (the grey 28x28 input's
/// preprocessing is in the model's metadata, and <see cref="FashionMnistImageFolder.Write"/> writes test images it reads).
/// </summary>
public static class FashionMnistGrid
{
    public static IReadOnlyList<FashionMnistGridPoint> Run(FashionMnistGridRequest request, Action<string>? log = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        TorchRuntime.Initialise();
        Directory.CreateDirectory(request.OutputDirectory);
        var train = FashionMnist.Load(limit: request.Limit > 0 ? request.Limit : null, folder: request.FashionMnistFolder);
        var test = FashionMnist.Load(test: true, limit: request.TestLimit > 0 ? request.TestLimit : null, folder: request.FashionMnistFolder);
        var points = new List<FashionMnistGridPoint>();
        foreach (int depth in request.Depths)
            foreach (int width in request.Widths)
            {
                cancellation.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                manual_seed(request.Options.Seed);
                using var net = Build(width, depth, train.ClassCount);
                var summary = Trainer.Run(net, Objectives.CrossEntropy(net.forward), train, null, request.Options, progress: null, cancellation);
                net.eval();
                var (_, accuracy) = Trainer.Evaluate(net, Objectives.CrossEntropy(net.forward), test, 256);
                string path = Path.Combine(request.OutputDirectory, FashionMnistGridPoint.NameOf(width, depth) + ".onnx");
                var model = LayerExport.ToModel(net, [1, .. train.ExampleShape], inputName: "input", outputName: "logits").Proto;
                foreach (var (key, value) in Preprocessing.ToMetadata()) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
                AtomicFile.WriteAllBytes(path, model.ToByteArray());
                var point = new FashionMnistGridPoint(width, depth, Path.GetFullPath(path), net.parameters().Sum(p => p.numel()), accuracy ?? double.NaN, test.Count,
                    clock.Elapsed.TotalSeconds, summary);
                log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{point.Name}: {point.Parameters:N0} parameters, test top-1 {100 * point.TestTop1:0.00}% on {test.Count:N0} images, {point.Seconds:0} s"));
                points.Add(point);
            }
        return points;
    }

    /// <summary>
    /// The input as <see cref="FashionMnist"/> feeds it in training: a grey 28x28 image, pixel / 255 standardised
    /// (the preprocessor turns RGB into luma first, so a grey PNG gives back its pixel values).
    /// </summary>
    public static PreprocessingSpec Preprocessing { get; } = new()
    {
        Width = 28, Height = 28, CropFraction = 1.0,
        Mean = [255 * FashionMnist.Mean], Scale = [1 / (255 * FashionMnist.Deviation)],
    };

    /// <summary>Stage i: 3x3 conv-BN-ReLU; stages 1 and 2 (0-based) use stride 2 and double the channels.</summary>
    public static SequentialLayer Build(int width, int depth, int classes)
    {
        var layers = new List<ExportableLayer>();
        long channels = 1, next = width;
        for (int i = 0; i < depth; i++)
        {
            bool down = i is 1 or 2;
            if (down) next = channels * 2;
            layers.Add(new Conv2dLayer(channels, next, 3, stride: down ? 2 : 1));
            layers.Add(new BatchNorm2dLayer(next));
            layers.Add(new ActivationLayer());
            channels = next;
        }
        layers.Add(new PoolLayer(PoolKind.GlobalAverage));
        layers.Add(new LinearLayer(channels, classes));
        return new SequentialLayer([.. layers]);
    }
}
