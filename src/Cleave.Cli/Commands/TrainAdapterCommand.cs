using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models.Preprocessing;
using Cleave.Training.Adapter;
using Cleave.Training.Data;

namespace Cleave.Cli.Commands;

public sealed class TrainAdapterCommand : ICommand
{
    public string Name => "train adapter";
    public string Summary => "adapt a split to one user's camera: a residual adapter after the frozen head (or the whole head), trained through the frozen tail";
    public string Usage =>
        "usage: cleave train adapter --split DIR --model M.onnx --data DIR --shift SPEC -o SPLIT_DIR [options] [--json]\n" +
        ClassificationDataOptions.Help + "\n" +
        "  --split DIR         the split folder to adapt (tail.onnx and the cut stay as they are)\n" +
        "  --model M.onnx      the unsplit model the folder was cut from (preprocessing; the teacher for --loss distill)\n" +
        "  --shift SPEC        the user's camera: blur=S,noise=N,gain=G[,seed=K] applied to every image (docs/training.md)\n" +
        "  -o, --output DIR    the adapted split folder (head.onnx = head + adapter; tail.onnx byte-identical)\n" +
        "  --mode adapter|head train a residual adapter (default) or fine-tune every weight of the head (the comparison)\n" +
        "  --loss labels|distill|feature|feature+distill  cross-entropy to the labels (default), KL to the unsplit model on the\n" +
        "                      unshifted image, or matching the head's cut tensor on the unshifted image (per-channel normalised\n" +
        "                      squared error; no tail in training), optionally plus the KL\n" +
        "  --feature-weights variance|fisher|mixed  channel weights of the feature loss: 1/variance (default), the frozen tail's\n" +
        "                      diagonal Fisher information on the clean training cuts (mean 1; one tail pass per image, counted\n" +
        "                      in --max-seconds), or the geometric mean of the two\n" +
        "  --distill-weight W  weight of the KL in feature+distill (default 1)\n" +
        "  --views V           cache V random views (crop, mirror, colour jitter) of each image besides it (adapter mode; default 0)\n" +
        "  --mix none|mixup|cutmix  blend every random view with a crop of another training image (mixup) or paste one in\n" +
        "                      (cutmix); shifted input and clean target come from the same mixed view (needs --views; default none)\n" +
        "  --ensemble K        train K adapters on the same cached features (member k with seed+k) and ship their mean, fused\n" +
        "                      exactly into one adapter (rank K*R, grouped 3x3); --max-seconds bounds all (default 1, at most 16)\n" +
        "  --noise-draws K     cache K draws of the shift's sensor noise per image; epoch e uses draw (e-1) mod K (default 1)\n" +
        "  --rank R            adapter channels (1x1 down to R, 3x3, 1x1 up, zero-initialised: starts as identity; default 16)\n" +
        "  --depth D           3x3 convolutions in the adapter's branch (receptive field 2D+1 cut positions; default 1, at most 8)\n" +
        "  --epochs E          epochs (default 2)   --batch N (default 32)   --lr X (AdamW, cosine; default 0.001)\n" +
        "  --max-seconds S     stop training after S seconds (checked after every step; 0: no limit)\n" +
        "  --val F             share of the images held out for validation (default 0.1)\n" +
        "  --val-every N       validate after every N epochs and after the last (default 1; counts in --max-seconds)\n" +
        "  --codec SPEC        codec on the validation images (default rans-ifc:bits=3,levels=6,clip=3,ctx=2d)\n" +
        "  --seed N            seed of the split, shuffles and initial weights (default 1)\n" +
        "  --max-steps N       stop after N steps (smoke runs)";

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. ClassificationDataOptions.ValueOptions, "split", "shift", "output", "mode", "loss", "rank", "depth", "epochs", "batch", "lr",
            "max-seconds", "val", "codec", "seed", "max-steps",
            "distill-weight", "noise-draws", "val-every", "views", "feature-weights", "mix", "ensemble"], ["json"]);
        var options = new AdapterOptions
        {
            Mode = cl.Get("mode") switch
            {
                null or "adapter" => AdapterMode.Adapter,
                "head" => AdapterMode.Head,
                var other => throw new UsageException($"--mode takes adapter or head, not '{other}'"),
            },
            Loss = cl.Get("loss") switch
            {
                null or "labels" => AdapterLoss.Labels,
                "distill" => AdapterLoss.Distill,
                "feature" => AdapterLoss.Feature,
                "feature+distill" => AdapterLoss.FeatureDistill,
                var other => throw new UsageException($"--loss takes labels, distill, feature or feature+distill, not '{other}'"),
            },
            FeatureWeights = cl.Get("feature-weights") switch
            {
                null or "variance" => FeatureWeighting.Variance,
                "fisher" => FeatureWeighting.Fisher,
                "mixed" => FeatureWeighting.Mixed,
                var other => throw new UsageException($"--feature-weights takes variance, fisher or mixed, not '{other}'"),
            },
            Rank = cl.GetInt("rank", 16),
            Depth = cl.GetInt("depth", 1),
            Epochs = cl.GetInt("epochs", 2),
            BatchSize = cl.GetInt("batch", 32),
            LearningRate = cl.GetDouble("lr", 1e-3),
            MaxSeconds = cl.GetDouble("max-seconds", 0),
            ValidationFraction = cl.GetDouble("val", 0.1),
            Codec = cl.Get("codec") ?? "rans-ifc:bits=3,levels=6,clip=3,ctx=2d",
            Seed = cl.GetInt("seed", 1),
            MaxSteps = cl.GetInt("max-steps", 0),
            DistillWeight = cl.GetDouble("distill-weight", 1),
            ShiftDraws = cl.GetInt("noise-draws", 1),
            ValidateEvery = cl.GetInt("val-every", 1),
            Views = cl.GetInt("views", 0),
            ViewMix = (cl.Get("mix") ?? "none").ToLowerInvariant() switch
            {
                "none" => ViewMix.None,
                "mixup" => ViewMix.Mixup,
                "cutmix" => ViewMix.Cutmix,
                var other => throw new UsageException($"--mix takes none, mixup or cutmix, not '{other}'"),
            },
            Ensemble = cl.GetInt("ensemble", 1),
        };
        if (options.ViewMix != ViewMix.None && options.Views == 0) throw new UsageException("--mix mixes the random views: give --views N (N above 0)");
        if (options.Ensemble is < 1 or > AdapterEnsemble.MaxMembers) throw new UsageException($"--ensemble must be in 1..{AdapterEnsemble.MaxMembers}");
        if (options.Ensemble != 1 && options.Mode != AdapterMode.Adapter) throw new UsageException("--ensemble is for the adapter, not --mode head");
        if (!(options.DistillWeight >= 0) || options.ShiftDraws <= 0 || options.ValidateEvery <= 0 || options.Views < 0)
            throw new UsageException("--distill-weight and --views must not be negative, --noise-draws and --val-every must be positive");
        if (options.Rank <= 0 || options.Epochs <= 0 || options.BatchSize <= 0 || !(options.LearningRate > 0) || options.MaxSeconds < 0)
            throw new UsageException("--rank, --epochs, --batch and --lr must be positive, --max-seconds not negative");
        if (!(options.ValidationFraction is >= 0 and < 1)) throw new UsageException("--val must be in [0, 1)");
        if (options.Depth is < 1 or > ResidualAdapter.MaxDepth) throw new UsageException($"--depth must be in 1..{ResidualAdapter.MaxDepth}");
        if (options.Depth != 1 && options.Mode != AdapterMode.Adapter) throw new UsageException("--depth is for the adapter, not --mode head");
        CameraShift? shift;
        try { shift = cl.Get("shift") is { } s ? CameraShift.Parse(s) : null; }
        catch (FormatException e) { throw new UsageException($"--shift: {e.Message}"); }
        var (images, _) = ClassificationDataOptions.Load(cl);
        AdapterResult result;
        try { result = AdapterTrainer.Train(cl.Require("split"), cl.Require("model"), images, shift, cl.Require("output"), options, line => Console.Error.WriteLine(line)); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("output", result.OutputDirectory);
                w.WriteString("manifest_hash", result.ManifestHash);
                w.WriteString("mode", result.Mode.ToString().ToLowerInvariant());
                w.WriteNumber("trainable_parameters", result.TrainableParameters);
                w.WriteNumber("train_samples", result.TrainSamples);
                w.WriteNumber("validation_images", result.ValidationImages);
                w.WriteNumber("cache_seconds", result.CacheSeconds);
                w.WriteNumber("train_seconds", result.TrainSeconds);
                w.WriteNumber("steps", result.Steps);
                w.WriteNumber("noise_draws", result.ShiftDraws);
                w.WriteNumber("members", result.Members);
                w.WriteString("mix", options.ViewMix.ToString().ToLowerInvariant());
                w.WriteNumber("adapter_parameters", result.AdapterParameters);
                w.WriteNumber("adapter_macs", result.AdapterMacs);
                w.WriteString("feature_weights", options.FeatureWeights.ToString().ToLowerInvariant());
                w.WriteNumber("weights_seconds", result.WeightsSeconds);
                w.WriteStartArray("channel_weights");
                foreach (float v in result.FeatureWeights) w.WriteNumberValue(v);
                w.WriteEndArray();
                w.WriteNumber("peak_rss_bytes", result.PeakRssBytes);
                w.WriteStartArray("epochs");
                foreach (var e in result.Epochs)
                {
                    w.WriteStartObject();
                    w.WriteString("stage", e.Stage);
                    w.WriteNumber("epoch", e.Epoch);
                    w.WriteNumberOrNull("loss", e.Loss);
                    w.WriteNumberOrNull("validation_top1", e.ValidationTop1);
                    w.WriteNumberOrNull("validation_agreement", e.ValidationAgreement);
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
            Console.WriteLine(string.Create(inv, $"trained       {result.Mode.ToString().ToLowerInvariant()}, {result.TrainableParameters:N0} parameters, on {result.TrainSamples} samples ({result.ShiftDraws} noise draws per image), {result.Steps} steps; validated on {result.ValidationImages}"));
            Console.WriteLine(string.Create(inv, $"time          cache {result.CacheSeconds:F0}s, training {result.TrainSeconds:F0}s, peak RSS {result.PeakRssBytes / 1048576.0:F0} MiB"));
            if (result.Epochs.Count > 0) Console.WriteLine($"last epoch    {AdapterTrainer.Describe(result.Epochs[^1])}");
        }
        return 0;
    }
}
