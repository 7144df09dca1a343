using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Training.Adapter;
using Cleave.Training.Distillation;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using static TorchSharp.torch;

namespace Cleave.Training.Resilience;

/// <summary>What an error-aware run produced: the split folder written, agreement on damaged held-out samples before and after, the cost.</summary>
public sealed record ErrorAwareResult(string OutputDirectory, string ManifestHash, long TrainableParameters, int TrainSamples, int DamagedSamples,
    double ConcealedGroupsPercent, int ValidationSamples, double AgreementBefore, double AgreementAfter, double FirstLoss, double LastLoss, int Steps,
    double CacheSeconds, double TrainSeconds);

/// <summary>
/// Error-aware decoding (SemanticNN-style, docs/resilience.md "Error-aware decoding"): a zero-initialised residual
/// adapter (<see cref="ResidualAdapter"/>) in front of the frozen tail learns, on the server side, to answer from damaged
/// features. Its training inputs are resilient frames of the cached cut tensors damaged by the bit-error channel and
/// decoded with the server's concealment (<see cref="DamagedFeatures"/>); its target is the frozen full model's output
/// on the clean image (KL). The adapter is merged into tail.onnx of a copy of the split (head.onnx and the bytes on the
/// wire unchanged), so a server that knows the channel is bad serves that tail.
/// </summary>
public static class ErrorAwareTrainer
{
    public static ErrorAwareResult Train(string splitDirectory, string modelPath, IReadOnlyList<LabelledImage> images, string outputDirectory,
        ErrorAwareOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (images.Count < 2) throw new ArgumentException($"training an error-aware decoder needs at least 2 images, got {images.Count}");
        var inner = FeatureCodecs.Create(options.Codec);
        if (inner is ResilientCodec) throw new ArgumentException("give the plain codec; the frames are wrapped in the resilient layout here");
        var codec = ResilientCodec.FromSpec($"{ResilientCodec.Name}:{options.Resilient}/{inner.Spec}");
        TorchRuntime.Initialise();
        var manifest = SplitManifest.Load(Path.Combine(splitDirectory, "split.json"));
        if (manifest.Cut.Count != 1) throw new NotSupportedException("an error-aware decoder needs a split with one cut tensor");
        string cut = manifest.Cut[0].Name;
        var head = OnnxModel.Load(Path.Combine(splitDirectory, manifest.HeadFile));
        var tailModel = OnnxModel.Load(Path.Combine(splitDirectory, manifest.TailFile));
        var full = OnnxModel.Load(modelPath);
        if (!string.Equals(full.Sha256, manifest.SourceSha256, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{splitDirectory}' was not cut from '{modelPath}' (source hashes differ)");
        var spec = PreprocessingSpec.FromMetadata(head.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? PreprocessingSpec.FromMetadata(full.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException("neither the head nor the model records its preprocessing (import with `cleave import`)");

        var clock = Stopwatch.StartNew();
        var (trainIndex, validationIndex) = TrainingLoop.Split(images.Count, options.ValidationFraction, options.Seed);
        var train = CutFeatureCache.Build(head, cut, full, [.. trainIndex.Select(i => images[i])], spec, options.Flips,
            progress: (i, name) => { if (i % 50 == 0) log?.Invoke($"caching features: {i}/{trainIndex.Length} {name}"); });
        var damaged = DamagedFeatures.Build(train, codec, options.Channels, options.Copies, options.Seed);
        CutFeatureCache? validation = validationIndex.Length == 0 ? null : CutFeatureCache.Build(head, cut, full, [.. validationIndex.Select(i => images[i])], spec);
        // Other flips than training's: the seed is moved far from the training channels' seeds.
        var damagedValidation = validation is null ? null : DamagedFeatures.Build(validation, codec, options.Channels, options.Copies, options.Seed + 1_000_003);
        double cacheSeconds = clock.Elapsed.TotalSeconds;
        double concealedPercent = damaged.Groups == 0 ? 0 : 100.0 * damaged.ConcealedGroups / damaged.Groups;
        log?.Invoke($"cached {train.Count} samples, {damaged.Count} damaged copies ({damaged.Refused} refused, {concealedPercent:F1} % of groups concealed) in {cacheSeconds:F0} s");
        if (damaged.Count == 0) throw new InvalidOperationException("every damaged frame was refused; the channel destroys the headers, nothing to train on");

        manual_seed(options.Seed);
        var random = new Random(options.Seed);
        long[] sample = train.SampleShape;
        using var tail = new FrozenTail(tailModel);
        using var adapter = ResidualAdapter.Create(sample[0], options.Rank);
        long parameters = adapter.parameters().Sum(p => p.numel());
        using var inputs = tensor(damaged.Features).reshape([damaged.Count, .. sample]);
        using var teacher = tensor(train.Teacher).reshape(train.Count, train.Outputs).index_select(0, tensor(damaged.Source.Select(i => (long)i).ToArray()));
        double before = damagedValidation is null ? double.NaN : Agreement(adapter, tail, damagedValidation, validation!, sample);
        if (!double.IsNaN(before)) log?.Invoke($"validation before training (concealment only): agreement with the full model {before:P1} on {damagedValidation!.Count} damaged samples");

        int batchesPerEpoch = (damaged.Count + options.BatchSize - 1) / options.BatchSize;
        int totalSteps = options.Epochs * batchesPerEpoch;
        if (options.MaxSteps > 0) totalSteps = Math.Min(totalSteps, options.MaxSteps);
        using var optimizer = optim.AdamW(adapter.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        var schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, Math.Max(1, totalSteps));
        var trainClock = Stopwatch.StartNew();
        int step = 0;
        double first = double.NaN, last = double.NaN, windowSum = 0;
        int window = 0;
        adapter.train();
        for (int epoch = 1; epoch <= options.Epochs && step < totalSteps && !OutOfTime(); epoch++)
        {
            foreach (var batch in TrainingLoop.Batches(damaged.Count, options.BatchSize, random))
            {
                if (step >= totalSteps || OutOfTime()) break;
                using var scope = NewDisposeScope();
                using var index = tensor(batch);
                var loss = DistillationLosses.KlToTeacher(tail.Logits(adapter.forward(inputs.index_select(0, index))), teacher.index_select(0, index));
                double value = TrainingLoop.Step(loss, optimizer, schedule, step);
                step++;
                if (double.IsNaN(first)) first = value;
                windowSum += value;
                window++;
                if (step % 20 == 0 || step == totalSteps)
                {
                    last = windowSum / window;
                    log?.Invoke($"step {step}/{totalSteps} (epoch {epoch}): KL {last:F4} over the last {window} steps; {trainClock.Elapsed.TotalSeconds:F0} s");
                    windowSum = 0;
                    window = 0;
                }
            }
        }
        if (window > 0) last = windowSum / window;
        double trainSeconds = trainClock.Elapsed.TotalSeconds;
        bool OutOfTime() => options.MaxSeconds > 0 && trainClock.Elapsed.TotalSeconds >= options.MaxSeconds;
        adapter.eval();
        double after = damagedValidation is null ? double.NaN : Agreement(adapter, tail, damagedValidation, validation!, sample);
        if (!double.IsNaN(after)) log?.Invoke($"validation after training: agreement {after:P1} (was {before:P1})");

        var written = SplitAttachment.Attach(splitDirectory, outputDirectory, deviceLayer: null, serverLayer: adapter);
        return new ErrorAwareResult(outputDirectory, written.ComputeHash(), parameters, train.Count, damaged.Count, concealedPercent,
            damagedValidation?.Count ?? 0, before, after, first, last, step, cacheSeconds, trainSeconds);
    }

    /// <summary>Share of damaged samples whose adapted tail's top-1 equals the full model's on the clean image.</summary>
    private static double Agreement(ResidualLayer adapter, FrozenTail tail, DamagedFeatures damaged, CutFeatureCache clean, long[] sample)
    {
        using var _ = no_grad();
        bool wasTraining = adapter.training;
        adapter.eval();
        int agree = 0;
        int n = checked((int)clean.SampleElements);
        for (int start = 0; start < damaged.Count; start += 16)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(16, damaged.Count - start);
            var x = tensor(damaged.Features.AsSpan(start * n, count * n).ToArray()).reshape([count, .. sample]);
            long[] top1 = tail.Logits(adapter.forward(x)).argmax(1).data<long>().ToArray();
            for (int k = 0; k < count; k++)
            {
                int source = damaged.Source[start + k];
                if (top1[k] == ImageNetSample.TopK(clean.Teacher.AsSpan(source * clean.Outputs, clean.Outputs), 1)[0]) agree++;
            }
        }
        if (wasTraining) adapter.train();
        return (double)agree / Math.Max(1, damaged.Count);
    }
}
