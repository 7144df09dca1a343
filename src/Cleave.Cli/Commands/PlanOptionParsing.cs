using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;
using Cleave.Runtime.Links;

namespace Cleave.Cli.Commands;

/// <summary>Options the plan verbs share: the calibration profile (loaded or collected), the link, the hardware and the budgets.</summary>
internal static class PlanOptionParsing
{
    public static readonly string[] ValueOptions =
    [
        "model", "data", "labels", "assets", "images", "splits", "max-splits", "codecs", "jpeg", "profile", "device-profile",
        "link", "uplink-kbps", "downlink-kbps", "rtt-ms", "loss", "device-speed", "server-speed", "max-drop", "slo-ms", "objective",
    ];

    /// <summary>The options of the multi-model forms (<c>plan --models</c>, <c>plan check --models</c>).</summary>
    public static readonly string[] ModelSetOptions = ["models", "profiles", "min-top1", "thresholds"];

    /// <summary>
    /// <c>--models "A.onnx;B.onnx"</c> with optional <c>--profiles "PA;PB"</c> (same order; default each model's cached
    /// profile path): every profile loaded or collected, then checked as a set (<see cref="ModelSet.Create"/>).
    /// </summary>
    public static ModelSet LoadModelSet(CommandLine cl)
    {
        if (cl.Has("model")) throw new UsageException("give --model (one model) or --models (several), not both");
        var paths = SplitSemicolons(cl.Require("models"));
        var profiles = cl.Get("profiles") is string p ? SplitSemicolons(p) : [];
        if (profiles.Count > 0 && profiles.Count != paths.Count)
            throw new UsageException($"--profiles lists {profiles.Count} files for {paths.Count} models: give one per model, in the same order");
        // Checked before anything is loaded or collected: a repeated or missing model should not cost a calibration run.
        for (int i = 0; i < paths.Count; i++)
        {
            string name = ModelSet.NameOf(paths[i]);
            for (int j = 0; j < i; j++)
                if (ModelSet.NameOf(paths[j]) == name || Path.GetFullPath(paths[j]) == Path.GetFullPath(paths[i]))
                    throw new ModelSetException(ModelSetError.Duplicate, $"the model '{paths[i]}' is listed twice (models are named by file name: '{name}')");
            if (!File.Exists(paths[i])) throw new FileNotFoundException($"the model '{paths[i]}' does not exist", paths[i]);
        }
        var entries = new List<ModelEntry>();
        for (int i = 0; i < paths.Count; i++)
            entries.Add(new ModelEntry(ModelSet.NameOf(paths[i]), paths[i], LoadOrCollect(cl, paths[i], profiles.Count > 0 ? profiles[i] : null, comparable: true, out _)));
        return ModelSet.Create(entries);
    }

    /// <summary>The accuracy budget of a multi-model plan: --min-top1 P (absolute, percent) or --max-drop P (points below the best model; default 1).</summary>
    public static double ParseModelSetDrop(CommandLine cl, ModelSet models)
    {
        if (!cl.Has("min-top1")) return cl.GetDouble("max-drop", 1);
        if (cl.Has("max-drop")) throw new UsageException("give --max-drop (relative to the best model) or --min-top1 (absolute), not both");
        double floor = cl.GetDouble("min-top1", 0);
        return floor is >= 0 and <= 100 ? models.DropBudgetFor(floor) : throw new UsageException("--min-top1 is a top-1 percentage in [0, 100]");
    }

    public static IReadOnlyList<string> SplitSemicolons(string text)
    {
        var items = text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return items.Length > 0 ? items : throw new ModelSetException(ModelSetError.Empty, "the model list is empty: give at least one model (--models \"A.onnx;B.onnx\")");
    }

    public static Hardware ParseHardware(CommandLine cl) => new(cl.GetDouble("device-speed", 1), cl.GetDouble("server-speed", 1),
        cl.Get("device-profile") is string dp ? PlanningProfile.Load(dp) : null);

    public static PlanRequest ParseBudgets(CommandLine cl, LinkProfile link) => new(link, cl.GetDouble("max-drop", 1),
        cl.Has("slo-ms") ? cl.GetDouble("slo-ms", 0) : null, PlanRequest.ParseObjective(cl.Get("objective") ?? "latency"));

    public static IReadOnlyList<LabelledImage> Images(CommandLine cl, int count)
    {
        string data = cl.Require("data");
        // A folder with labels.csv (e.g. `cleave train fmnist-grid`'s test images) labels itself; else ImageNet file names.
        var images = File.Exists(Path.Combine(data, Cleave.Evaluation.Datasets.ImageFolder.LabelsFileName))
            ? Cleave.Evaluation.Datasets.ImageFolder.Load(data, cl.Get("labels")).Take(count).ToList()
            : ImageNetSample.Load(data, cl.Get("labels") ?? Path.Combine(AssetLocator.Resolve(cl.Get("assets")), "vision", "imagenet_wnids.txt")).Take(count).ToList();
        if (images.Count == 0) throw new ArgumentException($"no labelled images in '{data}'");
        return images;
    }

    public static PlanningProfile LoadOrCollect(CommandLine cl, out string path) =>
        LoadOrCollect(cl, cl.Require("model"), cl.Get("profile"), comparable: false, out path);

    /// <summary>
    /// The profile of one model: the cached one while it matches the options, else collected (needs --data).
    /// <paramref name="comparable"/>: a cached profile must also carry what makes models comparable (input shape,
    /// classes, calibration hash), as a multi-model plan needs.
    /// </summary>
    public static PlanningProfile LoadOrCollect(CommandLine cl, string model, string? profilePath, bool comparable, out string path)
    {
        int count = cl.GetInt("images", 64);
        if (count <= 0) throw new UsageException("--images must be positive");
        path = profilePath ?? ProfileCache.DefaultPath(model, count);
        var options = new ProfileOptions
        {
            Splits = cl.Get("splits") is string s ? ParseList(s, x => x) : [],
            MaxSplits = cl.GetInt("max-splits", 5),
            Codecs = cl.Get("codecs") is string c ? [.. c.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : ProfileOptions.DefaultCodecs,
            JpegQualities = cl.Get("jpeg") is string j ? ParseList(j, x => int.Parse(x, CultureInfo.InvariantCulture)) : [50, 75, 90, 95],
        };
        if (File.Exists(path) && !cl.Has("recollect"))
        {
            var cached = PlanningProfile.Load(path);
            string? why = ProfileCache.Mismatch(cached, OnnxModel.Load(model).Sha256, count, options)
                ?? (comparable && cached.CalibrationSha256 is null ? "it records no calibration hash (collected before 2026-12-02)" : null);
            if (why is null) return cached;
            Console.Error.WriteLine($"cleave plan: not reusing {path}: {why}");
        }
        if (!cl.Has("data")) throw new UsageException($"no usable profile for '{model}' at {path}: give --data DIR to collect one");
        var images = Images(cl, count);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var profile = ProfileCollector.Collect(model, images, options, step => Console.Error.WriteLine($"plan: {step} ({clock.Elapsed.TotalSeconds:F0}s)"));
        profile.Save(path);
        Console.Error.WriteLine($"plan: profile written to {path} in {clock.Elapsed.TotalSeconds:F0}s");
        return profile;
    }

    public static LinkProfile ParseLink(CommandLine cl)
    {
        double loss = ParseLoss(cl);
        if (cl.Get("link") is string preset)
        {
            if (cl.Has("uplink-kbps")) throw new UsageException("give --link or --uplink-kbps, not both");
            var link = LinkProfile.Preset(preset);
            return cl.Has("loss") ? link with { Name = link.Name + "*", Loss = loss } : link;
        }
        if (!cl.Has("uplink-kbps")) throw new UsageException("give a link: --link PRESET or --uplink-kbps K --rtt-ms R");
        double up = cl.GetDouble("uplink-kbps", 0);
        if (!(up > 0)) throw new UsageException("--uplink-kbps must be positive");
        return new LinkProfile("custom", up, cl.GetDouble("downlink-kbps", up), cl.GetDouble("rtt-ms", 0), loss);
    }

    /// <summary><c>--loss P</c>: packet loss probability, 0 when absent.</summary>
    public static double ParseLoss(CommandLine cl)
    {
        double loss = cl.GetDouble("loss", 0);
        return loss is >= 0 and < 1 ? loss : throw new UsageException("--loss is a probability per packet in [0, 1)");
    }

    public static IReadOnlyList<T> ParseList<T>(string text, Func<string, T> parse)
    {
        try { return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse)]; }
        catch (FormatException) { throw new UsageException($"cannot read the list '{text}'"); }
    }
}
