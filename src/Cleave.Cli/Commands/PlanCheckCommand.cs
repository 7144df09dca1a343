using System.Text.Json;
using Cleave.Cli.Infrastructure;
using Cleave.Planning.Planner;
using Cleave.Planning.Profiles;
using Cleave.Planning.Serving;
using Cleave.Runtime.Links;

namespace Cleave.Cli.Commands;

public sealed class PlanCheckCommand : ICommand
{
    public string Name => "plan check";
    public string Summary => "predicted vs measured latency of the planned choice over emulated links (in-process server on loopback)";
    public string Usage => """
        usage: cleave plan check --model M.onnx --data DIR [--links wifi,lte,ble] [--requests N] [--run-images K] [--work DIR] [--json] [plan options]
          for each link: plan for it (same options as `cleave plan`), serve every cut the plans need from an in-process
          server on 127.0.0.1, run the chosen configuration over the emulated link for N requests (default 30; the
          first K images, default 16, cycled; the device emulated at --device-speed) and compare the mean latency with
          the prediction. Split folders go to --work (default: a temporary folder). --planned-device makes every emulated device step last exactly its planned time (a steady dedicated device)
          instead of the measured time / device speed. --retime measures the profile's
          compute times again first (for a shared machine whose load has changed since calibration). --loss P gives
          every link that packet loss (emulated as retransmission timeouts; the plans and predictions include it).
          --model M.onnx     the unsplit image classifier (as for `cleave plan`)
          --data DIR         labelled images (calibration, and the images sent)
          --links L,L        the links to plan for and run over (default wifi,lte,ble)
          --requests N       requests per link (default 30)
          --run-images K     the first K images are sent, cycled (default 16)
          --work DIR         where the plans' split folders go (default: a temporary folder)
          plan options: as `cleave plan --help` lists them (--device-speed, --max-drop, --images, ...)
        several models: --models "A;B;C" (with --profiles, --min-top1 as for `cleave plan`) plans each case over all of
          them and runs each choice with its own model's server; --thresholds T1,T2 makes the cases every link x every
          latency threshold (the SLO, with --objective accuracy: the most accurate choice under it)
          --models "A;B;C"   the models to choose among
          --profiles "P;Q"   their profiles, in the same order
          --min-top1 P       absolute accuracy floor in percent (instead of --max-drop from the best model)
          --thresholds T,T   latency thresholds in ms (default: --slo-ms, or none)
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. PlanOptionParsing.ValueOptions, .. PlanOptionParsing.ModelSetOptions, "links", "requests", "run-images", "work"],
            ["json", "recollect", "retime", "planned-device"]);
        // Options first: a bad one should not cost a calibration run.
        double loss = PlanOptionParsing.ParseLoss(cl);
        var links = (cl.Get("links") ?? "wifi,lte,ble").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(LinkProfile.Preset)
            .Select(l => cl.Has("loss") ? l with { Name = l.Name + "*", Loss = loss } : l).ToList();
        int requests = cl.GetInt("requests", 30);
        if (requests < 1) throw new UsageException("--requests must be positive");
        if (cl.Has("models")) return RunModels(cl, links, requests);
        if (cl.Has("thresholds")) throw new UsageException("--thresholds goes with --models");
        var profile = PlanOptionParsing.LoadOrCollect(cl, out _);
        var images = PlanOptionParsing.Images(cl, cl.GetInt("run-images", 16));
        string work = cl.Get("work") ?? Directory.CreateTempSubdirectory("cleave-plan-check-").FullName;
        var hardware = PlanOptionParsing.ParseHardware(cl);
        if (cl.Has("retime"))
        {
            Console.Error.WriteLine("plan: timing the profile's compute again on this machine (--retime)");
            profile = ProfileCollector.Retime(profile, cl.Require("model"), images[0]);
        }
        var checks = PlanBench.CheckPredictionsAsync(profile, cl.Require("model"), hardware, PlanOptionParsing.ParseBudgets(cl, links[0]), links, images,
            requests, work, cl.Has("planned-device"), step => Console.Error.WriteLine($"plan check: {step}")).GetAwaiter().GetResult();

        if (cl.Has("json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(checks.Select(c => new
            {
                link = c.Link, chosen = c.Chosen, predicted_ms = c.Predicted.TotalMs, predicted = c.Predicted,
                measured_mean_ms = c.Measured.MeanMs, measured_p50_ms = c.Measured.P50Ms, measured_p95_ms = c.Measured.P95Ms,
                error = c.ErrorFraction, requests = c.Measured.Requests, top1 = c.Measured.Top1, full_top1 = c.Measured.FullTop1,
                measured_device_ms = c.Measured.Results.Average(r => r.DeviceMs + r.EncodeMs),
                measured_network_ms = c.Measured.Results.Average(r => r.NetworkMs), measured_server_ms = c.Measured.Results.Average(r => r.ServerMs),
            }), PlanDocument.JsonOptions));
            return 0;
        }
        Console.WriteLine($"device speed {hardware.DeviceSpeed:0.###} (emulated), server speed {hardware.ServerSpeed:0.###}, {requests} requests per link");
        Console.WriteLine("| link | chosen | predicted ms (device + net + server) | measured mean ms (device + net + server) | error | measured p50 | p95 |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in checks)
        {
            var p = c.Predicted;
            var r = c.Measured.Results;
            Console.WriteLine($"| {c.Link} | `{c.Chosen}` | {p.TotalMs:0.0} ({p.DeviceMs + p.EncodeMs:0.0} + {p.NetworkMs:0.0} + {p.ServerDecodeMs + p.ServerMs:0.0}) | " +
                              $"{c.Measured.MeanMs:0.0} ({r.Average(x => x.DeviceMs + x.EncodeMs):0.0} + {r.Average(x => x.NetworkMs):0.0} + {r.Average(x => x.ServerMs):0.0}) | " +
                              $"{100 * c.ErrorFraction:+0.0;-0.0}% | {c.Measured.P50Ms:0.0} | {c.Measured.P95Ms:0.0} |");
        }
        return 0;
    }

    /// <summary><c>--models</c>: each link x threshold planned over every model, each choice run on its own model's server.</summary>
    private static int RunModels(CommandLine cl, IReadOnlyList<LinkProfile> links, int requests)
    {
        var budgets = PlanOptionParsing.ParseBudgets(cl, links[0]);
        var hardware = PlanOptionParsing.ParseHardware(cl);
        if (hardware.DeviceProfile is not null) throw new UsageException("--device-profile describes one model; with --models give --device-speed");
        IReadOnlyList<double?> thresholds = cl.Get("thresholds") is string ts
            ? [.. PlanOptionParsing.ParseList(ts, x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).Select(t => (double?)t)]
            : [budgets.SloMs];
        if (thresholds.Any(t => t is double v && !(v > 0))) throw new UsageException("--thresholds are latencies in ms, each positive");
        if (cl.Has("retime")) throw new UsageException("--retime is for one model; with --models use --planned-device or fresh profiles");
        var models = PlanOptionParsing.LoadModelSet(cl);
        double maxDrop = PlanOptionParsing.ParseModelSetDrop(cl, models);
        var images = PlanOptionParsing.Images(cl, cl.GetInt("run-images", 16));
        string work = cl.Get("work") ?? Directory.CreateTempSubdirectory("cleave-plan-check-").FullName;
        var cases = thresholds.SelectMany(t => links.Select(l => new ModelSearchCase(l, t))).ToList();
        var checks = ModelSearchBench.CheckPredictionsAsync(models, hardware, maxDrop, budgets.Objective, cases, images, requests, work,
            cl.Has("planned-device"), step => Console.Error.WriteLine($"plan check: {step}")).GetAwaiter().GetResult();
        if (cl.Has("json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(checks.Select(c => new
            {
                link = c.Case.Link.Name, threshold_ms = c.Case.ThresholdMs, chosen = c.Chosen, model = c.Model, predicted_ms = c.Predicted.TotalMs, predicted = c.Predicted,
                measured_mean_ms = c.Measured.MeanMs, measured_p50_ms = c.Measured.P50Ms, measured_p95_ms = c.Measured.P95Ms, error = c.ErrorFraction,
                requests = c.Measured.Requests, top1 = c.Measured.Top1,
                measured_device_ms = c.Measured.Results.Average(r => r.DeviceMs + r.EncodeMs),
                measured_network_ms = c.Measured.Results.Average(r => r.NetworkMs), measured_server_ms = c.Measured.Results.Average(r => r.ServerMs),
            }), PlanDocument.JsonOptions));
            return 0;
        }
        Console.WriteLine($"device speed {hardware.DeviceSpeed:0.###} (emulated{(cl.Has("planned-device") ? ", at the planned times" : "")}), drop <= {maxDrop:0.##} points from {models.BestModel}, objective {PlanRequest.Name(budgets.Objective)}, {requests} requests per case");
        Console.WriteLine("| threshold | link | chosen | predicted ms (device + net + server) | measured mean ms (device + net + server) | error | p50 | p95 | top-1 (run) |");
        Console.WriteLine("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in checks)
        {
            var p = c.Predicted;
            var r = c.Measured.Results;
            Console.WriteLine($"| {(c.Case.ThresholdMs is double t ? $"{t:0.#} ms" : "none")} | {c.Case.Link.Name} | `{c.Chosen}` | " +
                              $"{p.TotalMs:0.0} ({p.DeviceMs + p.EncodeMs:0.0} + {p.NetworkMs:0.0} + {p.ServerDecodeMs + p.ServerMs:0.0}) | " +
                              $"{c.Measured.MeanMs:0.0} ({r.Average(x => x.DeviceMs + x.EncodeMs):0.0} + {r.Average(x => x.NetworkMs):0.0} + {r.Average(x => x.ServerMs):0.0}) | " +
                              $"{100 * c.ErrorFraction:+0.0;-0.0}% | {c.Measured.P50Ms:0.0} | {c.Measured.P95Ms:0.0} | {100 * c.Measured.Top1:0.0}% |");
        }
        return 0;
    }
}
