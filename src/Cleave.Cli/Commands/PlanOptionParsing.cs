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

    public static Hardware ParseHardware(CommandLine cl) => new(cl.GetDouble("device-speed", 1), cl.GetDouble("server-speed", 1),
        cl.Get("device-profile") is string dp ? PlanningProfile.Load(dp) : null);

    public static PlanRequest ParseBudgets(CommandLine cl, LinkProfile link) => new(link, cl.GetDouble("max-drop", 1),
        cl.Has("slo-ms") ? cl.GetDouble("slo-ms", 0) : null, PlanRequest.ParseObjective(cl.Get("objective") ?? "latency"));

    public static IReadOnlyList<LabelledImage> Images(CommandLine cl, int count)
    {
        string data = cl.Require("data");
        string labels = cl.Get("labels") ?? Path.Combine(AssetLocator.Resolve(cl.Get("assets")), "vision", "imagenet_wnids.txt");
        var images = ImageNetSample.Load(data, labels).Take(count).ToList();
        if (images.Count == 0) throw new ArgumentException($"no labelled images in '{data}'");
        return images;
    }

    public static PlanningProfile LoadOrCollect(CommandLine cl, out string path)
    {
        string model = cl.Require("model");
        int count = cl.GetInt("images", 64);
        if (count <= 0) throw new UsageException("--images must be positive");
        path = cl.Get("profile") ?? ProfileCache.DefaultPath(model, count);
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
            string? why = ProfileCache.Mismatch(cached, OnnxModel.Load(model).Sha256, count, options);
            if (why is null) return cached;
            Console.Error.WriteLine($"cleave plan: not reusing {path}: {why}");
        }
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
