using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models.Preprocessing;
using Cleave.Planning.Planner;
using Cleave.Planning.Serving;

namespace Cleave.Cli.Commands;

/// <summary>The <c>--plan</c> forms of <c>split</c>, <c>serve</c> and <c>client</c>: output formatting around Cleave.Planning.Serving.</summary>
internal static class PlanVerbs
{
    public static readonly string[] ClientValueOptions = ["plan", "splits", "model", "device-speed"];
    public static readonly string[] ClientFlags = ["fixed", "planned-device"];

    public const string ClientHelp = """
          --plan P         run a plan instead (cleave plan -o P): --splits DIR (from `cleave split M --plan P -o DIR`),
                           --model M.onnx (for full local and JPEG offload); switches among the plan's configurations
                           as the measured link changes (--fixed: always the chosen one). Requests run one at a time.
                           --device-speed F emulates a slower device (device work padded to time / F);
                           --planned-device pads each device step to the plan's time instead.
        """;

    public static int SplitForPlan(string modelPath, string planPath, string output, bool json)
    {
        var plan = PlanDocument.Load(planPath);
        var written = PlanSplitFolders.Write(modelPath, plan, output);
        if (json) Json.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("folders");
            foreach (string f in written) w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteEndObject();
        });
        else
            foreach (var (tensor, folder) in plan.HostedSplits.Zip(written)) Console.WriteLine($"{tensor} -> {folder}");
        return 0;
    }

    /// <summary>The split folders to host for <c>serve --plan P --splits DIR</c> (empty without --plan).</summary>
    public static IReadOnlyList<string> PlannedSplitFolders(CommandLine cl)
    {
        if (cl.Get("plan") is not string planPath)
        {
            if (cl.Has("splits")) throw new UsageException("--splits goes with --plan");
            return [];
        }
        if (cl.Positional.Count > 0) throw new UsageException("give --plan or a split folder, not both");
        var plan = PlanDocument.Load(planPath);
        var folders = PlanSplitFolders.Load(plan, cl.Require("splits")).Values.Select(s => s.Path).ToList();
        if (plan.AdaptiveConfigurations.Any(c => c.Kind == ConfigurationKind.Offload) && !cl.Has("full"))
            Console.Error.WriteLine("cleave serve: the plan may offload whole images; add --full MODEL.onnx to serve them");
        return folders;
    }

    public static int RunPlanClient(CommandLine cl)
    {
        var plan = PlanDocument.Load(cl.Require("plan"));
        var images = NetworkOptionParsing.Images(cl.Require("images"), cl.GetInt("limit", int.MaxValue));
        var options = new PlanClientOptions
        {
            Server = ServerAddressParsing.ParseOne(cl.Require("server")), Plan = plan, SplitsDirectory = cl.Require("splits"), ModelPath = cl.Require("model"),
            Link = NetworkOptionParsing.ParseLink(cl), Adaptive = !cl.Has("fixed"),
            EmulatedDeviceSpeed = cl.GetDouble("device-speed", 1), PlannedDeviceTimes = cl.Has("planned-device"),
        };
        return RunAsync(options, images, cl.Has("json")).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(PlanClientOptions options, IReadOnlyList<string> images, bool json)
    {
        await using var client = await PlanClient.CreateAsync(options);
        var results = new List<(string Image, PlanRequestResult Result)>();
        if (!json) Console.WriteLine($"{"image",-36} {"configuration",-60} {"top-1",5} {"bytes",7} {"device",7} {"net",7} {"server",7} {"total",7}");
        foreach (string path in images)
        {
            var r = await client.InferAsync(RgbImage.Load(path));
            results.Add((Path.GetFileName(path), r));
            if (!json)
                Console.WriteLine($"{Path.GetFileName(path),-36} {r.Configuration,-60} {r.Top1,5} {r.Bytes,7} {r.DeviceMs + r.EncodeMs,7:0.0} {r.NetworkMs,7:0.0} {r.ServerMs,7:0.0} {r.TotalMs,7:0.0}{(r.Exited ? "  answered on the device (exit)" : "")}");
        }
        var switches = client.Selector.Switches;
        if (json)
        {
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("plan_choice", options.Plan.Chosen);
                w.WriteString("link", options.Link.ToString());
                w.WriteNumber("mean_ms", results.Count == 0 ? 0 : results.Average(r => r.Result.TotalMs));
                w.WriteNumber("exited", results.Count(r => r.Result.Exited));
                w.WriteStartArray("requests");
                foreach (var (image, r) in results)
                {
                    w.WriteStartObject();
                    w.WriteString("image", image);
                    w.WriteString("configuration", r.Configuration);
                    w.WriteNumber("top1", r.Top1);
                    w.WriteNumber("bytes", r.Bytes);
                    w.WriteBoolean("exited", r.Exited);
                    w.WriteNumber("device_ms", r.DeviceMs);
                    w.WriteNumber("encode_ms", r.EncodeMs);
                    w.WriteNumber("network_ms", r.NetworkMs);
                    w.WriteNumber("server_ms", r.ServerMs);
                    w.WriteNumber("total_ms", r.TotalMs);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("switches");
                foreach (var s in switches)
                {
                    w.WriteStartObject();
                    w.WriteNumber("request", s.Request);
                    w.WriteString("from", s.From);
                    w.WriteString("to", s.To);
                    w.WriteNumber("uplink_kbps", s.UplinkKbps);
                    w.WriteNumber("rtt_ms", s.RttMs);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        }
        foreach (var s in switches)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"switch at request {s.Request}: {s.From} -> {s.To} (uplink ~{s.UplinkKbps:0} kbit/s, rtt ~{s.RttMs:0.0} ms)"));
        if (results.Count > 0)
        {
            int exited = results.Count(r => r.Result.Exited);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{results.Count} requests, mean {results.Average(r => r.Result.TotalMs):0.0} ms, {switches.Count} switches, {client.Probes} RTT probes") +
                (exited > 0 ? $", {exited} answered on the device by the early exit" : ""));
        }
        return 0;
    }
}
