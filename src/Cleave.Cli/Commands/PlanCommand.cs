using System.Globalization;
using Cleave.Cli.Infrastructure;
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
          --model M.onnx       the unsplit image classifier to plan for (`cleave import` output)
          --data DIR           labelled images for calibration (as `cleave eval --data` reads them)
          --link PRESET        lora, ble, 3g, lte, 5g, wifi (or none)
          --uplink-kbps K      a custom link: uplink rate (kbit/s), with --rtt-ms R and optional --downlink-kbps D
          --rtt-ms R           the custom link's round-trip time (ms)
          --loss P             packet loss probability (with --link or a custom link; each loss costs one RTO, docs/links.md)
          --device-speed F     device speed relative to this machine (0.25 = four times slower; default 1)
          --device-profile P   a profile collected on the device itself (cleave plan --profile-only there): its times replace the scaled ones
          --server-speed G     server speed relative to this machine (default 1)
          --max-drop P         largest acceptable top-1 drop in percentage points (default 1)
          --slo-ms L           end-to-end latency limit per request (optional)
          --objective O        latency (default), server-time, bytes or accuracy: what to optimise among the configurations meeting the budgets
          --exit "D1;D2"       split folders with an early exit (exit.json from `cleave train exit`, its cut among the profile's
                               --splits): each threshold on its stored curve becomes a configuration "exit at t" (bytes and
                               server time x (1 - exit rate), latency mixing device-only and full path, accuracy from the curve)
          -o, --output FILE    write plan.json (schema: docs/planning.md)
          --sweep-links        print the choice for every preset link and --device-speeds (default 1,0.25,0.05) instead
        several models (joint model x cut x codec search, docs/planning.md "Several models"):
          --models "A;B;C"     the models to choose among (same classes, same kind of input; each profiled on the same --images)
          --profiles "P;Q;R"   their profiles, in the same order (default: each model's <model>.profile-<N>.json; missing ones are collected)
          --min-top1 P         absolute accuracy floor in percent, instead of --max-drop (which is then measured from the best model's top-1)
          --thresholds T1,T2   with --sweep-links: the choice per latency threshold (the SLO, ms) and preset link, at --device-speed
          --plot FILE.png      every model's configurations at predicted latency vs top-1, and the Pareto front over all models
        calibration (cached in --profile, default <model>.profile-<N>.json, reused while it matches):
          --images N           calibration images (default 64, the first N in name order)   --labels FILE  wnid list
          --splits T1,T2       cut tensors (default: 5 picked from `cleave inspect`)      --max-splits N
          --codecs "S1;S2"     codec settings (default: quant 8-bit rANS; rans-ifc 4/3/2 bits and clipped 12 levels, all ctx=2d)
          --jpeg Q1,Q2         JPEG qualities for full offload (default 50,75,90,95)
          --profile-only       collect (or refresh with --recollect) the profile and stop
          --retime             measure the profile's compute times again (accuracy and bytes kept) and save it
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. PlanOptionParsing.ValueOptions, .. PlanOptionParsing.ModelSetOptions, "output", "device-speeds", "plot", "exit"], ["json", "sweep-links", "profile-only", "recollect", "retime"]);
        if (cl.Has("exit") && (cl.Has("models") || cl.Has("sweep-links")))
            throw new UsageException("--exit plans one model on one link: leave out --models and --sweep-links");
        if (cl.Has("models")) return RunModels(cl);
        if (cl.Has("plot")) throw new UsageException("--plot goes with --models");
        var profile = PlanOptionParsing.LoadOrCollect(cl, out string profilePath);
        if (cl.Has("retime"))
        {
            profile = ProfileCollector.Retime(profile, cl.Require("model"), PlanOptionParsing.Images(cl, 1)[0]);
            profile.Save(profilePath);
            Console.Error.WriteLine($"plan: compute times measured again and saved in {profilePath}");
        }
        if (cl.Has("profile-only"))
        {
            Console.WriteLine($"profile: {profilePath} ({profile.Splits.Count} cuts x {profile.Splits.FirstOrDefault()?.Codecs.Count ?? 0} codecs, {profile.Offload.Count} JPEG qualities, {profile.Images} images)");
            return 0;
        }

        var budgets = PlanOptionParsing.ParseBudgets(cl, LinkProfile.Unlimited);
        double serverSpeed = cl.GetDouble("server-speed", 1);

        if (cl.Has("sweep-links"))
        {
            var speeds = cl.Get("device-speeds") is string s ? PlanOptionParsing.ParseList(s, x => double.Parse(x, CultureInfo.InvariantCulture)) : LinkSweep.DefaultDeviceSpeeds;
            var cells = LinkSweep.Run(profile, LinkProfile.Presets, speeds, serverSpeed, budgets.MaxDropPoints, budgets.SloMs, budgets.Objective);
            if (cl.Has("json")) Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(cells, PlanDocument.JsonOptions));
            else PlanTables.PrintSweep(cells, speeds, budgets.MaxDropPoints, serverSpeed);
            return 0;
        }

        var link = PlanOptionParsing.ParseLink(cl);
        var hardware = PlanOptionParsing.ParseHardware(cl);
        var configurations = ConfigurationBuilder.Build(profile, hardware);
        if (cl.Get("exit") is string exitFolders)
        {
            var folders = exitFolders.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (folders.Length == 0) throw new UsageException("--exit names no split folder");
            try { configurations = ExitConfigurations.Add(configurations, [.. folders.Select(ExitOption.Load)], hardware); }
            catch (ArgumentException e) { throw new UsageException($"--exit: {e.Message}"); }
        }
        var decision = SplitPlanner.Decide(configurations, budgets with { Link = link });
        var plan = PlanDocument.From(decision, SplitPlanner.AdaptiveSet(configurations, decision), profile, hardware);
        if (cl.Get("output") is string output) plan.Save(output);

        if (cl.Has("json")) Console.WriteLine(plan.ToJson());
        else PlanTables.PrintDecision(decision, plan, cl.Get("output"));
        return decision.Feasible ? 0 : 3;
    }

    /// <summary><c>--models</c>: the joint search over several models' configurations.</summary>
    private static int RunModels(CommandLine cl)
    {
        var budgets = PlanOptionParsing.ParseBudgets(cl, LinkProfile.Unlimited);
        var hardware = PlanOptionParsing.ParseHardware(cl);
        if (hardware.DeviceProfile is not null) throw new UsageException("--device-profile describes one model; with --models give --device-speed");
        var thresholds = cl.Get("thresholds") is string ts ? PlanOptionParsing.ParseList(ts, x => double.Parse(x, CultureInfo.InvariantCulture)) : null;
        if (thresholds is not null && !cl.Has("sweep-links")) throw new UsageException("--thresholds goes with --sweep-links");
        if (cl.Has("plot") && cl.Has("sweep-links")) throw new UsageException("--plot draws one decision; leave out --sweep-links");
        if (thresholds is not null && thresholds.Any(t => !(t > 0))) throw new UsageException("--thresholds are latencies in ms, each positive");
        var models = PlanOptionParsing.LoadModelSet(cl);
        if (cl.Has("profile-only"))
        {
            foreach (var m in models.Models) Console.WriteLine($"profile: {m.Name} ({m.Profile!.Splits.Count} cuts, {m.Profile.Images} images, top-1 {100 * m.Profile.FullTop1:0.0}%)");
            return 0;
        }
        double maxDrop = PlanOptionParsing.ParseModelSetDrop(cl, models);
        if (cl.Has("sweep-links"))
        {
            var limits = thresholds ?? (budgets.SloMs is double slo ? [slo] : throw new UsageException("with --models, --sweep-links needs --thresholds T1,T2 (or --slo-ms)"));
            var cells = ModelSearch.Sweep(models, hardware, LinkProfile.Presets, limits, maxDrop, budgets.Objective);
            if (cl.Has("json")) Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(cells, PlanDocument.JsonOptions));
            else ModelSearchTables.PrintSweep(models, cells, limits, maxDrop, hardware.DeviceSpeed, budgets.Objective);
            return 0;
        }
        var search = ModelSearch.Decide(models, hardware, budgets with { Link = PlanOptionParsing.ParseLink(cl), MaxDropPoints = maxDrop });
        if (cl.Get("output") is string output) ModelSearch.PlanForChosen(search, hardware).Save(output);
        if (cl.Get("plot") is string plot) File.WriteAllBytes(plot, ModelSearchChart.RenderPng(search));
        if (cl.Has("json"))
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
            {
                models = models.Models.Select(m => new { name = m.Name, path = m.Path, full_top1 = m.Profile!.FullTop1, full_ms = m.Profile.FullMs, images = m.Profile.Images }),
                best_model = models.BestModel, best_full_top1 = models.BestFullTop1, max_drop_points = maxDrop, slo_ms = budgets.SloMs,
                objective = PlanRequest.Name(budgets.Objective), link = PlanLink.From(search.Decision.Request.Link), device_speed = hardware.DeviceSpeed,
                server_speed = hardware.ServerSpeed, chosen = search.Chosen.Id, model = search.Chosen.Model, feasible = search.Decision.Feasible,
                explanation = search.Decision.Explanation, predicted = search.Decision.Chosen.Latency,
                pareto = search.ParetoFront3.Select(e => new PlannedConfiguration(e.Configuration, e.Latency.TotalMs, e.Feasible, true)),
            }, PlanDocument.JsonOptions));
        else ModelSearchTables.PrintDecision(search, hardware.DeviceSpeed, cl.Get("output"));
        return search.Decision.Feasible ? 0 : 3;
    }
}
