using System.Globalization;
using System.Text.Json;
using Cleave.Cli.Infrastructure;
using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;
using Cleave.Planning.Serving;
using Cleave.Runtime.Links;

namespace Cleave.Cli.Commands;

public sealed class PlanAdaptCommand : ICommand
{
    public string Name => "plan adapt";
    public string Summary => "an adaptive client over a changing emulated link against every fixed configuration of the plan";
    public string Usage => """
        usage: cleave plan adapt --model M.onnx --data DIR [--schedule wifi:40,lte:40,ble:40] [--run-images K] [--work DIR] [--json] [plan options]
          plans for the schedule's first link, then runs the same images over the whole schedule (the emulated link
          changes after each stretch; the client is not told) once adaptively and once with each of the plan's
          adaptive configurations fixed, all against one in-process server on 127.0.0.1. --retime, --planned-device: as in `plan check`.
          --model M.onnx     the unsplit image classifier (as for `cleave plan`)
          --data DIR         labelled images (calibration, and the images sent)
          --schedule L:N,... the emulated link and how many requests it lasts, in turn (default wifi:40,lte:40,ble:40)
          --run-images K     the first K images are sent, cycled (default 16)
          --work DIR         where the plan's split folders go (default: a temporary folder)
          plan options: as `cleave plan --help` lists them (--device-speed, --max-drop, --images, ...)
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. PlanOptionParsing.ValueOptions, "schedule", "run-images", "work"], ["json", "recollect", "retime", "planned-device"]);
        var profile = PlanOptionParsing.LoadOrCollect(cl, out _);
        var schedule = ParseSchedule(cl.Get("schedule") ?? "wifi:40,lte:40,ble:40");
        var images = PlanOptionParsing.Images(cl, cl.GetInt("run-images", 16));
        string work = cl.Get("work") ?? Directory.CreateTempSubdirectory("cleave-plan-adapt-").FullName;
        var hardware = PlanOptionParsing.ParseHardware(cl);
        if (cl.Has("retime"))
        {
            Console.Error.WriteLine("plan: timing the profile's compute again on this machine (--retime)");
            profile = ProfileCollector.Retime(profile, cl.Require("model"), images[0]);
        }
        var (plan, runs) = PlanBench.CompareAdaptiveAsync(profile, cl.Require("model"), hardware, PlanOptionParsing.ParseBudgets(cl, schedule[0].Link),
            schedule, images, work, cl.Has("planned-device"), step => Console.Error.WriteLine($"plan adapt: {step}")).GetAwaiter().GetResult();

        if (cl.Has("json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                plan = plan.Chosen, adaptive_set = plan.Adaptive,
                schedule = schedule.Select(p => new { link = p.Link.Name, requests = p.Requests }),
                runs = runs.Select(r => new
                {
                    label = r.Label, mean_ms = r.MeanMs, p50_ms = r.P50Ms, p95_ms = r.P95Ms, top1 = r.Top1, full_top1 = r.FullTop1,
                    phase_mean_ms = r.PhaseMeans(schedule), switches = r.Switches, probes = r.Probes,
                    configurations = r.Results.GroupBy(x => x.Configuration).ToDictionary(g => g.Key, g => g.Count()),
                }),
            }, PlanDocument.JsonOptions));
            return 0;
        }
        Console.WriteLine($"schedule {string.Join(" -> ", schedule.Select(p => $"{p.Link.Name} x{p.Requests}"))}; device speed {hardware.DeviceSpeed:0.###} (emulated); " +
                          $"budget {plan.MaxDropPoints:0.##} points; unsplit top-1 on these requests {100 * runs[0].FullTop1:0.0}%");
        Console.WriteLine($"| run | mean ms | {string.Join(" | ", schedule.Select(p => p.Link.Name + " ms"))} | p95 ms | top-1 % | switches |");
        Console.WriteLine($"| --- | ---: |{string.Concat(schedule.Select(_ => " ---: |"))} ---: | ---: | ---: |");
        foreach (var r in runs)
            Console.WriteLine($"| {(r.Label == "adaptive" ? "**adaptive**" : $"`{r.Label}`")} | {r.MeanMs:0.0} | {string.Join(" | ", r.PhaseMeans(schedule).Select(m => m.ToString("0.0", CultureInfo.InvariantCulture)))} | " +
                              $"{r.P95Ms:0.0} | {100 * r.Top1:0.0} | {r.Switches.Count} |");
        foreach (var s in runs[0].Switches)
            Console.WriteLine($"switch at request {s.Request}: {s.From} -> {s.To} (estimated uplink {s.UplinkKbps:0} kbit/s, rtt {s.RttMs:0.0} ms; predicted {s.FromPredictedMs:0.0} -> {s.ToPredictedMs:0.0} ms)");
        var bestFixed = runs.Skip(1).MinBy(r => r.MeanMs)!;
        Console.WriteLine($"adaptive {runs[0].MeanMs:0.0} ms vs best fixed ({bestFixed.Label}) {bestFixed.MeanMs:0.0} ms; {runs[0].Probes} RTT probes");
        return 0;
    }

    private static IReadOnlyList<LinkPhase> ParseSchedule(string text)
    {
        var phases = new List<LinkPhase>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = part.IndexOf(':');
            if (colon <= 0 || !int.TryParse(part.AsSpan(colon + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 1)
                throw new UsageException($"a schedule entry is LINK:REQUESTS, e.g. wifi:40; got '{part}'");
            phases.Add(new LinkPhase(LinkProfile.Preset(part[..colon]), n));
        }
        if (phases.Count == 0) throw new UsageException("the schedule is empty");
        return phases;
    }
}
