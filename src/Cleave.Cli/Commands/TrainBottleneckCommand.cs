using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Training.Bottleneck;
using Cleave.Training.Data;

namespace Cleave.Cli.Commands;

public sealed class TrainBottleneckCommand : ICommand
{
    public string Name => "train bottleneck";
    public string Summary => "supervised compression at a cut: a learned encoder (device) and decoder (server) around Cleave's codecs, distilled from the frozen model";
    public string Usage =>
        "usage: cleave train bottleneck --model M.onnx --at T --data DIR -o SPLIT_DIR [options] [--json]\n" +
        ClassificationDataOptions.Help + "\n" +
        "  --at T              the cut tensor (see `cleave inspect`); the encoder follows it on the device, the decoder restores it on the server\n" +
        "  -o, --output DIR    the split folder to write (head.onnx = head + encoder, tail.onnx = decoder + tail, split.json); must be new or empty\n" +
        "  --design D          compact: K code channels learned from random weights (default); residual: the cut's own channels,\n" +
        "                      started as the training-free per-channel quantizer (step S standard deviations) and refined\n" +
        "  --step S            residual design: the starting quantizer step in standard deviations per channel (default 1)\n" +
        "  --gains on|off      residual design: learned per-channel log-gains on the code and at the decoder (default on)\n" +
        "  --scale-lr X        learning rate of the gains and the rate model's scales (log space; default 0.02; 0: --lr)\n" +
        "  --channels K        compact design: code channels the device sends (default 8)\n" +
        "  --hidden H          channels inside encoder and decoder (default 64)\n" +
        "  --bound B           the code's soft bound: values in (-B, B), step 1 in training (default 3; codec levels about 2B+1)\n" +
        "  --feature-epochs E  first stage: reproduce the cut tensor through the noisy code, no tail (default 10)\n" +
        "  --epochs E          second stage: KL to the frozen model's output through the frozen tail + feature + rate terms (default 4)\n" +
        "  --batch N           batch size (default 32)\n" +
        "  --lr X              AdamW learning rate, cosine schedule per stage (default 0.001; the second stage uses half)\n" +
        "  --rate X            weight of the rate term, estimated bits per code element (default 0.01)\n" +
        "  --feature X         weight of the feature term in the second stage (default 0.5)\n" +
        "  --val F             share of the images held out for validation (default 0.1)\n" +
        "  --flip on|off       also train on mirrored images (default on)\n" +
        "  --views N           also train on N random views of each training image (crop, mirror, colour jitter; cached once\n" +
        "                      through the head and the teacher; default 0, at most 64)\n" +
        "  --mix none|mixup|cutmix  make every random view a blend (mixup: λ·view + (1-λ)·other, λ uniform) or a pasted\n" +
        "                      rectangle (cutmix) with a random crop of another training image; the teacher's output on the\n" +
        "                      mixed image is the target (function matching; needs --views; default none)\n" +
        "  --codec SPEC        codec measured on the validation images each epoch (default rans-ifc:bits=3,levels=7,range=3,ctx=2d:\n" +
        "                      step 1 over the fixed range [-3, 3], the grid training imitates; with --bound B use levels=2B+1,range=B)\n" +
        "  --seed N            seed of the split, the shuffles, the noise and the initial weights (default 1)\n" +
        "  --max-steps N       stop each stage after N steps (smoke runs)\n" +
        "  --quantizer ste|noise  what the decoder sees in training: the rounded code with straight-through gradients\n" +
        "                      (default; what the codec delivers) or code + uniform noise (the rate term always sees the noise)\n" +
        "  --trace N           log every one of the first N steps of each stage (code spread, rate, gains, gradient norms)\n" +
        "No labels are used for training (the teacher is the frozen model). Progress per epoch goes to stderr.";

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. ClassificationDataOptions.ValueOptions, "at", "output", "design", "step", "channels", "hidden", "bound", "feature-epochs", "epochs",
            "batch", "lr", "rate", "feature", "val", "flip", "codec", "seed", "max-steps", "gains", "scale-lr", "trace", "quantizer", "views", "mix"], ["json"]);
        var design = (cl.Get("design") ?? "compact").ToLowerInvariant() switch
        {
            "compact" => BottleneckDesign.Compact,
            "residual" => BottleneckDesign.Residual,
            var other => throw new UsageException($"--design: unknown design '{other}' (compact or residual)"),
        };
        if (design == BottleneckDesign.Residual && cl.Has("channels")) throw new UsageException("--channels is for the compact design; the residual design sends the cut's own channels");
        if (design == BottleneckDesign.Compact && (cl.Has("step") || cl.Has("gains"))) throw new UsageException("--step and --gains are for the residual design");
        var options = new BottleneckOptions
        {
            Design = design,
            StepSigmas = cl.GetDouble("step", 1.0),
            CodeChannels = Positive(cl, "channels", 8),
            Hidden = Positive(cl, "hidden", 64),
            Bound = cl.GetDouble("bound", 3),
            FeatureEpochs = cl.GetInt("feature-epochs", 10),
            Epochs = cl.GetInt("epochs", 4),
            BatchSize = Positive(cl, "batch", 32),
            LearningRate = cl.GetDouble("lr", 1e-3),
            RateWeight = cl.GetDouble("rate", 0.01),
            FeatureWeight = cl.GetDouble("feature", 0.5),
            ValidationFraction = cl.GetDouble("val", 0.1),
            Flips = cl.GetOnOffAuto("flip") ?? true,
            RandomViews = cl.GetInt("views", 0),
            ViewMix = (cl.Get("mix") ?? "none").ToLowerInvariant() switch
            {
                "none" => ViewMix.None,
                "mixup" => ViewMix.Mixup,
                "cutmix" => ViewMix.Cutmix,
                var other => throw new UsageException($"--mix: unknown mix '{other}' (none, mixup or cutmix)"),
            },
            Codec = cl.Get("codec") ?? new BottleneckOptions().Codec,
            Gains = cl.GetOnOffAuto("gains") ?? true,
            ScaleLearningRate = cl.GetDouble("scale-lr", 0.02),
            TraceSteps = cl.GetInt("trace", 0),
            StraightThrough = (cl.Get("quantizer") ?? "ste").ToLowerInvariant() switch
            {
                "ste" => true,
                "noise" => false,
                var other => throw new UsageException($"--quantizer: unknown quantizer '{other}' (ste or noise)"),
            },
            Seed = cl.GetInt("seed", 1),
            MaxStepsPerStage = cl.GetInt("max-steps", 0),
        };
        if (options.FeatureEpochs < 0 || options.Epochs < 0) throw new UsageException("--feature-epochs and --epochs must not be negative");
        if (!(options.Bound > 0) || !(options.StepSigmas > 0) || !(options.LearningRate > 0) || options.RateWeight < 0 || options.FeatureWeight < 0
            || !(options.ScaleLearningRate >= 0) || options.TraceSteps < 0 || options.RandomViews is < 0 or > Cleave.Training.Data.RandomViews.MaxCount)
            throw new UsageException($"--bound, --step and --lr must be positive, --rate, --feature, --scale-lr and --trace not negative, --views in 0..{Cleave.Training.Data.RandomViews.MaxCount}");
        if (!(options.ValidationFraction is >= 0 and < 1)) throw new UsageException("--val must be in [0, 1)");
        if (options.ViewMix != ViewMix.None && options.RandomViews == 0) throw new UsageException("--mix mixes the random views: give --views N (N above 0)");
        var (images, _) = ClassificationDataOptions.Load(cl);
        string output = cl.Require("output");
        BottleneckResult result;
        try { result = BottleneckTrainer.Train(cl.Require("model"), cl.Require("at"), images, output, options, line => Console.Error.WriteLine(line)); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        var last = result.Epochs.Count > 0 ? result.Epochs[^1] : null;
        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("output", result.OutputDirectory);
                w.WriteString("manifest_hash", result.ManifestHash);
                w.WriteString("code_tensor", result.CodeTensor);
                w.WriteString("code_shape", string.Join(",", result.CodeShape));
                w.WriteNumber("train_samples", result.TrainSamples);
                w.WriteNumber("validation_images", result.ValidationImages);
                w.WriteNumber("cache_seconds", result.CacheSeconds);
                w.WriteNumber("train_seconds", result.TrainSeconds);
                w.WriteNumber("peak_rss_bytes", result.PeakRssBytes);
                w.WriteStartArray("epochs");
                foreach (var e in result.Epochs)
                {
                    w.WriteStartObject();
                    w.WriteString("stage", e.Stage);
                    w.WriteNumber("epoch", e.Epoch);
                    w.WriteNumberOrNull("loss", e.Loss);
                    w.WriteNumber("kl", e.Kl);
                    w.WriteNumber("feature_error", e.FeatureError);
                    w.WriteNumber("bits_per_element", e.BitsPerElement);
                    w.WriteNumberOrNull("validation_agreement", e.ValidationAgreement);
                    w.WriteNumberOrNull("validation_top1", e.ValidationTop1);
                    w.WriteNumberOrNull("validation_kl", e.ValidationKl);
                    w.WriteNumberOrNull("validation_bytes", e.ValidationBytes);
                    w.WriteNumber("seconds", e.Seconds);
                    w.WriteNumber("rss_bytes", e.RssBytes);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
        else
        {
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"split folder  {result.OutputDirectory}  (manifest {result.ManifestHash[..16]}...)");
            Console.WriteLine($"cut           {result.CodeTensor} [{string.Join(",", result.CodeShape)}] per sample");
            Console.WriteLine(string.Create(inv, $"trained on    {result.TrainSamples} samples, validated on {result.ValidationImages} images; cache {result.CacheSeconds:F0}s, training {result.TrainSeconds:F0}s, peak RSS {result.PeakRssBytes / 1048576.0:F0} MiB"));
            if (last is not null) Console.WriteLine($"last epoch    {BottleneckTrainer.Describe(last)}");
        }
        return 0;
    }

    private static int Positive(CommandLine cl, string name, int fallback)
    {
        int v = cl.GetInt(name, fallback);
        return v > 0 ? v : throw new UsageException($"--{name} must be positive");
    }
}
