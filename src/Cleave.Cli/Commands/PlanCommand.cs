using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;
using Cleave.Runtime.Links;

namespace Cleave.Cli.Commands;

public sealed class PlanCommand : ICommand
{
    public string Name => "plan";
    public string Summary => "choose where to cut and how hard to compress for a device, a link and an accuracy budget";
    public string Usage => """
        usage: cleave plan --model M.onnx --data DIR (--link PRESET | --uplink-kbps K --rtt-ms R) [--max-drop P] [-o plan.json] [--json] [options]
          --link PRESET        lora, ble, 3g, lte, 5g, wifi (or none)
          --uplink-kbps K      a custom link: uplink rate (kbit/s), with --rtt-ms R and optional --downlink-kbps D
          --device-speed F     device speed relative to this machine (0.25 = four times slower; default 1)
          --device-profile P   a profile collected on the device itself (cleave plan --profile-only there): its times replace the scaled ones
          --server-speed G     server speed relative to this machine (default 1)
          --max-drop P         largest acceptable top-1 drop in percentage points (default 1)
          --slo-ms L           end-to-end latency limit per request (optional)
          --objective O        latency (default), server-time or bytes: what to minimise among the configurations meeting the budgets
          -o, --output FILE    write plan.json (schema: docs/planning.md)
          --sweep-links        print the choice for every preset link and --device-speeds (default 1,0.25,0.05) instead
        calibration (cached in --profile, default <model>.profile-<N>.json, reused while it matches):
          --images N           calibration images (default 64, the first N in name order)   --labels FILE  wnid list
          --splits T1,T2       cut tensors (default: 5 picked from `cleave inspect`)      --max-splits N
          --codecs "S1;S2"     codec settings (default: quant 8-bit rANS, rans-ifc 4/3/2 bits, clipped 12 levels)
          --jpeg Q1,Q2         JPEG qualities for full offload (default 50,75,90)
          --profile-only       collect (or refresh with --recollect) the profile and stop
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args,
            ["model", "data", "labels", "assets", "images", "splits", "max-splits", "codecs", "jpeg", "profile", "device-profile",
             "link", "uplink-kbps", "downlink-kbps", "rtt-ms", "device-speed", "server-speed", "max-drop", "slo-ms", "objective",
             "output", "device-speeds"],
            ["json", "sweep-links", "profile-only", "recollect"]);
        var profile = LoadOrCollect(cl, out string profilePath);
        if (cl.Has("profile-only"))
        {
            Console.WriteLine($"profile: {profilePath} ({profile.Splits.Count} cuts x {profile.Splits.FirstOrDefault()?.Codecs.Count ?? 0} codecs, {profile.Offload.Count} JPEG qualities, {profile.Images} images)");
            return 0;
        }

        double maxDrop = cl.GetDouble("max-drop", 1);
        double? slo = cl.Has("slo-ms") ? cl.GetDouble("slo-ms", 0) : null;
        var objective = PlanRequest.ParseObjective(cl.Get("objective") ?? "latency");
        double serverSpeed = cl.GetDouble("server-speed", 1);

        if (cl.Has("sweep-links"))
        {
            var speeds = cl.Get("device-speeds") is string s ? ParseList(s, x => double.Parse(x, CultureInfo.InvariantCulture)) : LinkSweep.DefaultDeviceSpeeds;
            var cells = LinkSweep.Run(profile, LinkProfile.Presets, speeds, serverSpeed, maxDrop, slo, objective);
            if (cl.Has("json")) Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(cells, PlanDocument.JsonOptions));
            else PlanTables.PrintSweep(cells, speeds, maxDrop, serverSpeed);
            return 0;
        }

        var link = ParseLink(cl);
        var hardware = new Hardware(cl.GetDouble("device-speed", 1), serverSpeed,
            cl.Get("device-profile") is string dp ? PlanningProfile.Load(dp) : null);
        var configurations = ConfigurationBuilder.Build(profile, hardware);
        var decision = SplitPlanner.Decide(configurations, new PlanRequest(link, maxDrop, slo, objective));
        var plan = PlanDocument.From(decision, SplitPlanner.AdaptiveSet(configurations, decision), profile, hardware);
        if (cl.Get("output") is string output) plan.Save(output);

        if (cl.Has("json")) Console.WriteLine(plan.ToJson());
        else PlanTables.PrintDecision(decision, plan, cl.Get("output"));
        return decision.Feasible ? 0 : 3;
    }

    private static PlanningProfile LoadOrCollect(CommandLine cl, out string path)
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
            JpegQualities = cl.Get("jpeg") is string j ? ParseList(j, x => int.Parse(x, CultureInfo.InvariantCulture)) : [50, 75, 90],
        };
        if (File.Exists(path) && !cl.Has("recollect"))
        {
            var cached = PlanningProfile.Load(path);
            string? why = ProfileCache.Mismatch(cached, OnnxModel.Load(model).Sha256, count, options);
            if (why is null) return cached;
            Console.Error.WriteLine($"cleave plan: not reusing {path}: {why}");
        }
        string data = cl.Require("data");
        string labels = cl.Get("labels") ?? Path.Combine(AssetLocator.Resolve(cl.Get("assets")), "vision", "imagenet_wnids.txt");
        var images = ImageNetSample.Load(data, labels).Take(count).ToList();
        if (images.Count == 0) throw new ArgumentException($"no labelled images in '{data}'");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var profile = ProfileCollector.Collect(model, images, options, step => Console.Error.WriteLine($"plan: {step} ({clock.Elapsed.TotalSeconds:F0}s)"));
        profile.Save(path);
        Console.Error.WriteLine($"plan: profile written to {path} in {clock.Elapsed.TotalSeconds:F0}s");
        return profile;
    }

    private static LinkProfile ParseLink(CommandLine cl)
    {
        if (cl.Get("link") is string preset)
        {
            if (cl.Has("uplink-kbps")) throw new UsageException("give --link or --uplink-kbps, not both");
            return LinkProfile.Preset(preset);
        }
        if (!cl.Has("uplink-kbps")) throw new UsageException("give a link: --link PRESET or --uplink-kbps K --rtt-ms R");
        double up = cl.GetDouble("uplink-kbps", 0);
        if (!(up > 0)) throw new UsageException("--uplink-kbps must be positive");
        return new LinkProfile("custom", up, cl.GetDouble("downlink-kbps", up), cl.GetDouble("rtt-ms", 0), 0);
    }

    private static IReadOnlyList<T> ParseList<T>(string text, Func<string, T> parse)
    {
        try { return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse)]; }
        catch (FormatException) { throw new UsageException($"cannot read the list '{text}'"); }
    }
}
