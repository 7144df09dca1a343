using System.Diagnostics;
using Cleave.Codecs.IO;
using Cleave.Models.EarlyExit;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;
using Cleave.Training.Data;
using Cleave.Training.Distillation;
using Cleave.Training.EarlyExit;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using Cleave.Training.Loop;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Cleave.Training.Tasks;

/// <summary>What <see cref="ExitCnnTraining"/> trains and how.</summary>
public sealed record ExitCnnRequest
{
    /// <summary>Connections kept in the predefined-sparse layers (1/G); 1 trains the dense network of the same shape.</summary>
    public double Density { get; init; } = 0.125;
    /// <summary>
    /// Per-layer densities of the four trunk layers (W -> 2W, 2W -> 2W, 2W -> 4W, 4W -> 4W), each 1/G; null uses
    /// <see cref="Density"/> in all four. The exit's convolution (it reads the cut as the third layer does) takes the third's.
    /// </summary>
    public IReadOnlyList<double>? LayerDensities { get; init; }
    /// <summary>An ONNX classifier (images in, logits out) whose softened outputs the trunk also learns from; null trains on labels alone.</summary>
    public string? TeacherPath { get; init; }
    /// <summary>Share of the trunk's loss from the teacher (the rest is cross-entropy against the labels).</summary>
    public double TeacherWeight { get; init; } = 0.5;
    /// <summary>Softening temperature of the teacher's and the trunk's distributions (the KL term is scaled by T²).</summary>
    public double Temperature { get; init; } = 4;

    /// <summary>The four trunk layers' densities, validated: exactly four, each 1/G.</summary>
    public double[] TrunkDensities()
    {
        double[] densities = LayerDensities is null ? [Density, Density, Density, Density] : [.. LayerDensities];
        if (densities.Length != 4) throw new ArgumentException($"the trunk has 4 sparse layers, got {densities.Length} densities");
        foreach (double d in densities) SparseConv2dLayer.GroupsFor(d);
        return densities;
    }
    /// <summary>Channels of the stem; the trunk uses 2x and 4x this.</summary>
    public int Width { get; init; } = 32;
    /// <summary>Use only the first N training images (0 = all 60,000).</summary>
    public int Limit { get; init; }
    /// <summary>Share of the training images held out to calibrate the exit threshold (never trained on).</summary>
    public double CalibrationFraction { get; init; } = 0.1;
    /// <summary>Overall accuracy the exit may cost (0.01 = 1 point) when its threshold is chosen.</summary>
    public double MaxLoss { get; init; } = 0.01;
    public int ExitSteps { get; init; } = 300;
    /// <summary>Score the 10,000 test images at the end (off in smoke tests).</summary>
    public bool Test { get; init; } = true;
    public required TrainingOptions Options { get; init; }
    /// <summary>Split folder written: split.json, head.onnx, tail.onnx, exit.onnx, exit.json, and model.onnx (unsplit).</summary>
    public required string OutputDirectory { get; init; }
}

/// <summary>Sizes and costs of the exported network.</summary>
public sealed record ExitCnnCost(long Parameters, long Macs, long HeadMacs, long ExitParameters, long ExitMacs, long OnnxBytes, double OrtMilliseconds);

/// <summary>The outcome: trunk training, the exit's calibration, and (with <see cref="ExitCnnRequest.Test"/>) the test-set curve.</summary>
public sealed record ExitCnnResult(TrainingSummary Trunk, TrainingSummary Exit, ExitCnnCost Cost, ExitCalibration Calibration,
    ExitCalibration? Test, string OutputDirectory, double Seconds)
{
    /// <summary>The chosen threshold applied to the test images (null without a test run).</summary>
    public ExitCurvePoint? TestAtThreshold => Test?.At(Calibration.Threshold);
}

/// <summary>
/// A small CNN for Fashion-MNIST trained from scratch with a cut inside its trunk: stem (dense 3x3, 1 -> W), then four
/// 3x3 layers W -> 2W (stride 2), 2W -> 2W | cut | 2W -> 4W (stride 2), 4W -> 4W that are predefined-sparse at
/// <see cref="ExitCnnRequest.Density"/>, global pooling and a linear layer. Then an exit head at the cut is trained by
/// distillation from the frozen full network (its softmax; no labels), its threshold is chosen on held-out training
/// images, and the whole is written as a split folder with the exit beside it.
/// </summary>
public static class ExitCnnTraining
{
    public const string CutName = "cut";

    public static ExitCnnResult Run(ExitCnnRequest request, IProgress<TrainingProgress>? progress = null, Action<string>? log = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Validate();
        double[] densities = request.TrunkDensities();
        int w = request.Width;
        long[] inputs = [w, 2 * w, 2 * w, 4 * w];
        long[] outputs = [2 * w, 2 * w, 4 * w, 4 * w];
        for (int i = 0; i < 4; i++)
        {
            long groups = SparseConv2dLayer.GroupsFor(densities[i]);
            if (w < 1 || inputs[i] % groups != 0 || outputs[i] % groups != 0)
                throw new ArgumentException($"density 1/{groups} in trunk layer {i + 1} needs {inputs[i]} and {outputs[i]} channels divisible by {groups} (width {w})");
        }
        // Loaded first so a missing or unreadable teacher fails before minutes of data loading.
        using var teacher = request.TeacherPath is null ? null : OnnxTeacher.Load(request.TeacherPath);
        TorchRuntime.Initialise();
        var clock = Stopwatch.StartNew();
        var all = FashionMnist.Load(limit: request.Limit > 0 ? request.Limit : null);
        var (train, calibration) = ExampleSubset.Split(all, request.CalibrationFraction, request.Options.Seed);
        manual_seed(request.Options.Seed);
        int seed = request.Options.Seed;
        ExportableLayer Trunk(long input, long output, long stride, int layer) => densities[layer - 1] < 1
            ? new SparseConv2dLayer(input, output, 3, densities[layer - 1], seed * 100 + layer, stride)
            : new Conv2dLayer(input, output, 3, stride);
        using var head = new SequentialLayer(
            new Conv2dLayer(1, w, 3), new BatchNorm2dLayer(w), new ActivationLayer(),
            Trunk(w, 2 * w, 2, 1), new BatchNorm2dLayer(2 * w), new ActivationLayer(),
            Trunk(2 * w, 2 * w, 1, 2), new BatchNorm2dLayer(2 * w), new ActivationLayer());
        using var tail = new SequentialLayer(
            Trunk(2 * w, 4 * w, 2, 3), new BatchNorm2dLayer(4 * w), new ActivationLayer(),
            Trunk(4 * w, 4 * w, 1, 4), new BatchNorm2dLayer(4 * w), new ActivationLayer(),
            new PoolLayer(PoolKind.GlobalAverage), new LinearLayer(4 * w, all.ClassCount));
        using var net = new SequentialLayer(head, tail);
        log?.Invoke($"trunk: {train.Count} training images, {calibration.Count} held out, densities {string.Join(", ", densities)}"
            + (request.TeacherPath is null ? "" : $", teacher {request.TeacherPath} (weight {request.TeacherWeight}, T {request.Temperature})"));
        var objective = teacher is null
            ? Objectives.CrossEntropy(net.forward)
            : Objectives.DistillationWithLabels(net.forward, teacher.Logits, request.Temperature, request.TeacherWeight);
        var trunkSummary = Trainer.Run(net, objective, train, calibration, request.Options, progress, cancellation);

        // The exit learns from the frozen network alone: the cut tensor in, the full model's softmax as the target.
        net.eval();
        foreach (var p in net.parameters()) p.requires_grad_(false);
        long[] cutShape = head.OutputShape([1, .. all.ExampleShape]);
        using var exit = ExitHeads.Create(cutShape[1], 4 * w, all.ClassCount, kernel: 3, stride: 2, density: densities[2], seed: seed * 100 + 9);
        Tensor HeadNoGrad(Tensor x) { using var _ = no_grad(); return head.forward(x); }
        var exitOptions = request.Options with { Steps = request.ExitSteps, CheckpointPath = null, Resume = false, WarmupSteps = Math.Min(request.Options.WarmupSteps, request.ExitSteps / 2) };
        log?.Invoke("exit: distillation from the frozen network");
        var exitSummary = Trainer.Run(exit, Objectives.Distillation(x => exit.forward(HeadNoGrad(x)), net.forward), train, calibration, exitOptions, progress, cancellation);
        exit.eval();

        var calibrationCurve = ExitCalibration.Compute(ExitScoring.Score(head.forward, exit.forward, tail.forward, calibration), request.MaxLoss);
        ExitCalibration? testCurve = null;
        if (request.Test)
        {
            log?.Invoke("scoring the 10,000 test images");
            testCurve = ExitCalibration.Compute(ExitScoring.Score(head.forward, exit.forward, tail.forward, FashionMnist.Load(test: true)), request.MaxLoss);
        }

        var cost = Export(request, head, tail, exit, cutShape, all.ClassCount, calibrationCurve, trunkSummary, exitSummary);
        return new ExitCnnResult(trunkSummary, exitSummary, cost, calibrationCurve, testCurve, Path.GetFullPath(request.OutputDirectory), clock.Elapsed.TotalSeconds);
    }

    private static ExitCnnCost Export(ExitCnnRequest request, SequentialLayer head, SequentialLayer tail, SequentialLayer exit, long[] cutShape, int classes,
        ExitCalibration calibration, TrainingSummary trunk, TrainingSummary exitSummary)
    {
        // One graph, head then tail joined at a tensor named "cut", so the split is an ordinary `cleave split` of it.
        long[] inputShape = [1, .. FashionMnist.Load(limit: 1).ExampleShape];
        var headGraph = LayerExport.Emit(head, "input", CutName, "head/");
        var tailGraph = LayerExport.Emit(tail, CutName, "logits", "tail/");
        var graph = new GraphProto { Name = "fashion_mnist_exit_cnn" };
        graph.Input.Add(OnnxGraphBuilder.ValueInfo("input", OnnxElementType.Float, inputShape, "N"));
        graph.Output.Add(OnnxGraphBuilder.ValueInfo("logits", OnnxElementType.Float, [1, classes], "N"));
        graph.Node.AddRange(headGraph.Node);
        graph.Node.AddRange(tailGraph.Node);
        graph.Initializer.AddRange(headGraph.Initializer);
        graph.Initializer.AddRange(tailGraph.Initializer);
        var proto = new ModelProto { IrVersion = 8, ProducerName = "cleave-training", Graph = graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = LayerExport.Opset });
        var model = OnnxModel.FromProto(proto);
        byte[] bytes = proto.ToByteArray();

        Directory.CreateDirectory(request.OutputDirectory);
        AtomicFile.WriteAllBytes(Path.Combine(request.OutputDirectory, "model.onnx"), bytes);
        var analysis = new SplitAnalysis(model);
        var report = ModelInspector.Inspect(analysis);
        var split = ModelSplitter.Split(analysis, [CutName], "model.onnx");
        split.Save(request.OutputDirectory);
        long headMacs = ModelInspector.Inspect(new SplitAnalysis(split.Head)).Macs;
        string teacher = request.TeacherPath is null ? "" : $", taught by {Path.GetFileName(request.TeacherPath)} (weight {request.TeacherWeight}, T {request.Temperature})";
        string trained = $"Fashion-MNIST, densities {string.Join(", ", request.TrunkDensities())}{teacher}, trunk {trunk.Steps} steps, exit {exitSummary.Steps} distillation steps, batch {request.Options.BatchSize}, seed {request.Options.Seed}";
        var manifest = ExitExport.Write(request.OutputDirectory, exit, CutName, cutShape, classes, calibration, trained);

        var symbols = DummyInputs.ResolveSymbols(model.Graph);
        double ms = LatencyProfiler.MeasureModel(bytes, DummyInputs.Create(model.Graph, symbols), runs: 200, intraOpThreads: 1);
        return new ExitCnnCost(report.Parameters, report.Macs, headMacs, manifest.Parameters, manifest.Macs, bytes.Length, ms);
    }
}
