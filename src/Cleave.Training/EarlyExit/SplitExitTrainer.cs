using System.Diagnostics;
using Cleave.Models.EarlyExit;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Training.Distillation;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.EarlyExit;

/// <summary>The outcome: the manifest written, the curve on the calibration images, and the curve on evaluation images when given.</summary>
public sealed record SplitExitResult(ExitManifest Manifest, ExitCalibration Calibration, ExitCalibration? Evaluation, int TrainSamples,
    double FirstLoss, double LastLoss, double CacheSeconds, double TrainSeconds)
{
    /// <summary>The calibrated threshold applied to the evaluation images.</summary>
    public ExitCurvePoint? EvaluationAtThreshold => Evaluation?.At(Calibration.Threshold);
}

/// <summary>
/// Trains an early exit for an existing split folder without labels: the frozen head's cut tensors and the frozen full
/// model's softmax are cached once with ONNX Runtime (<see cref="CutFeatureCache"/>), an exit head
/// (<see cref="ExitHeads"/>) learns KL(teacher || exit) on them, its threshold is chosen on held-out training images
/// (labels are used there only to score accuracy), and exit.onnx + exit.json are written into the folder. Evaluation
/// images, when given, are scored after everything is fixed: the curve on images never used for training or the threshold.
/// </summary>
public static class SplitExitTrainer
{
    public static SplitExitResult Train(string modelPath, string splitDirectory, IReadOnlyList<LabelledImage> images, IReadOnlyList<LabelledImage>? evaluationImages,
        SplitExitOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.Initialise();
        var model = OnnxModel.Load(modelPath);
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`)");
        var manifest = SplitManifest.Load(Path.Combine(splitDirectory, "split.json"));
        if (manifest.Cut.Count != 1) throw new NotSupportedException($"the split cuts {manifest.Cut.Count} tensors; an exit reads one");
        string cut = manifest.Cut[0].Name;
        var head = OnnxModel.Load(Path.Combine(splitDirectory, manifest.HeadFile));

        var clock = Stopwatch.StartNew();
        var (trainIndex, calibrationIndex) = TrainingLoop.Split(images.Count, options.CalibrationFraction, options.Seed);
        if (trainIndex.Length < 2 || calibrationIndex.Length < 1) throw new ArgumentException($"{images.Count} images are too few to train and calibrate an exit");
        var train = CutFeatureCache.Build(head, cut, model, [.. trainIndex.Select(i => images[i])], spec, options.Flips,
            progress: (i, name) => { if (i % 50 == 0) log?.Invoke($"caching: {i}/{trainIndex.Length} {name}"); });
        var calibration = CutFeatureCache.Build(head, cut, model, [.. calibrationIndex.Select(i => images[i])], spec);
        double cacheSeconds = clock.Elapsed.TotalSeconds;
        log?.Invoke($"cached {train.Count} training and {calibration.Count} calibration samples in {cacheSeconds:F0} s");
        long[] sample = train.SampleShape;
        if (sample.Length != 3) throw new NotSupportedException($"an exit head needs a [C,H,W] cut, '{cut}' is [{string.Join(",", sample)}]");

        manual_seed(options.Seed);
        using var exit = ExitHeads.Create(sample[0], options.Hidden, train.Outputs, density: options.Density, seed: options.Seed);
        var trainClock = Stopwatch.StartNew();
        var (first, last) = Fit(exit, train, options, log);
        double trainSeconds = trainClock.Elapsed.TotalSeconds;

        var calibrationCurve = ExitCalibration.Compute(Score(exit, calibration), options.MaxLoss);
        ExitCalibration? evaluation = null;
        if (evaluationImages is { Count: > 0 })
        {
            log?.Invoke($"scoring {evaluationImages.Count} evaluation images");
            evaluation = ExitCalibration.Compute(Score(exit, CutFeatureCache.Build(head, cut, model, evaluationImages, spec)), options.MaxLoss);
        }
        string trained = $"distilled from {Path.GetFileName(modelPath)} on {train.Count} cached samples ({trainIndex.Length} images{(options.Flips ? " + mirrored" : "")}), " +
            $"{options.Epochs} epochs, batch {options.BatchSize}, T {options.Temperature}, hidden {options.Hidden}, density {options.Density}, seed {options.Seed}; " +
            $"threshold from {calibration.Count} held-out images";
        var written = ExitExport.Write(splitDirectory, exit, cut, [1, .. sample], train.Outputs, calibrationCurve, trained);
        return new SplitExitResult(written, calibrationCurve, evaluation, train.Count, first, last, cacheSeconds, trainSeconds);
    }

    private static (double First, double Last) Fit(Layers.SequentialLayer exit, CutFeatureCache train, SplitExitOptions options, Action<string>? log)
    {
        using var features = tensor(train.Features).reshape([train.Count, .. train.SampleShape]);
        using var teacherLogits = tensor(train.Teacher).reshape(train.Count, train.Outputs).clamp_min(1e-12).log();
        // The softened teacher: softmax(log p / T).
        using var teacher = (teacherLogits / options.Temperature).softmax(1);
        return TrainingLoop.RunEpochs(exit, train.Count, options.Epochs, options.BatchSize, options.LearningRate, options.WeightDecay, options.Seed,
            index =>
            {
                var logits = exit.forward(features.index_select(0, index)) / options.Temperature;
                return DistillationLosses.KlToTeacher(logits, teacher.index_select(0, index)) * (options.Temperature * options.Temperature);
            },
            (epoch, mean) => log?.Invoke($"exit epoch {epoch + 1}/{options.Epochs}: KL {mean:F4}"));
    }

    private static List<ExitSample> Score(Layers.SequentialLayer exit, CutFeatureCache data)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var features = tensor(data.Features).reshape([data.Count, .. data.SampleShape]);
        var (confidence, exitTop1) = exit.forward(features).softmax(1).max(1);
        var fullTop1 = tensor(data.Teacher).reshape(data.Count, data.Outputs).argmax(1);
        float[] c = confidence.data<float>().ToArray();
        long[] e = exitTop1.data<long>().ToArray(), f = fullTop1.data<long>().ToArray();
        var samples = new List<ExitSample>(data.Count);
        for (int i = 0; i < data.Count; i++) samples.Add(new ExitSample(c[i], (int)e[i], (int)f[i], data.Labels[i]));
        return samples;
    }
}
