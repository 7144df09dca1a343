using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Gating;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;
using Cleave.Training.Distillation;
using Cleave.Training.EarlyExit;
using Cleave.Training.Layers;
using static TorchSharp.torch;

namespace Cleave.Training.Gating;

/// <summary>What a gate run produced: the manifest written, the curves, and the gate's cost beside the head's.</summary>
public sealed record GateTrainingResult(GateManifest Manifest, GateEvaluation Calibration, GateEvaluation? Evaluation, int TrainSamples,
    IReadOnlyList<int> LabelCounts, double FirstLoss, double LastLoss, double CacheSeconds, double TrainSeconds,
    long HeadMacs, double HeadMilliseconds, double GateMilliseconds);

/// <summary>
/// Trains a per-input gate among codec configurations (NaviSplit-style, docs/trained-architectures.md "Per-input gate"):
/// the frozen head's cut tensors and the full model's answers are cached once with ONNX Runtime, every cached tensor is
/// coded with every configuration of the ladder and run through the tail (<see cref="GateRuns"/>), and a small
/// classifier on the cut tensor (<see cref="ExitHeads"/>' shape: 1x1 conv, batch norm, ReLU, pooling, linear) learns
/// each input's cheapest configuration that still agrees with the full model. The threshold (<see cref="GatePolicy"/>)
/// is chosen on held-out training images; gate.onnx + gate.json are written into the split folder. Evaluation images,
/// when given, are scored after everything is fixed.
/// </summary>
public static class GateTrainer
{
    /// <param name="trained">called with the trained gate (inference mode) before it is disposed, e.g. to compare it with gate.onnx</param>
    public static GateTrainingResult Train(string modelPath, string splitDirectory, IReadOnlyList<LabelledImage> images, IReadOnlyList<LabelledImage>? evaluationImages,
        GateOptions options, Action<string>? log = null, Action<SequentialLayer>? trained = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var ladder = options.Codecs.Select(FeatureCodecs.Create).ToList();
        TorchRuntime.Initialise();
        var model = OnnxModel.Load(modelPath);
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`)");
        var manifest = SplitManifest.Load(Path.Combine(splitDirectory, "split.json"));
        if (manifest.Cut.Count != 1) throw new NotSupportedException($"the split cuts {manifest.Cut.Count} tensors; a gate reads one");
        string cut = manifest.Cut[0].Name;
        var head = OnnxModel.Load(Path.Combine(splitDirectory, manifest.HeadFile));
        var tail = OnnxModel.Load(Path.Combine(splitDirectory, manifest.TailFile));

        var clock = Stopwatch.StartNew();
        var (trainIndex, calibrationIndex) = TrainingLoop.Split(images.Count, options.CalibrationFraction, options.Seed);
        if (trainIndex.Length < 2 || calibrationIndex.Length < 1) throw new ArgumentException($"{images.Count} images are too few to train and calibrate a gate");
        var (train, trainRuns) = Runs(head, cut, model, tail, [.. trainIndex.Select(i => images[i])], spec, options.Flips, ladder, "training", log);
        var (calibration, calibrationRuns) = Runs(head, cut, model, tail, [.. calibrationIndex.Select(i => images[i])], spec, false, ladder, "calibration", log);
        double cacheSeconds = clock.Elapsed.TotalSeconds;
        long[] sample = train.SampleShape;
        if (sample.Length != 3) throw new NotSupportedException($"a gate needs a [C,H,W] cut, '{cut}' is [{string.Join(",", sample)}]");
        int[] labels = [.. trainRuns.Select(r => r.CheapestAgreeing)];
        var labelCounts = Enumerable.Range(0, ladder.Count).Select(k => labels.Count(l => l == k)).ToArray();
        log?.Invoke($"calibration runs over {ladder.Count} configurations in {cacheSeconds:F0} s; cheapest agreeing configuration of the training samples: {string.Join(" / ", labelCounts)}");

        manual_seed(options.Seed);
        using var gate = ExitHeads.Create(sample[0], options.Hidden, ladder.Count);
        var trainClock = Stopwatch.StartNew();
        var (first, last) = Fit(gate, train, labels, options, log);
        double trainSeconds = trainClock.Elapsed.TotalSeconds;
        trained?.Invoke(gate);

        var calibrationCurve = GateEvaluation.Compute(calibrationRuns, Scores(gate, calibration), options.MaxLoss);
        GateEvaluation? evaluation = null;
        if (evaluationImages is { Count: > 0 })
        {
            var (evalCache, evalRuns) = Runs(head, cut, model, tail, evaluationImages, spec, false, ladder, "evaluation", log);
            var curve = GateEvaluation.Compute(evalRuns, Scores(gate, evalCache), options.MaxLoss);
            // The threshold is the calibration's; the evaluation images only report what it gives there.
            evaluation = curve with { Threshold = calibrationCurve.Threshold };
        }
        string description = $"cheapest configuration agreeing with {Path.GetFileName(modelPath)} over {ladder.Count} codec settings, cross-entropy on {train.Count} cached samples " +
            $"({trainIndex.Length} images{(options.Flips ? " + mirrored" : "")}), {options.Epochs} epochs, batch {options.BatchSize}, hidden {options.Hidden}, seed {options.Seed}; " +
            $"threshold from {calibration.Count} held-out images (max loss {options.MaxLoss * 100:0.##} points vs the best static configuration)";
        var written = GateExport.Write(splitDirectory, gate, cut, [1, .. sample], options.Codecs, calibrationCurve, description);

        var headReport = ModelInspector.Inspect(new SplitAnalysis(head));
        long[] inputShape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];
        string input = head.Graph.Inputs[0];
        var pixels = ImagePreprocessor.Process(RgbImage.Load(images[0].Path), spec);
        double headMs = LatencyProfiler.MeasureModel(head.ToBytes(), new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, inputShape, pixels) },
            Math.Max(5, options.LatencyRuns / 5), intraOpThreads: 1);
        double gateMs = LatencyProfiler.MeasureModel(File.ReadAllBytes(Path.Combine(splitDirectory, written.GateFile)),
            new Dictionary<string, HostTensor> { [cut] = new(OnnxElementType.Float, [1, .. sample], train.Features.AsSpan(0, (int)train.SampleElements).ToArray()) },
            options.LatencyRuns, intraOpThreads: 1);
        return new GateTrainingResult(written, calibrationCurve, evaluation, train.Count, labelCounts, first, last, cacheSeconds, trainSeconds,
            headReport.Macs, headMs, gateMs);
    }

    private static (CutFeatureCache Cache, GateOutcome[] Runs) Runs(OnnxModel head, string cut, OnnxModel model, OnnxModel tail, IReadOnlyList<LabelledImage> images,
        PreprocessingSpec spec, bool flips, IReadOnlyList<FeatureCodec> ladder, string what, Action<string>? log)
    {
        var cache = CutFeatureCache.Build(head, cut, model, images, spec, flips,
            progress: (i, name) => { if (i % 50 == 0) log?.Invoke($"caching {what} features: {i}/{images.Count} {name}"); });
        var runs = GateRuns.Measure(cache, tail, cut, ladder, i => { if (i % 100 == 0) log?.Invoke($"{what} runs: {i}/{cache.Count}"); });
        return (cache, runs);
    }

    private static (double First, double Last) Fit(SequentialLayer gate, CutFeatureCache train, int[] labels, GateOptions options, Action<string>? log)
    {
        using var features = tensor(train.Features).reshape([train.Count, .. train.SampleShape]);
        using var targets = tensor(labels.Select(l => (long)l).ToArray());
        return TrainingLoop.RunEpochs(gate, train.Count, options.Epochs, options.BatchSize, options.LearningRate, options.WeightDecay, options.Seed,
            index => DistillationLosses.CrossEntropy(gate.forward(features.index_select(0, index)), targets.index_select(0, index)),
            (epoch, mean) => { if (epoch % 5 == 4 || epoch == options.Epochs - 1) log?.Invoke($"gate epoch {epoch + 1}/{options.Epochs}: cross-entropy {mean:F4}"); });
    }

    /// <summary>The gate's scores for every cached sample (inference mode).</summary>
    public static List<float[]> Scores(SequentialLayer gate, CutFeatureCache data)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(data);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var features = tensor(data.Features).reshape([data.Count, .. data.SampleShape]);
        var scores = gate.forward(features).contiguous();
        int k = (int)scores.shape[1];
        float[] flat = scores.data<float>().ToArray();
        return [.. Enumerable.Range(0, data.Count).Select(i => flat.AsSpan(i * k, k).ToArray())];
    }
}
