using Cleave.Cli.Infrastructure;
using Cleave.Codecs;
using Cleave.Runtime;
using Cleave.Runtime.Client;
using Cleave.Runtime.Load;
using Cleave.Runtime.Serving;

namespace Cleave.Cli.Commands;

public sealed class LoadtestCommand : ICommand
{
    public string Name => "loadtest";
    public string Summary => "many simulated clients against one `cleave serve`: throughput, latency percentiles, errors, server CPU per request";
    public string Usage => $"""
        usage: cleave loadtest --server URL[,URL...] --split DIR --images DIR --clients N --duration S [--codec SPEC]
                               [--mode split|full] [--limit N] [--in-flight N] [--retries N] [--deadline-ms T] [--timeout-ms T] [--insecure] [--json]
                               [--link PRESET | --uplink-kbps K --rtt-ms R --loss P] [--api-key-file F] [--client-cert F.pfx] [--metrics-url URL]
        {ServerAddressParsing.Help}
          --split DIR      the split folder the server serves (its head makes the frames here)
        {NetworkOptionParsing.ImagesHelp}
          --codec SPEC     codec for the cut tensor (default quant:bits=8,entropy=rans)
          --clients N      concurrent simulated clients, each with its own stream (closed loop)
          --duration S     seconds of sending; every request in flight at the end is still awaited and counted
          --mode full      send the image files; the server runs the whole model (compare server CPU per request)
          --limit N        images prepared (default 32); frames are made once here before the test starts, so the
                           load generator spends no CPU on heads and codecs while it measures the server
          --in-flight N    requests each client keeps waiting (default 1)
          --timeout-ms T   how long one try waits for its answer before it is retried (default 30000)
          --insecure       accept any TLS certificate (self-signed development servers)
        {RetryOptionParsing.Help}
        {ExitOptionParsing.Help}
          --metrics-url URL where the server's /metrics is, for a server with --metrics-port (default: each --server)
        {SecurityOptionParsing.ClientHelp}
        {NetworkOptionParsing.LinkHelp}
        Server figures (CPU seconds, executions, batch sizes, decode and tail seconds) are differences of the
        server's /metrics read before, every 0.5 s during, and after the test, per server process (a restarted
        server is a new process: a killed one counts up to its last reading). Failed tries, retries, reconnects
        and outages (a try the transport lost, to the next answer) are reported, and latency p50/p99 per 10 s of
        answers (before, during and after an outage); the exit status is 1 when a
        request was lost (no answer by its deadline) or answered twice.
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["server", "split", "images", "clients", "duration", "codec", "mode", "limit", "in-flight", "timeout-ms", "metrics-url", "exit-threshold", .. RetryOptionParsing.Options, .. NetworkOptionParsing.LinkOptions,
            .. SecurityOptionParsing.ClientValueOptions], ["json", "insecure", "exit"]);
        string mode = cl.Get("mode") ?? ServingModes.Split;
        if (mode is not (ServingModes.Split or ServingModes.Full)) throw new UsageException($"--mode is split or full, got '{mode}'");
        var servers = ServerAddressParsing.Parse(cl.Require("server"));
        int clients = cl.GetInt("clients", 8);
        double duration = cl.GetDouble("duration", 10);
        if (clients < 1 || !(duration > 0)) throw new UsageException("--clients and --duration must be positive");
        var images = NetworkOptionParsing.Images(cl.Require("images"), cl.GetInt("limit", 32));
        var codec = FeatureCodecs.Create(cl.Get("codec") ?? "quant:bits=8,entropy=rans");
        SplitDirectory? split = mode == ServingModes.Split ? SplitDirectory.Load(cl.Require("split")) : null;

        Console.Error.WriteLine($"preparing {images.Count} {(split is null ? "image files" : $"frames ({codec.Spec})")}");
        using var exit = ExitOptionParsing.Load(cl, split);
        IReadOnlyList<byte[]> payloads;
        IReadOnlyList<bool> answeredOnDevice = [];
        if (split is null) payloads = LoadPayloads.ImageFiles(images);
        else if (exit is null) payloads = LoadPayloads.SplitFrames(split, images, codec);
        else
        {
            (payloads, answeredOnDevice) = LoadPayloads.SplitFramesWithExit(split, images, codec, exit);
            Console.Error.WriteLine($"exit at threshold {exit.Threshold:0.####}: {answeredOnDevice.Count(e => e)} of {images.Count} payloads answered on the device");
        }
        var options = new LoadOptions
        {
            Server = servers[0], FailoverServers = servers.Skip(1).ToArray(), Payloads = payloads, AnsweredOnDevice = answeredOnDevice, Mode = mode, ManifestHash = split?.ManifestHash ?? "",
            Codecs = split is null ? [] : [codec.Spec], Clients = clients, Duration = TimeSpan.FromSeconds(duration),
            InFlightPerClient = Math.Max(1, cl.GetInt("in-flight", 1)),
            Retry = RetryOptionParsing.Parse(cl),
            RequestTimeout = TimeSpan.FromMilliseconds(cl.GetDouble("timeout-ms", 30_000)),
            Link = NetworkOptionParsing.ParseLink(cl), AcceptAnyServerCertificate = cl.Has("insecure"),
            BitErrors = NetworkOptionParsing.ParseBitErrors(cl),
            Credentials = SecurityOptionParsing.ParseClient(cl), MetricsUrl = cl.Get("metrics-url") is { } metrics ? new Uri(metrics) : null,
        };
        Console.Error.WriteLine($"{clients} clients x {options.InFlightPerClient} in flight for {duration} s against {string.Join(", ", servers)} ({mode})");
        var report = LoadGenerator.RunAsync(options).GetAwaiter().GetResult();

        if (cl.Has("json"))
            Json.Write(w => System.Text.Json.JsonSerializer.Serialize(w, report, JsonNames.SnakeCase));
        else
        {
            Console.WriteLine($"{report.Mode}: {report.Clients} clients, {report.Seconds:F1} s, {report.Sent} sent, {report.Answered} answered, " +
                $"{report.Refused} refused, {report.Lost} lost, {report.Duplicates} duplicates");
            Console.WriteLine($"throughput {report.ThroughputPerSecond:F1} req/s; latency p50 {report.LatencyP50Ms:F1} ms, p95 {report.LatencyP95Ms:F1} ms, p99 {report.LatencyP99Ms:F1} ms; payload {report.PayloadBytesMean:F0} B");
            Console.WriteLine($"server: {report.ServerExecuted} executed, CPU {1000 * report.ServerCpuSecondsPerRequest:F2} ms/request, {report.ServerAllocatedBytesPerRequest / 1024:F1} KiB allocated/request, decode {1000 * report.ServerDecodeCpuSecondsPerRequest:F3} ms CPU ({1000 * report.ServerDecodeSecondsPerRequest:F3} wall)/request, " +
                $"model {1000 * report.ServerTailSecondsPerRequest:F2} ms/request, mean batch {report.MeanBatchSize:F2} ({string.Join(", ", report.BatchSizes.Select(b => $"<={b.Key}: {b.Value}"))})");
            if (report.Exited > 0)
                Console.WriteLine($"exit: {report.Exited} answered on the device ({100.0 * report.Exited / (report.Exited + report.Sent):F1} % of requests), {report.BytesSaved:N0} B not sent; " +
                    $"server CPU {1000 * report.ServerCpuSecondsPerDeviceRequest:F2} ms per device request (sent or exited)");
            Console.WriteLine($"tries: {report.FailedTries} failed{(report.FailedTries > 0 ? $" ({string.Join(", ", report.FailedTriesByKind.Select(k => $"{k.Key} {k.Value}"))})" : "")}, " +
                $"{report.Retries} retries, {report.Reconnects} reconnects, {report.Failovers} failovers, {report.FailBacks} fail-backs, {report.Replayed} replayed; " +
                (report.Outages.Count == 0 ? "no outage" : string.Join("; ", report.Outages.Select(o =>
                    $"outage {o.StartSeconds:F1}-{o.EndSeconds:F1} s ({o.Seconds:F2} s{(o.Resolved ? "" : ", unresolved")})"))));
            if (report.LatencyWindows.Count > 1)
                Console.WriteLine("latency by answer time: " + string.Join("; ", report.LatencyWindows.Select(w =>
                    $"{w.StartSeconds:F0}-{w.EndSeconds:F0} s {w.Answered} answered, p50 {w.P50Ms:F0} ms, p99 {w.P99Ms:F0} ms")));
            foreach (var p in report.ServerProcesses)
                Console.WriteLine($"server process {p.ServerId}: seen {p.FirstSeenSeconds:F1}-{p.LastSeenSeconds:F1} s, {p.Answered} answered, {p.Executed} executed, " +
                    $"CPU {1000 * p.CpuSecondsPerRequest:F2} ms/request, mean batch {p.MeanBatchSize:F2}");
            if (report.ErrorsByKind.Count > 0) Console.WriteLine($"errors: {string.Join(", ", report.ErrorsByKind.Select(e => $"{e.Key} {e.Value}"))}");
        }
        return report.Lost == 0 && report.Duplicates == 0 ? 0 : 1;
    }
}
