using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Training.Distillation;
using Cleave.Training.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Bottleneck;

/// <summary>What a bottleneck training produced.</summary>
public sealed record BottleneckResult(string OutputDirectory, string ManifestHash, string CodeTensor, long[] CodeShape, int TrainSamples,
    int ValidationImages, IReadOnlyList<EpochReport> Epochs, double CacheSeconds, double TrainSeconds, long PeakRssBytes);

/// <summary>
/// Supervised compression at a cut (SC2-style, <c>cleave train bottleneck</c>): the head's cut tensors are cached once
/// (ONNX Runtime: the head is frozen), then a <see cref="ConvBottleneck"/> learns in two stages, first to reproduce the
/// cut tensor through a noisy code (cheap: no tail), then by distillation from the frozen full model through the frozen
/// tail (KL to the teacher's output + the feature term + a rate term; no labels). The encoder is appended to head.onnx,
/// the decoder put in front of tail.onnx, and the code becomes the split's cut: Cleave's codecs quantize and code it.
/// </summary>
public static class BottleneckTrainer
{
    public const string CodeTensorName = "cleave.bottleneck/code";

    /// <summary>
    /// Trains on <paramref name="images"/> (a share held out for validation) and writes the split folder.
    /// <paramref name="trained"/>, when given, sees the trained module and the frozen tail before they are released.
    /// </summary>
    public static BottleneckResult Train(string modelPath, string cutTensor, IReadOnlyList<LabelledImage> images, string outputDirectory,
        BottleneckOptions options, Action<string>? log = null, Action<ConvBottleneck, FrozenTail>? trained = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(options);
        if (images.Count < 2) throw new ArgumentException($"training a bottleneck needs at least 2 images, got {images.Count}");
        if (options.ViewMix != Data.ViewMix.None && options.RandomViews <= 0) throw new ArgumentException($"mixing views ({options.ViewMix}) needs random views (RandomViews above 0)");
        var codec = FeatureCodecs.Create(options.Codec);
        TorchRuntime.Initialise();
        var model = OnnxModel.Load(modelPath);
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`)");
        var split = ModelSplitter.Split(new SplitAnalysis(model), [cutTensor], Path.GetFileName(modelPath));
        if (split.Manifest.Cut.Count != 1 || split.Manifest.TailInputs.Count != 1)
            throw new NotSupportedException($"the cut at '{cutTensor}' crosses {split.Manifest.Cut.Count} tensors / the tail reads {split.Manifest.TailInputs.Count}; a bottleneck needs one of each");

        var clock = Stopwatch.StartNew();
        var (trainImages, validationImages) = TrainingLoop.Split(images.Count, options.ValidationFraction, options.Seed);
        var views = options.RandomViews > 0 ? new Data.RandomViews(options.RandomViews, options.Seed, Mix: options.ViewMix).Validated() : null;
        var train = CutFeatureCache.Build(split.Head, cutTensor, model, [.. trainImages.Select(i => images[i])], spec, options.Flips,
            progress: (i, name) => { if (i % 50 == 0) log?.Invoke($"caching features: {i}/{trainImages.Length} {name}"); }, views: views);
        var validation = validationImages.Length == 0 ? null
            : CutFeatureCache.Build(split.Head, cutTensor, model, [.. validationImages.Select(i => images[i])], spec);
        double cacheSeconds = clock.Elapsed.TotalSeconds;
        log?.Invoke($"cached {train.Count} training and {validation?.Count ?? 0} validation samples in {cacheSeconds:F0}s");

        torch.manual_seed(options.Seed);
        var random = new Random(options.Seed);
        long[] sample = train.SampleShape;
        if (sample.Length != 3) throw new NotSupportedException($"a convolutional bottleneck needs a [C,H,W] cut, '{cutTensor}' is [{string.Join(",", sample)}]");
        using var bottleneck = options.Design == BottleneckDesign.Residual
            ? CreateResidual(train, sample, options)
            : new ConvBottleneck(sample[0], options.CodeChannels, options.Hidden, options.Bound);
        using var tail = new FrozenTail(split.Tail);
        using var features = tensor(train.Features).reshape([train.Count, .. sample]);
        using var teacher = tensor(train.Teacher).reshape(train.Count, train.Outputs);
        double variance = features.var().item<float>();
        var reports = new List<EpochReport>();
        var trainClock = Stopwatch.StartNew();
        RunStage("feature", options.FeatureEpochs, options.LearningRate, throughTail: false);
        RunStage("distill", options.Epochs, options.LearningRate * 0.5, throughTail: true);
        double trainSeconds = trainClock.Elapsed.TotalSeconds;
        bottleneck.eval();
        trained?.Invoke(bottleneck, tail);

        long[] codeShape = [bottleneck.CodeChannels, sample[1], sample[2]];
        // The plain split goes to a scratch folder so SplitAttachment can merge encoder and decoder into it.
        string scratch = Path.Combine(Path.GetTempPath(), $"cleave-bottleneck-{Guid.NewGuid():N}");
        SplitManifest manifest;
        try
        {
            split.Save(scratch);
            manifest = SplitAttachment.Attach(scratch, outputDirectory, bottleneck.Encoder, bottleneck.Decoder, CodeTensorName);
        }
        finally { Directory.Delete(scratch, recursive: true); }
        return new BottleneckResult(outputDirectory, manifest.ComputeHash(), CodeTensorName, codeShape, train.Count, validation?.Count ?? 0, reports,
            cacheSeconds, trainSeconds, TrainingLoop.PeakRssBytes());

        void RunStage(string stage, int epochs, double learningRate, bool throughTail)
        {
            if (epochs <= 0) return;
            var batches = TrainingLoop.Batches(train.Count, options.BatchSize, random).Count;
            int totalSteps = epochs * batches;
            if (options.MaxStepsPerStage > 0) totalSteps = Math.Min(totalSteps, options.MaxStepsPerStage);
            using var optimizer = CreateOptimizer(bottleneck, learningRate, options);
            var schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, totalSteps);
            int step = 0;
            for (int epoch = 1; epoch <= epochs && step < totalSteps; epoch++)
            {
                var epochClock = Stopwatch.StartNew();
                double lossSum = 0, klSum = 0, featureSum = 0, bitsSum = 0;
                int seen = 0;
                bottleneck.train();
                foreach (var batch in TrainingLoop.Batches(train.Count, options.BatchSize, random))
                {
                    if (step >= totalSteps) break;
                    using var scope = NewDisposeScope();
                    using var index = tensor(batch);
                    var x = features.index_select(0, index);
                    var code = bottleneck.Encoder.forward(x);
                    var noisy = code + (rand_like(code) - 0.5);
                    var bits = bottleneck.Rate.BitsPerElement(noisy);
                    // Straight-through: the forward pass is the rounded code the deployed codec delivers, the backward
                    // pass the identity (round has no useful gradient).
                    var decoderInput = options.StraightThrough ? code + (code.round() - code).detach() : noisy;
                    var restored = bottleneck.Decoder.forward(decoderInput);
                    var featureError = DistillationLosses.NormalisedMse(restored, x, variance);
                    Tensor loss;
                    double kl = 0;
                    if (throughTail)
                    {
                        var klTensor = DistillationLosses.KlToTeacher(tail.Logits(restored), teacher.index_select(0, index));
                        kl = klTensor.item<float>();
                        loss = klTensor + options.FeatureWeight * featureError + options.RateWeight * bits;
                    }
                    else loss = featureError + options.RateWeight * bits;
                    double lossValue = loss.item<float>();
                    TrainingLoop.CheckFinite(lossValue, step);
                    optimizer.zero_grad();
                    loss.backward();
                    if (step < options.TraceSteps) log?.Invoke(Trace(stage, step, bottleneck, code, bits, kl, featureError));
                    optimizer.step();
                    schedule.step();
                    step++;
                    lossSum += lossValue * batch.Length;
                    klSum += kl * batch.Length;
                    featureSum += featureError.item<float>() * batch.Length;
                    bitsSum += bits.item<float>() * batch.Length;
                    seen += batch.Length;
                }
                // The feature stage never runs the tail, so its validation (which does) is kept for its last epoch.
                bool validate = validation is not null && (throughTail || epoch == epochs || step >= totalSteps);
                var (agreement, top1, validationKl, bytes) = validate ? Validate(bottleneck, tail, validation!, codec) : (double.NaN, double.NaN, double.NaN, double.NaN);
                var report = new EpochReport(stage, epoch, epochs, lossSum / seen, klSum / seen, featureSum / seen, bitsSum / seen,
                    agreement, top1, validationKl, bytes, epochClock.Elapsed.TotalSeconds, TrainingLoop.RssBytes());
                reports.Add(report);
                log?.Invoke(Describe(report));
            }
        }
    }

    /// <summary>
    /// AdamW over the bottleneck with the log-space parameters (gains, rate scales) in a group of their own at
    /// <see cref="BottleneckOptions.ScaleLearningRate"/> (weight decay off there: it would pull the gains toward 1).
    /// </summary>
    private static optim.Optimizer CreateOptimizer(ConvBottleneck bottleneck, double learningRate, BottleneckOptions options)
    {
        var logScale = bottleneck.LogScaleParameters().ToList();
        if (options.ScaleLearningRate <= 0) return optim.AdamW(bottleneck.parameters(), learningRate, weight_decay: options.WeightDecay);
        var inLogSpace = new HashSet<IntPtr>(logScale.Select(p => p.Handle));
        var rest = bottleneck.parameters().Where(p => !inLogSpace.Contains(p.Handle)).ToList();
        return optim.AdamW([
            new TorchSharp.Modules.AdamW.ParamGroup(rest, learningRate, weight_decay: options.WeightDecay),
            new TorchSharp.Modules.AdamW.ParamGroup(logScale, options.ScaleLearningRate, weight_decay: 0),
        ], learningRate);
    }

    /// <summary>One step's diagnostics: the code's spread, the rate, the gains and the gradients that move them.</summary>
    private static string Trace(string stage, int step, ConvBottleneck bottleneck, Tensor code, Tensor bits, double kl, Tensor featureError)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        static double Norm(Tensor? t) => t is null ? double.NaN : t.norm().item<float>();
        var first = bottleneck.Encoder.Layers.OfType<Layers.Conv2dLayer>().First();
        var line = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"trace {stage} step {step}: code std {code.std().item<float>():F3}, mean |code| {code.abs().mean().item<float>():F3}, max |code| {code.abs().max().item<float>():F2}; " +
            $"rate {bits.item<float>():F3} bits/elem, kl {kl:F4}, feature {featureError.item<float>():F4}; " +
            $"laplace scale mean {bottleneck.Rate.LogScale.exp().mean().item<float>():F3} (grad {Norm(bottleneck.Rate.LogScale.grad):E2}); " +
            $"first conv |w| {first.Weight.abs().max().item<float>():F3} (grad {Norm(first.Weight.grad):E2})");
        if (bottleneck.EncoderGain is { } gain)
            line += string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"; encoder gain mean {gain.LogGain.exp().mean().item<float>():F3} (grad {Norm(gain.LogGain.grad):E2})");
        return line;
    }

    /// <summary>The residual design, started from the training samples' per-channel mean and deviation.</summary>
    private static ConvBottleneck CreateResidual(CutFeatureCache train, long[] sample, BottleneckOptions options)
    {
        int channels = checked((int)sample[0]);
        long plane = sample[1] * sample[2];
        var sum = new double[channels];
        var squares = new double[channels];
        var values = train.Features;
        for (long i = 0; i < values.Length; i++)
        {
            int c = (int)(i / plane % channels);
            sum[c] += values[i];
            squares[c] += (double)values[i] * values[i];
        }
        double count = (double)values.Length / channels;
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            mean[c] = (float)(sum[c] / count);
            std[c] = (float)Math.Sqrt(Math.Max(squares[c] / count - mean[c] * (double)mean[c], 0));
        }
        return ConvBottleneck.Residual(channels, options.Hidden, options.Bound, mean, std, options.StepSigmas, options.Gains);
    }

    /// <summary>
    /// The deployed path on held-out samples: encoder, the real codec (encode, frame, decode), decoder, tail. Returns
    /// top-1 agreement with the teacher, top-1 against labels, mean KL to the teacher and mean frame bytes.
    /// </summary>
    public static (double Agreement, double Top1, double Kl, double Bytes) Validate(ConvBottleneck bottleneck, FrozenTail tail, CutFeatureCache data, FeatureCodec codec)
    {
        ArgumentNullException.ThrowIfNull(bottleneck);
        ArgumentNullException.ThrowIfNull(tail);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(codec);
        bottleneck.eval();
        using var noGrad = no_grad();
        int agree = 0, correct = 0;
        double kl = 0, bytes = 0;
        long n = data.SampleElements;
        for (int i = 0; i < data.Count; i++)
        {
            using var scope = NewDisposeScope();
            var x = tensor(data.Features.AsSpan((int)(i * n), (int)n).ToArray()).reshape([1, .. data.SampleShape]);
            var code = bottleneck.Encoder.forward(x).contiguous();
            var values = code.data<float>().ToArray();
            byte[] frame = codec.Encode(values, new TensorShape([.. code.shape.Select(d => (int)d)]));
            bytes += frame.Length;
            var decoded = FeatureFrame.Decode(frame, out _);
            var logits = tail.Logits(bottleneck.Decoder.forward(tensor(decoded).reshape(code.shape)));
            var teacher = tensor(data.Teacher.AsSpan(i * data.Outputs, data.Outputs).ToArray()).reshape(1, data.Outputs);
            kl += DistillationLosses.KlToTeacher(logits, teacher).item<float>();
            long best = logits.argmax(1).item<long>();
            if (best == teacher.argmax(1).item<long>()) agree++;
            if (best == data.Labels[i]) correct++;
        }
        bottleneck.train();
        return ((double)agree / data.Count, (double)correct / data.Count, kl / data.Count, bytes / data.Count);
    }

    public static string Describe(EpochReport r) =>
        $"{r.Stage} epoch {r.Epoch}/{r.Epochs}: loss {r.Loss:F4} (kl {r.Kl:F4}, feature {r.FeatureError:F4}, {r.BitsPerElement:F2} bits/elem est.)" +
        (double.IsNaN(r.ValidationAgreement) ? "" : $"; validation: agreement {r.ValidationAgreement:P1}, top-1 {r.ValidationTop1:P1}, KL {r.ValidationKl:F4}, {r.ValidationBytes:F0} B") +
        $"; {r.Seconds:F1}s, RSS {r.RssBytes / 1048576.0:F0} MiB";
}
