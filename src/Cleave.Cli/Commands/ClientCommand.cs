using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Models.Preprocessing;
using Cleave.Runtime;
using Cleave.Runtime.Client;
using Cleave.Runtime.Serving;

namespace Cleave.Cli.Commands;

public sealed class ClientCommand : ICommand
{
    public string Name => "client";
    public string Summary => "classify images through a `cleave serve` server: head and codec here, tail there";
    public string Usage => $"""
        usage: cleave client --server URL[,URL...] --split DIR --images DIR [--codec SPEC] [--mode split|full] [--limit N]
                             [--tasks A,B] [--in-flight N] [--retries N] [--deadline-ms T] [--timeout-ms T] [--check] [--insecure] [--json]
                             [--frames DIR]
                             [--link PRESET | --uplink-kbps K --rtt-ms R --loss P] [--api-key-file F] [--client-cert F.pfx]
        {ServerAddressParsing.Help}
          --split DIR      the same split folder the server serves (its head runs here; the manifest hashes must match)
        {NetworkOptionParsing.ImagesHelp}
          --limit N        only the first N images
          --codec SPEC     codec for the cut tensor (default quant:bits=8,entropy=rans)
          --mode full      upload the image files instead; the server runs the whole model (--split not needed)
          --tasks A,B      ask every request for these task tails (names from the server's Welcome; default: the default
                           task only): one transmission, one answer per task, printed under each image. Without --tasks,
                           a declared --ber picks the split folder's error-aware task trained for it (`train error-aware
                           --as-task`) when the rate is at least a tenth of its lowest trained rate (docs/resilience.md);
                           the choice is printed on stderr and in --json (task_chosen, task_reason)
          --in-flight N    requests waiting for answers at once (default 4)
          --timeout-ms T   how long one try waits for its answer before it is retried (default 30000)
        {RetryOptionParsing.Help}
        {ExitOptionParsing.Help}
        {GateOptionParsing.Help}
          --check          also run the tail here on each frame and count agreement with the server's top-1
          --frames DIR     also write each frame made here to DIR/<image file name>.clv (`cleave codec decode` reads
                           it): frames from two machines can then be compared value by value
          --insecure       accept any TLS certificate (self-signed development servers)
        {SecurityOptionParsing.ClientHelp}
        {NetworkOptionParsing.LinkHelp}
        {PlanVerbs.ClientHelp}
        Prints one line per image and a summary: bytes sent per request and the latency breakdown
        (head, encode, uplink, queue, decode, tail, downlink; downlink includes the measured transport overhead).
        With --json each request also has payload_sha256, the SHA-256 of the frame (or file) it sent, so runs on two
        machines can be compared frame by frame (docs/platforms.md: an arm64 device against x64).
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["server", "split", "images", "codec", "mode", "limit", "tasks", "in-flight", "timeout-ms", "exit-threshold", "frames", .. GateOptionParsing.ValueOptions, .. RetryOptionParsing.Options, .. NetworkOptionParsing.LinkOptions,
            .. PlanVerbs.ClientValueOptions, .. SecurityOptionParsing.ClientValueOptions], ["json", "check", "insecure", "exit", "gate", .. PlanVerbs.ClientFlags]);
        if (cl.Has("plan")) return PlanVerbs.RunPlanClient(cl);
        var servers = ServerAddressParsing.Parse(cl.Require("server"));
        string mode = cl.Get("mode") ?? ServingModes.Split;
        if (mode is not (ServingModes.Split or ServingModes.Full)) throw new UsageException($"--mode is split or full, got '{mode}'");
        var link = NetworkOptionParsing.ParseLink(cl);
        var images = NetworkOptionParsing.Images(cl.Require("images"), cl.GetInt("limit", int.MaxValue));
        int inFlight = cl.GetInt("in-flight", 4);
        if (inFlight < 1) throw new UsageException("--in-flight must be at least 1");
        var codec = FeatureCodecs.Create(cl.Get("codec") ?? "quant:bits=8,entropy=rans");
        SplitDirectory? split = mode == ServingModes.Split || cl.Has("split") ? SplitDirectory.Load(cl.Require("split")) : null;
        if (cl.Has("check") && (split is null || mode != ServingModes.Split)) throw new UsageException("--check compares split answers: needs --split in split mode");
        string? framesFolder = cl.Get("frames");
        if (framesFolder is not null && mode != ServingModes.Split) throw new UsageException("--frames keeps the frames the head makes: split mode only");
        if (framesFolder is not null) Directory.CreateDirectory(framesFolder);

        using var head = mode == ServingModes.Split ? SplitHead.Load(split!) : null;
        using var exit = ExitOptionParsing.Load(cl, mode == ServingModes.Split ? split : null);
        using var gate = GateOptionParsing.Load(cl, mode == ServingModes.Split ? split : null);
        using var localTail = cl.Has("check") ? SplitTailBackend.Load(split!.Path) : null;
        var options = new SplitClientOptions
        {
            Servers = servers, Mode = mode, ManifestHash = split?.ManifestHash ?? "", Codecs = mode != ServingModes.Split ? [] : gate is null ? [codec.Spec] : [.. gate.Codecs.Select(c => c.Spec)],
            Link = link, Retry = RetryOptionParsing.Parse(cl),
            BitErrors = NetworkOptionParsing.ParseBitErrors(cl), LinkSeed = NetworkOptionParsing.ParseLinkSeed(cl),
            RequestTimeout = TimeSpan.FromMilliseconds(cl.GetDouble("timeout-ms", 30_000)), AcceptAnyServerCertificate = cl.Has("insecure"),
            Credentials = SecurityOptionParsing.ParseClient(cl),
        };
        // With no --tasks, a declared bit-error channel (--ber) may pick an error-aware task of the local split folder.
        var choice = ChannelTaskChoice.Choose(mode == ServingModes.Split && split is not null ? split.Tasks : [], options.BitErrors,
            cl.Get("tasks") is { } tasks ? [.. tasks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : null);
        options = options with { Tasks = choice.Tasks };
        if (choice.Chosen is not null || !options.BitErrors.IsNone) Console.Error.WriteLine($"task: {choice.Reason}");
        var labels = TaskLabels(split, options.Tasks);
        bool json = cl.Has("json");
        return RunAsync(options, images, head, exit, gate, codec, localTail, inFlight, json, labels, framesFolder, choice).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(SplitClientOptions options, IReadOnlyList<string> images, SplitHead? head, DeviceExit? exit, DeviceGate? gate, FeatureCodec codec,
        SplitTailBackend? localTail, int inFlight, bool json, IReadOnlyDictionary<string, IReadOnlyList<string>> labels, string? framesFolder, ChannelTaskChoice choice)
    {
        var connected = await SplitClient.ConnectAsync(options);
        if (choice.ServedBy(connected.Welcome.Tasks) is var served && served != choice)
        {
            // The task is named in every request: connect again without it rather than have each one refused.
            await connected.DisposeAsync();
            (choice, options) = (served, options with { Tasks = served.Tasks });
            Console.Error.WriteLine($"task: {choice.Reason}");
            connected = await SplitClient.ConnectAsync(options);
        }
        await using var client = connected;
        Console.Error.WriteLine($"connected to {client.CurrentServer} ({client.Welcome.ServerId}), mode {options.Mode}, link {options.Link}" +
            (client.Welcome.Tasks.Count > 0 ? $", tasks {string.Join(", ", client.Welcome.Tasks.Select(t => $"{t.Name} ({t.Kind}, {t.Outputs})"))}" : ""));
        var print = new Lock();
        // As wide as the longest file name: a name is printed whole, so it can be pasted back.
        int width = images.Select(p => Path.GetFileName(p).Length).Append(5).Max();
        if (!json)
            Console.WriteLine($"{"image".PadRight(width)} {"top-1",5} {"score",6} {"bytes",8} {"head",6} {"enc",6} {"up",7} {"queue",6} {"dec",6} {"tail",6} {"down",7} {"total",7} {"batch",5} {"try",3}");
        var results = await ImageClassificationRun.RunAsync(client, images,
            path => head is null ? new EncodedFrame(File.ReadAllBytes(path), new TensorShape(0), 0, 0) : Keep(head.Encode(path, codec, exit, gate), path, framesFolder),
            inFlight,
            localTail is null ? null : frame => ImageNetSample.TopK(localTail.RunBatch([localTail.Prepare(frame)])[0], 1)[0],
            json ? null : r => { lock (print) PrintLine(r, width, labels); });

        var summary = ClientSummary.From(results);
        if (json)
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("server", client.CurrentServer.ToString());
                w.WriteNumber("failovers", client.Failovers);
                w.WriteString("mode", options.Mode);
                w.WriteString("codec", head is null ? null : codec.Spec);
                w.WriteString("link", options.Link.ToString());
                w.WriteString("bit_errors", options.BitErrors.ToString());
                w.WriteString("task_chosen", choice.Chosen);
                w.WriteString("task_reason", choice.Reason);
                w.WriteStartArray("requests");
                foreach (var r in results)
                {
                    w.WriteStartObject();
                    w.WriteString("image", Path.GetFileName(r.Image));
                    w.WriteNumber("bytes", r.PayloadBytes);
                    w.WriteString("payload_sha256", r.PayloadSha256);
                    w.WriteNumber("head_ms", r.HeadMs);
                    w.WriteNumber("encode_ms", r.EncodeMs);
                    if (r.Exit is { } e)
                    {
                        w.WriteNumber("exit_top1", e.Top1);
                        w.WriteNumber("exit_confidence", e.Confidence);
                        w.WriteBoolean("exited", e.Exited);
                    }
                    if (r.Gate is { } g)
                    {
                        w.WriteNumber("gate_choice", g.Index);
                        w.WriteString("gate_codec", g.Codec.Spec);
                        w.WriteNumber("gate_ms", g.Milliseconds);
                    }
                    if (r.AnsweredOnDevice) w.WriteNumber("bytes_saved", r.BytesSaved);
                    else if (r.Result is { } a)
                    {
                        w.WriteString("request_id", a.RequestId);
                        w.WriteNumber("top1", a.Top1);
                        w.WriteNumber("score", a.Top.Count > 0 ? a.Top[0].Score : 0);
                        w.WriteNumber("uplink_ms", a.UplinkMs);
                        w.WriteNumber("queue_ms", a.Timing.QueueMs);
                        w.WriteNumber("decode_ms", a.Timing.DecodeMs);
                        w.WriteNumber("tail_ms", a.Timing.TailMs);
                        w.WriteNumber("downlink_ms", a.DownlinkMs);
                        w.WriteNumber("total_ms", a.TotalMs);
                        w.WriteNumber("batch_size", a.Timing.BatchSize);
                        w.WriteNumber("attempts", a.Attempts);
                        if (a.Tasks.Count > 0)
                        {
                            w.WriteStartArray("tasks");
                            foreach (var t in a.Tasks)
                            {
                                w.WriteStartObject();
                                w.WriteString("name", t.Name);
                                w.WriteNumber("top1", t.Top1);
                                if (Label(labels, t) is { } label) w.WriteString("label", label);
                                w.WriteNumber("score", t.Top.Count > 0 ? t.Top[0].Score : 0);
                                w.WriteNumber("tail_ms", t.TailMs);
                                w.WriteEndObject();
                            }
                            w.WriteEndArray();
                        }
                    }
                    else w.WriteString("error", r.Error);
                    if (r.LocalTop1 is int local) w.WriteNumber("local_top1", local);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WritePropertyName("summary");
                System.Text.Json.JsonSerializer.Serialize(w, summary, JsonNames.SnakeCase);
                w.WriteEndObject();
            });
        else
        {
            Console.WriteLine($"{summary.Answered}/{summary.Requests} answered, {summary.Failed} failed; bytes per request {summary.BytesMean:F0}");
            Console.WriteLine($"mean ms: head {summary.HeadMs:F2}, encode {summary.EncodeMs:F2}, uplink {summary.UplinkMs:F2}, queue {summary.QueueMs:F2}, " +
                $"decode {summary.DecodeMs:F2}, tail {summary.TailMs:F2}, downlink {summary.DownlinkMs:F2}; end to end {summary.TotalMs:F2} (p50 {summary.TotalP50Ms:F2}, p95 {summary.TotalP95Ms:F2}); mean batch {summary.MeanBatchSize:F1}");
            if (exit is not null)
                Console.WriteLine($"exit (threshold {exit.Threshold:0.####}): {summary.Exited}/{summary.Requests} answered on the device, {summary.BytesSaved:N0} B not sent, " +
                    $"about {summary.ServerMsSaved:F1} ms of server decode + tail not spent");
            if (gate is not null)
                Console.WriteLine($"gate (threshold {gate.Threshold:0.###}, ceiling {gate.Ceiling}): settings chosen " +
                    string.Join(" / ", Enumerable.Range(0, gate.Codecs.Count).Select(k => results.Count(r => r.Gate?.Index == k))) +
                    $" (cheapest first), gate {results.Where(r => r.Gate is not null).Select(r => r.Gate!.Milliseconds).DefaultIfEmpty().Average():F3} ms mean");
            if (summary.Checked > 0) Console.WriteLine($"top-1 equal to the in-process split: {summary.CheckAgreed}/{summary.Checked}");
            foreach (string task in options.Tasks)
            {
                var answers = results.Select(r => r.Result?.Tasks.FirstOrDefault(t => t.Name == task)).OfType<TaskAnswer>().ToList();
                if (answers.Count > 0) Console.WriteLine($"task {task}: {answers.Count} answers, mean tail {answers.Average(t => t.TailMs):F2} ms (its model run on the batch)");
            }
        }
        return summary.Failed == 0 && summary.CheckAgreed == summary.Checked ? 0 : 1;
    }

    private static EncodedFrame Keep(EncodedFrame frame, string image, string? folder)
    {
        if (folder is not null) File.WriteAllBytes(Path.Combine(folder, Path.GetFileName(image) + ".clv"), frame.Frame);
        return frame;
    }

    /// <summary>The class names of the named tasks that have a labels file in the local split folder.</summary>
    private static Dictionary<string, IReadOnlyList<string>> TaskLabels(SplitDirectory? split, IReadOnlyList<string> tasks)
    {
        var labels = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (split is null) return labels;
        foreach (var task in split.Tasks)
            if (tasks.Contains(task.Name) && split.TaskLabels(task) is { } names) labels[task.Name] = names;
        return labels;
    }

    private static string? Label(IReadOnlyDictionary<string, IReadOnlyList<string>> labels, TaskAnswer answer) =>
        labels.TryGetValue(answer.Name, out var names) && answer.Top1 >= 0 && answer.Top1 < names.Count ? names[answer.Top1] : null;

    private static void PrintLine(ImageRequestResult r, int width, IReadOnlyDictionary<string, IReadOnlyList<string>> labels)
    {
        string name = Path.GetFileName(r.Image).PadRight(width);
        if (r.AnsweredOnDevice) { Console.WriteLine($"{name} {r.Exit!.Top1,5} {r.Exit.Confidence,6:F3} {0,8} {r.HeadMs,6:F1}  answered on the device (exit), {r.BytesSaved} B not sent"); return; }
        if (r.Result is not { } a) { Console.WriteLine($"{name} error: {r.Error}"); return; }
        Console.WriteLine($"{name} {a.Top1,5} {(a.Top.Count > 0 ? a.Top[0].Score : 0),6:F3} {r.PayloadBytes,8} {r.HeadMs,6:F1} {r.EncodeMs,6:F2} {a.UplinkMs,7:F1} " +
            $"{a.Timing.QueueMs,6:F1} {a.Timing.DecodeMs,6:F2} {a.Timing.TailMs,6:F1} {a.DownlinkMs,7:F1} {a.TotalMs,7:F1} {a.Timing.BatchSize,5} {a.Attempts,3}" +
            (r.LocalTop1 is int local && local != a.Top1 ? $"  (in-process top-1 {local})" : ""));
        foreach (var t in a.Tasks)
            Console.WriteLine($"  task {t.Name,-12} {t.Top1,5} {(t.Top.Count > 0 ? t.Top[0].Score : 0),6:F3} {Label(labels, t) ?? ""} (tail {t.TailMs:F2} ms)");
    }
}
