using System.Runtime.InteropServices;
using Cleave.Cli.Infrastructure;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Serving;

namespace Cleave.Cli.Commands;

public sealed class ServeCommand : ICommand
{
    public string Name => "serve";
    public string Summary => "serve a split's tail (and/or a whole model) over gRPC to many clients, with dynamic batching";
    public string Usage => $"""
        usage: cleave serve [SPLIT_DIR] [--full model.onnx] [--port 7070] [--host 127.0.0.1] [--max-batch N]
                            [--max-delay-ms D] [--queue N] [--threads N] [--max-message-bytes B]
                            [--cert file.pfx [--cert-password P]] [--lm MODEL_DIR --lm-split-layer K]
                            [--api-keys FILE] [--client-ca CA.pem] [--rate R --burst B --max-concurrent C] [--metrics-port P]
                            [--idempotency-entries N] [--idempotency-mb MB] [--idempotency-age-s S]
          SPLIT_DIR        a folder written by `cleave split` (head.onnx, tail.onnx, split.json): split mode
          --plan P --splits DIR  host every cut of a plan (folders written by `cleave split M --plan P -o DIR`) side by side
          --full M.onnx    also (or only) serve the whole model on uploaded images: full mode
          --max-batch N    most requests per model run (default 8; 1 disables batching)
          --max-delay-ms D longest a batch waits for more requests after its first (default 2)
          --queue N        requests that may wait per mode; beyond that RESOURCE_EXHAUSTED with a retry hint (default 256)
          --threads N      ONNX Runtime intra-op threads (default: one per core)
          --idempotency-entries N --idempotency-mb MB --idempotency-age-s S  answers remembered for retries: at most N
                           (default 65536), MB mebibytes (default 64), for S seconds (default 300); oldest go first
          --cert F.pfx     TLS (HTTP/1.1 + HTTP/2) instead of cleartext HTTP/2
          --lm DIR --lm-split-layer K  also host split generation for a language model imported by `cleave import
                           model.bin --splits` (service cleave.v1.Generation, defaults as `cleave serve-lm`)
        {SecurityOptionParsing.ServerHelp}
        gRPC service cleave.v1.SplitInference (proto/cleave/v1/split_inference.proto); GET /healthz and /metrics
        (Prometheus) on the same port unless --metrics-port. Keys and quotas: docs/security.md. Runs until Ctrl+C.
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["full", "port", "host", "max-batch", "max-delay-ms", "queue", "threads", "max-message-bytes", "cert", "cert-password", "plan", "splits", "lm", "lm-split-layer",
            "idempotency-entries", "idempotency-mb", "idempotency-age-s", .. SecurityOptionParsing.ServerValueOptions], []);
        if (cl.Positional.Count > 1) throw new UsageException("give at most one split folder");
        var planned = PlanVerbs.PlannedSplitFolders(cl);
        var options = new SplitServerOptions
        {
            SplitDirectory = planned.Count > 0 ? planned[0] : cl.Positional.Count == 1 ? cl.Positional[0] : null,
            MoreSplitDirectories = [.. planned.Skip(1)],
            FullModelPath = cl.Get("full"),
            Port = cl.GetInt("port", 7070),
            Host = cl.Get("host") ?? "127.0.0.1",
            MaxBatch = cl.GetInt("max-batch", 8),
            MaxDelay = TimeSpan.FromMilliseconds(cl.GetDouble("max-delay-ms", 2)),
            QueueCapacity = cl.GetInt("queue", 256),
            Threads = cl.GetInt("threads", 0),
            MaxMessageBytes = cl.GetInt("max-message-bytes", 16 << 20),
            CertificatePath = cl.Get("cert"),
            CertificatePassword = cl.Get("cert-password"),
            Security = SecurityOptionParsing.ParseServer(cl),
            IdempotencyCapacity = cl.GetInt("idempotency-entries", 65_536),
            IdempotencyMaxBytes = (long)(cl.GetDouble("idempotency-mb", 64) * (1 << 20)),
            IdempotencyMaxAge = TimeSpan.FromSeconds(cl.GetDouble("idempotency-age-s", 300)),
        };
        if (cl.Get("lm") is { } lm)
        {
            // One port for both kinds of client: the generation service is mapped on the same Kestrel host.
            int layer = cl.GetInt("lm-split-layer", 0);
            if (layer < 1) throw new UsageException("--lm needs --lm-split-layer K (the number of transformer layers the client runs, at least 1)");
            var generation = new GenerationOptions { ModelDirectory = lm, SplitLayer = layer };
            options = options with { ConfigureServices = services => services.AddGeneration(generation), ConfigureEndpoints = endpoints => endpoints.MapGeneration() };
        }
        else if (cl.Has("lm-split-layer")) throw new UsageException("--lm-split-layer needs --lm MODEL_DIR");
        if (options.SplitDirectory is null && options.FullModelPath is null) throw new UsageException("give a split folder, --full model.onnx, or both");
        try { options.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        using var stop = new CancellationTokenSource();
        // Ctrl+C and SIGTERM end the verb, which disposes the server (the server itself takes no process signals).
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        return Serve(options, stop.Token).GetAwaiter().GetResult();
    }

    private static async Task<int> Serve(SplitServerOptions options, CancellationToken stop)
    {
        if (options.Security.InsecureBindingWarning(options.Host, options.CertificatePath is not null) is { } warning) Console.Error.WriteLine(warning);
        await using var server = await SplitServer.StartAsync(options, stop);
        foreach (string mode in server.State.Modes)
        {
            var backend = server.State.Backend(mode);
            Console.Error.WriteLine($"{mode}: {(mode.StartsWith(ServingModes.Split, StringComparison.Ordinal) ? $"manifest {backend.ModelHash}" : $"model sha256 {backend.ModelHash}")}, " +
                $"input [{string.Join(",", backend.SampleShape)}]{(backend.Batchable ? "" : " (fixed batch of 1: requests run one at a time)")}");
        }
        Console.Error.WriteLine($"max batch {options.MaxBatch}, max delay {options.MaxDelay.TotalMilliseconds:0.###} ms, queue {options.QueueCapacity}");
        if (options.Security.RequiresAuthentication)
            Console.Error.WriteLine($"authentication: {(options.Security.ApiKeyFile is null && options.Security.ApiKeys.Count == 0 ? "" : "API keys")}{(options.Security.ClientCaPath is null ? "" : " client certificates")}");
        Console.WriteLine($"listening on {server.Url} (metrics: {new Uri(server.MetricsUrl, "/metrics")}); Ctrl+C stops");
        try { await Task.Delay(Timeout.Infinite, stop); }
        catch (OperationCanceledException) { }
        Console.Error.WriteLine("stopping");
        return 0;
    }
}
