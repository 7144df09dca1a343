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

/// <summary>What <see cref="ClassifierTraining"/> trains on and how.</summary>
public sealed record ClassifierTrainingRequest
{
    /// <summary>"fashion-mnist", or a labelled image folder (labels.csv, or wnid file names with <see cref="WnidsFile"/>).</summary>
    public required string Data { get; init; }
    public string? WnidsFile { get; init; }
    /// <summary>Side of the square input for image folders (Fashion-MNIST is 28).</summary>
    public int ImageSize { get; init; } = 64;
    /// <summary>Use only the first N examples (0 = all).</summary>
    public int Limit { get; init; }
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>Channels of the first convolution; the network doubles them twice.</summary>
    public int Width { get; init; } = 16;
    public bool Augment { get; init; }
    public required TrainingOptions Options { get; init; }
    /// <summary>Where the trained model is written as ONNX (atomically).</summary>
    public required string OutputPath { get; init; }
}

/// <summary>The outcome: the summary of the run and the ONNX model written.</summary>
public sealed record ClassifierTrainingResult(TrainingSummary Summary, string OutputPath, long OutputBytes, int Classes, long Parameters);

/// <summary>
/// Trains a small exportable CNN classifier (three conv-BN-ReLU stages, a residual block, global pooling, a linear
/// layer) and writes it as ONNX: the plumbing every later training kind shares (data, split, loop, export).
/// </summary>
public static class ClassifierTraining
{
    public static ClassifierTrainingResult Run(ClassifierTrainingRequest request, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Validate();
        TorchRuntime.Initialise();
        var (examples, spec) = LoadData(request);
        if (examples.ClassCount < 2) throw new ArgumentException($"'{request.Data}' has {examples.ClassCount} classes; a classifier needs at least 2");
        var (train, validation) = ExampleSubset.Split(examples, request.ValidationFraction, request.Options.Seed);
        var options = request.Augment && spec is not null
            ? request.Options with { Augmentation = new Augmentation { Mean = spec.Mean, Scale = spec.Scale } }
            : request.Options;

        manual_seed(request.Options.Seed);
        long channels = examples.ExampleShape[0];
        int w = request.Width;
        using var net = new SequentialLayer(
            new Conv2dLayer(channels, w, 3, stride: 2), new BatchNorm2dLayer(w), new ActivationLayer(),
            new Conv2dLayer(w, 2 * w, 3, stride: 2), new BatchNorm2dLayer(2 * w), new ActivationLayer(),
            new ResidualLayer(new SequentialLayer(new Conv2dLayer(2 * w, 2 * w, 3), new BatchNorm2dLayer(2 * w), new ActivationLayer(relu6: true),
                new Conv2dLayer(2 * w, 2 * w, 3), new BatchNorm2dLayer(2 * w))),
            new Conv2dLayer(2 * w, 4 * w, 3, stride: 2), new BatchNorm2dLayer(4 * w), new ActivationLayer(),
            new PoolLayer(PoolKind.GlobalAverage), new LinearLayer(4 * w, examples.ClassCount));
        var summary = Trainer.Run(net, Objectives.CrossEntropy(net.forward), train, validation, options, progress, cancellation);

        var model = LayerExport.ToModel(net, [1, .. examples.ExampleShape], inputName: spec?.InputName ?? "input", outputName: "logits").Proto;
        if (spec is not null)
            foreach (var (key, value) in spec.ToMetadata()) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        byte[] bytes = model.ToByteArray();
        AtomicFile.WriteAllBytes(request.OutputPath, bytes);
        long parameters = net.parameters().Sum(p => p.numel());
        return new ClassifierTrainingResult(summary, Path.GetFullPath(request.OutputPath), bytes.Length, examples.ClassCount, parameters);
    }

    private static (IExampleSet Examples, PreprocessingSpec? Spec) LoadData(ClassifierTrainingRequest request)
    {
        if (request.Data == "fashion-mnist")
            return (FashionMnist.Load(limit: request.Limit > 0 ? request.Limit : null), null);
        var spec = PreprocessingSpec.MinusOneToOne(request.ImageSize, request.ImageSize, 1.0);
        var labels = Cleave.Evaluation.Datasets.ImageFolder.Load(request.Data, request.WnidsFile);
        int classes = labels.Max(l => l.ClassIndex) + 1;
        IExampleSet examples = ImageFolderExamples.Labelled(request.Data, request.WnidsFile, spec, classes);
        if (request.Limit > 0 && request.Limit < examples.Count) examples = new ExampleSubset(examples, [.. Enumerable.Range(0, request.Limit)]);
        return (examples, spec);
    }
}
