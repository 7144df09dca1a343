using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Training.Data;
using Cleave.Training.Distillation;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using Cleave.Training.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Adapter;

/// <summary>What an adapter (or head fine-tuning) run produced.</summary>
public sealed record AdapterResult(string OutputDirectory, string ManifestHash, AdapterMode Mode, long TrainableParameters, int TrainSamples,
    int ValidationImages, IReadOnlyList<EpochReport> Epochs, double CacheSeconds, double TrainSeconds, long PeakRssBytes, int ShiftDraws, int Steps)
{
    /// <summary>Seconds spent computing the feature loss's channel weights (the Fisher pass; part of <see cref="TrainSeconds"/>).</summary>
    public double WeightsSeconds { get; init; }

    /// <summary>The feature loss's channel weights (empty for the other losses), as used: 1/variance or mean-1 weights.</summary>
    public IReadOnlyList<float> FeatureWeights { get; init; } = [];

    /// <summary>Adapters trained and averaged into the one shipped (<see cref="AdapterOptions.Ensemble"/>; 1 in head mode).</summary>
    public int Members { get; init; } = 1;

    /// <summary>Parameters of the shipped (fused) adapter; 0 in head mode.</summary>
    public long AdapterParameters { get; init; }

    /// <summary>Multiply-accumulates of the shipped (fused) adapter per image; 0 in head mode.</summary>
    public long AdapterMacs { get; init; }
}

/// <summary>
/// Adapting a split to one user's camera (SALT-style, <c>cleave train adapter</c>): the user's images are seen through
/// a <see cref="CameraShift"/>, and either a small residual adapter after the frozen head (<see cref="AdapterMode.Adapter"/>)
/// or the whole head (<see cref="AdapterMode.Head"/>, the comparison) is trained through the frozen tail: gradients flow
/// through the tail's operations, its weights never change. The adapter is merged into head.onnx after the cut, so the
/// cut tensor, tail.onnx and the bytes on the wire stay as they were. With <see cref="AdapterLoss.Feature"/> the target is
/// the head's own cut tensor on the unshifted image: a dense target (every channel at every position) rather than one
/// label or one output vector per image, and exactly what an adapter at the cut can do (undo the shift's effect there),
/// so training needs neither the tail nor the teacher and a step costs only the adapter.
/// </summary>
public static class AdapterTrainer
{
    public static AdapterResult Train(string splitDirectory, string modelPath, IReadOnlyList<LabelledImage> images, CameraShift? shift,
        string outputDirectory, AdapterOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(options);
        if (images.Count < 2) throw new ArgumentException($"training an adapter needs at least 2 images, got {images.Count}");
        if (options.ShiftDraws is < 1 or > CutFeatureCache.MaxShiftDraws)
            throw new ArgumentException($"noise draws must be 1..{CutFeatureCache.MaxShiftDraws}, got {options.ShiftDraws}");
        if (options.ShiftDraws > 1 && shift is null) throw new ArgumentException("noise draws need a camera shift");
        if (options.Views is < 0 or > RandomViews.MaxCount) throw new ArgumentException($"random views must be 0..{RandomViews.MaxCount}, got {options.Views}");
        if (options.Views > 0 && options.Mode == AdapterMode.Head) throw new ArgumentException("random views are for the adapter; head fine-tuning trains on the images themselves");
        if (options.Ensemble is < 1 or > AdapterEnsemble.MaxMembers) throw new ArgumentException($"an adapter ensemble has 1..{AdapterEnsemble.MaxMembers} members, got {options.Ensemble}");
        if (options.Ensemble > 1 && options.Mode == AdapterMode.Head) throw new ArgumentException("an ensemble is of adapters; head fine-tuning trains one head");
        if (!Enum.IsDefined(options.ViewMix)) throw new ArgumentException($"unknown view mix {(int)options.ViewMix}");
        if (options.ViewMix != ViewMix.None && options.Views == 0) throw new ArgumentException($"mixing views ({options.ViewMix}) needs random views (Views above 0)");
        if (options.ValidateEvery < 1) throw new ArgumentException($"the validation interval must be at least 1 epoch, got {options.ValidateEvery}");
        if (!(options.DistillWeight >= 0) || double.IsInfinity(options.DistillWeight)) throw new ArgumentException($"the distillation weight must be finite and not negative, got {options.DistillWeight}");
        bool featureLoss = options.Loss is AdapterLoss.Feature or AdapterLoss.FeatureDistill;
        if (options.FeatureWeights != FeatureWeighting.Variance && !featureLoss) throw new ArgumentException("channel weights are for the feature loss (--loss feature or feature+distill)");
        bool tailInLoss = options.Loss != AdapterLoss.Feature;
        var codec = FeatureCodecs.Create(options.Codec);
        TorchRuntime.Initialise();
        var manifest = SplitManifest.Load(Path.Combine(splitDirectory, "split.json"));
        if (manifest.Cut.Count != 1) throw new NotSupportedException("an adapter needs a split with one cut tensor");
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
        var trainImages = trainIndex.Select(i => images[i]).ToList();
        var train = CutFeatureCache.Build(head, cut, full, trainImages, spec, featureShift: shift,
            progress: (i, name) => { if (i % 50 == 0) log?.Invoke($"caching features: {i}/{trainImages.Count} {name}"); },
            views: options.Views > 0 ? new RandomViews(options.Views, options.Seed, Mix: options.ViewMix) : null, cleanFeatures: featureLoss, shiftDraws: options.ShiftDraws);
        var validation = validationIndex.Length == 0 ? null
            : CutFeatureCache.Build(head, cut, full, [.. validationIndex.Select(i => images[i])], spec, featureShift: shift);
        // Head fine-tuning runs the head itself, so it needs the (shifted) model inputs rather than the head's outputs.
        float[]? pixels = options.Mode == AdapterMode.Head ? ShiftedInputs(trainImages, spec, shift, options.ShiftDraws) : null;
        double cacheSeconds = clock.Elapsed.TotalSeconds;
        log?.Invoke($"cached {train.Count} training ({trainImages.Count} images x {1 + options.Views} views x {options.ShiftDraws} noise draws) and {validation?.Count ?? 0} validation samples in {cacheSeconds:F0}s");

        torch.manual_seed(options.Seed);
        var random = new Random(options.Seed);
        long[] sample = train.SampleShape;
        int draws = options.ShiftDraws, imagesPerEpoch = train.Count / draws;
        using var tail = new FrozenTail(tailModel);
        // Member k of an ensemble has seed + k (own initial weights and batch order) and trains on the same cache; member 0
        // is made exactly where a single adapter always was, so --ensemble 1 trains the same adapter as before.
        var members = new List<ResidualLayer> { ResidualAdapter.Create(sample[0], options.Rank, options.Depth) };
        using var membersOwner = new DisposeAll(members);
        var adapter = members[0];
        using var trainableHead = options.Mode == AdapterMode.Head ? new OnnxModule(head, trainable: true, name: "head") : null;
        nn.Module trained = trainableHead is null ? adapter : trainableHead;
        long trainableParameters = trained.parameters().Where(p => p.requires_grad).Sum(p => p.numel()) * options.Ensemble;
        long[] inputShape = [spec.Channels, spec.Height, spec.Width];
        using var inputs = pixels is null ? tensor(train.Features).reshape([train.Count, .. sample]) : tensor(pixels).reshape([train.Count, .. inputShape]);
        using var teacher = tensor(train.Teacher).reshape(train.Count, train.Outputs);
        using var labels = tensor(train.Labels.Select(l => (long)l).ToArray());
        using var clean = featureLoss ? tensor(train.CleanFeatures).reshape([train.Count, .. sample]) : null;
        using var channelVariance = clean is null ? null : DistillationLosses.ChannelVariance(clean);
        var reports = new List<EpochReport>();
        int batchesPerEpoch = (imagesPerEpoch + options.BatchSize - 1) / options.BatchSize;
        int totalSteps = options.Epochs * batchesPerEpoch;
        if (options.MaxSteps > 0) totalSteps = Math.Min(totalSteps, options.MaxSteps);
        int step = 0;
        double deadline = options.MaxSeconds;
        if (validation is not null)
        {
            // Epoch 0: the split as it is (adapter = identity, head untouched) on the shifted held-out images.
            var (a0, t0, k0, b0) = Validate(trainableHead, adapter, tail, validation, validationIndex.Select(i => images[i]).ToList(), spec, shift, codec);
            var before = new EpochReport(options.Mode.ToString().ToLowerInvariant(), 0, options.Epochs, double.NaN, 0, 0, 0, a0, t0, k0, b0, 0, TrainingLoop.RssBytes());
            reports.Add(before);
            log?.Invoke(Describe(before));
        }
        // The clock starts before the channel weights: the Fisher pass is part of training and counts in --max-seconds.
        var trainClock = Stopwatch.StartNew();
        using var channelWeights = clean is null || options.FeatureWeights == FeatureWeighting.Variance ? null
            : FeatureChannelWeights(tail, clean, channelVariance!, options.FeatureWeights, (1 + options.Views) * draws);
        double weightsSeconds = trainClock.Elapsed.TotalSeconds;
        if (channelWeights is not null)
        {
            var w = channelWeights.data<float>().ToArray();
            log?.Invoke($"{options.FeatureWeights.ToString().ToLowerInvariant()} channel weights in {weightsSeconds:F1}s: min {w.Min():F3}, max {w.Max():F3} (mean 1)");
        }
        for (int member = 0; member < options.Ensemble; member++)
        {
            if (member > 0)
            {
                torch.manual_seed(options.Seed + member);
                random = new Random(options.Seed + member);
                adapter = ResidualAdapter.Create(sample[0], options.Rank, options.Depth);
                members.Add(adapter);
                trained = adapter;
            }
            // --max-seconds bounds all members together: member k stops at (k + 1)/K of it.
            deadline = options.MaxSeconds * (member + 1) / options.Ensemble;
            string stage = options.Ensemble == 1 ? options.Mode.ToString().ToLowerInvariant() : $"member {member + 1}/{options.Ensemble}";
            using var optimizer = optim.AdamW(trained.parameters().Where(p => p.requires_grad), options.LearningRate, weight_decay: options.WeightDecay);
            var schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, Math.Max(1, totalSteps));
            int memberStep = 0;
            for (int epoch = 1; epoch <= options.Epochs && memberStep < totalSteps; epoch++)
            {
                if (OutOfTime()) break;
                var epochClock = Stopwatch.StartNew();
                double lossSum = 0;
                int seen = 0;
                // Epoch e shows every image with noise draw (e - 1) mod K: fresh noise each epoch, none of it computed here.
                int draw = (epoch - 1) % draws;
                foreach (var batch in TrainingLoop.Batches(imagesPerEpoch, options.BatchSize, random))
                {
                    if (memberStep >= totalSteps || OutOfTime()) break;
                    using var scope = NewDisposeScope();
                    using var index = tensor(batch.Select(i => i * draws + draw).ToArray());
                    var x = inputs.index_select(0, index);
                    var features = trainableHead is null ? adapter.forward(x) : trainableHead.forward(x);
                    var loss = options.Loss switch
                    {
                        AdapterLoss.Labels => DistillationLosses.CrossEntropy(tail.Logits(features), labels.index_select(0, index)),
                        AdapterLoss.Distill => DistillationLosses.KlToTeacher(tail.Logits(features), teacher.index_select(0, index)),
                        _ when channelWeights is not null => DistillationLosses.ChannelWeightedMse(features, clean!.index_select(0, index), channelWeights),
                        _ => DistillationLosses.ChannelNormalisedMse(features, clean!.index_select(0, index), channelVariance!),
                    };
                    if (options.Loss == AdapterLoss.FeatureDistill && options.DistillWeight > 0)
                        loss = loss + options.DistillWeight * DistillationLosses.KlToTeacher(tail.Logits(features), teacher.index_select(0, index));
                    double value = TrainingLoop.Step(loss, optimizer, schedule, step);
                    step++;
                    memberStep++;
                    lossSum += value * batch.Length;
                    seen += batch.Length;
                }
                bool last = epoch == options.Epochs || memberStep >= totalSteps || OutOfTime();
                var (agreement, top1, kl, bytes) = validation is null || (epoch % options.ValidateEvery != 0 && !last) ? (double.NaN, double.NaN, double.NaN, double.NaN)
                    : Validate(trainableHead, adapter, tail, validation, validationIndex.Select(i => images[i]).ToList(), spec, shift, codec);
                var report = new EpochReport(stage, epoch, options.Epochs, lossSum / Math.Max(1, seen), 0, 0, 0,
                    agreement, top1, kl, bytes, epochClock.Elapsed.TotalSeconds, TrainingLoop.RssBytes());
                reports.Add(report);
                log?.Invoke(Describe(report));
            }
        }
        double trainSeconds = trainClock.Elapsed.TotalSeconds;
        bool OutOfTime() => deadline > 0 && trainClock.Elapsed.TotalSeconds >= deadline;

        // The members' mean as one adapter (exact: grouped 3x3, 1/K on the up projection); ONNX Runtime sees one branch.
        using var fused = members.Count > 1 ? AdapterEnsemble.Fuse(members) : null;
        var deployed = fused ?? adapter;
        if (fused is not null && validation is not null)
        {
            var (a, t, k, b) = Validate(null, fused, tail, validation, validationIndex.Select(i => images[i]).ToList(), spec, shift, codec);
            var report = new EpochReport("ensemble", options.Epochs, options.Epochs, double.NaN, 0, 0, 0, a, t, k, b, 0, TrainingLoop.RssBytes());
            reports.Add(report);
            log?.Invoke(Describe(report));
        }
        var written = trainableHead is null
            ? SplitAttachment.Attach(splitDirectory, outputDirectory, deployed, serverLayer: null)
            : HeadReplacement.Write(splitDirectory, outputDirectory, trainableHead.ToOnnx());
        return new AdapterResult(outputDirectory, written.ComputeHash(), options.Mode, trainableParameters, train.Count, validation?.Count ?? 0, reports,
            cacheSeconds, trainSeconds, TrainingLoop.PeakRssBytes(), draws, step)
        {
            WeightsSeconds = channelWeights is null ? 0 : weightsSeconds,
            Members = members.Count,
            AdapterParameters = trainableHead is null ? deployed.parameters().Sum(p => p.numel()) : 0,
            AdapterMacs = trainableHead is null ? AdapterEnsemble.Macs(deployed, sample[1], sample[2]) : 0,
            FeatureWeights = channelWeights is not null ? channelWeights.data<float>().ToArray()
                : channelVariance is not null ? channelVariance.reciprocal().data<float>().ToArray() : [],
        };
    }

    /// <summary>
    /// The feature loss's channel weights from the frozen tail on the clean cut tensors of the training images themselves
    /// (every <paramref name="samplesPerImage"/>-th sample: not the random views or noise draws, whose clean cuts would
    /// multiply the tail's cost for the same per-channel average).
    /// </summary>
    private static Tensor FeatureChannelWeights(FrozenTail tail, Tensor clean, Tensor channelVariance, FeatureWeighting weighting, int samplesPerImage)
    {
        using var scope = NewDisposeScope();
        var originals = clean.index_select(0, arange(0, clean.shape[0], samplesPerImage, dtype: ScalarType.Int64));
        var fisher = TailFisher.ChannelWeights(tail, originals);
        if (weighting == FeatureWeighting.Fisher) return fisher.MoveToOuterDisposeScope();
        var inverseVariance = channelVariance.reciprocal();
        var mixed = (fisher * (inverseVariance / inverseVariance.mean())).sqrt();
        return (mixed / mixed.mean()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Held-out images through the deployed path (adapted or fine-tuned head, the real codec, the frozen tail): agreement
    /// with the teacher (the unsplit model on the unshifted image), top-1 against labels, KL, frame bytes.
    /// </summary>
    private static (double Agreement, double Top1, double Kl, double Bytes) Validate(OnnxModule? trainableHead, nn.Module<Tensor, Tensor> adapter,
        FrozenTail tail, CutFeatureCache data, IReadOnlyList<LabelledImage> images, PreprocessingSpec spec, CameraShift? shift, FeatureCodec codec)
    {
        using var noGrad = no_grad();
        float[]? pixels = trainableHead is null ? null : ShiftedInputs(images, spec, shift, 1);
        long n = data.SampleElements, p = (long)spec.Channels * spec.Height * spec.Width;
        int agree = 0, correct = 0;
        double kl = 0, bytes = 0;
        for (int i = 0; i < data.Count; i++)
        {
            using var scope = NewDisposeScope();
            Tensor features = pixels is null
                ? adapter.forward(tensor(data.Features.AsSpan((int)(i * n), (int)n).ToArray()).reshape([1, .. data.SampleShape]))
                : trainableHead!.forward(tensor(pixels.AsSpan((int)(i * p), (int)p).ToArray()).reshape(1, spec.Channels, spec.Height, spec.Width));
            features = features.contiguous();
            byte[] frame = codec.Encode(features.data<float>().ToArray(), new TensorShape([.. features.shape.Select(d => (int)d)]));
            bytes += frame.Length;
            var logits = tail.Logits(tensor(FeatureFrame.Decode(frame, out _)).reshape(features.shape));
            var teacher = tensor(data.Teacher.AsSpan(i * data.Outputs, data.Outputs).ToArray()).reshape(1, data.Outputs);
            kl += DistillationLosses.KlToTeacher(logits, teacher).item<float>();
            long best = logits.argmax(1).item<long>();
            if (best == teacher.argmax(1).item<long>()) agree++;
            if (best == data.Labels[i]) correct++;
        }
        return ((double)agree / data.Count, (double)correct / data.Count, kl / data.Count, bytes / data.Count);
    }

    /// <summary>The model inputs of shifted images, sample after sample, <paramref name="draws"/> noise draws per image (as <see cref="CutFeatureCache"/> orders them).</summary>
    private static float[] ShiftedInputs(IReadOnlyList<LabelledImage> images, PreprocessingSpec spec, CameraShift? shift, int draws)
    {
        int per = ImagePreprocessor.ElementCount(spec);
        var result = new float[checked(images.Count * draws * per)];
        for (int i = 0; i < images.Count; i++)
        {
            var image = RgbImage.Load(images[i].Path);
            for (int d = 0; d < draws; d++)
            {
                var seen = shift is null ? image : shift.Apply(image, CutFeatureCache.DrawName(Path.GetFileName(images[i].Path), d));
                ImagePreprocessor.Process(seen, spec, result.AsSpan((i * draws + d) * per, per));
            }
        }
        return result;
    }

    /// <summary>Disposes the ensemble's members however training ends.</summary>
    private sealed class DisposeAll(List<ResidualLayer> members) : IDisposable
    {
        public void Dispose() { foreach (var m in members) m.Dispose(); }
    }

    public static string Describe(EpochReport r) =>
        $"{r.Stage} epoch {r.Epoch}/{r.Epochs}: loss {r.Loss:F4}" +
        (double.IsNaN(r.ValidationAgreement) ? "" : $"; validation (shifted): top-1 {r.ValidationTop1:P1}, agreement with the unshifted unsplit model {r.ValidationAgreement:P1}, KL {r.ValidationKl:F4}, {r.ValidationBytes:F0} B") +
        $"; {r.Seconds:F1}s, RSS {r.RssBytes / 1048576.0:F0} MiB";
}
