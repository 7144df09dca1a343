using System.Runtime.InteropServices;
using Cleave.Cli.Infrastructure;
using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Hosting;
using Cleave.Cluster.Security;
using Cleave.Cluster.Status;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Serving;

namespace Cleave.Cli.Commands;

public sealed class ServeCommand : ICommand
{
    public string Name => "serve";
    public string Summary => "serve a split's tail (and/or a whole model) over gRPC to many clients, with dynamic batching";
    public string Usage => $"""
        usage: cleave serve [SPLIT_DIR] [--full model.onnx] [--port 7070] [--host 127.0.0.1] [--max-batch N]
                            [--max-delay-ms D] [--queue N] [--threads N] [--exec auto|PLAN] [--max-message-bytes B]
                            [--cert file.pfx [--cert-password P]] [--lm MODEL_DIR --lm-split-layer K]
                            [--api-keys FILE] [--client-ca CA.pem] [--rate R --burst B --max-concurrent C] [--metrics-port P]
                            [--idempotency-entries N] [--idempotency-mb MB] [--idempotency-age-s S]
                            [--max-connections N] [--hello-timeout-s S] [--idle-timeout-s S] [--max-replies N]
                            [--max-pixels N] [--decode-budget-mb MB] [--max-buffered-mb MB] [--log-level L]
                            [--cluster dev|redis://HOST:PORT [--cluster-id ID] [--silo-port P] [--gateway-port G]
                             [--primary-silo-port P0] [--join-timeout-s S]
                             [--silo-cert F.pfx [--silo-cert-password-env VAR] [--silo-trust CA.pem]]]
          SPLIT_DIR        a folder written by `cleave split` (head.onnx, tail.onnx, split.json): split mode
          --plan P --splits DIR  host every cut of a plan (folders written by `cleave split M --plan P -o DIR`) side by side
          --port P         port (default 7070; 0 lets the OS choose)
          --host ADDR      address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
          --full M.onnx    also (or only) serve the whole model on uploaded images: full mode
          --max-batch N    most requests per model run (default 8; 1 disables batching)
          --max-delay-ms D longest a batch waits for more requests after its first (default 2)
          --queue N        requests that may wait per mode; beyond that RESOURCE_EXHAUSTED with a retry hint (default 256)
          --threads N      ONNX Runtime intra-op threads (default: one per core)
          --exec PLAN      execution plan instead of --max-batch/--max-delay-ms/--threads: streams=S,threads=T,batch=B,
                           delay-ms=D (S ONNX Runtime sessions side by side, T intra-op threads each; keys left out:
                           streams=1, threads=0 = one per core, batch=8, delay-ms=2)
          --exec auto      choose the plan at start by a short calibration of the tail on this machine (about 3-4 s on
                           2 cores); the plan is printed and exported as cleave_execution_plan_info in /metrics
          --max-message-bytes B  largest payload (default 16 MiB): the image byte limit in full mode; in split mode
                           the cut tensor's largest frame (raw float32 + header) when that is smaller
          --idempotency-entries N --idempotency-mb MB --idempotency-age-s S  answers remembered for retries: at most N
                           (default 65536), MB mebibytes (default 64), for S seconds (default 300); oldest go first
          --cert F.pfx     TLS (HTTP/1.1 + HTTP/2) instead of cleartext HTTP/2
          --cert-password P  the password of the --cert file
          --max-connections N   TCP connections open at once (default 1024)
          --hello-timeout-s S   a stream must send its Hello within S seconds (default 10), else DEADLINE_EXCEEDED
          --idle-timeout-s S    a stream idle for S seconds (nothing sent, no reply read, nothing in flight) is
                           ended with DEADLINE_EXCEEDED (default 300)
          --max-replies N       replies one stream may leave unread (default 1024); beyond: RESOURCE_EXHAUSTED
          --max-pixels N        full mode: images declaring more pixels are refused (default 40000000)
          --decode-budget-mb MB full mode: decoded pixels of concurrent requests together (default 512)
          --max-buffered-mb MB  partly received messages of all streams together (default 256); the stream that
                           would exceed it is reset (RESOURCE_EXHAUSTED). Limits: docs/serving.md, "Limits"
          --lm DIR --lm-split-layer K  also host split generation for a language model imported by `cleave import
                           model.bin --splits` (service cleave.v1.Generation, defaults as `cleave serve-lm`)
          --cluster M      run as one silo of a Cleave cluster on Microsoft Orleans (docs/scaling.md): `dev` for
                           development clustering on this machine, redis://HOST:PORT for Redis membership. The
                           gRPC services are unchanged; language-model sessions become grains any silo serves, and
                           GET /cluster on --port describes every silo (`cleave cluster status`)
          --cluster-id ID  silos join only a cluster of the same id (default cleave; one Redis serves one cluster)
          --silo-port P    silo-to-silo port (default 11111)
          --gateway-port G Orleans client port (default 30000)
          --primary-silo-port P0  with --cluster dev: the silo port of the first silo (omit on the first)
          --join-timeout-s S  give up joining the cluster after S s (default 60; a loaded machine may need more)
          --silo-cert F.pfx  TLS with mutual authentication on the silo and gateway ports (default cleartext): this
                           silo presents F and accepts a peer only if it presents the same certificate, or with
                           --silo-trust one issued by that CA; a silo refused by a member fails to start at once
          --silo-cert-password-env VAR  read the --silo-cert password from environment variable VAR (off the command line)
          --silo-trust CA.pem  accept any peer certificate issued by this CA (PEM or DER) instead of only our own
        {SecurityOptionParsing.ServerHelp}
        {ServerLogging.Help}
        gRPC service cleave.v1.SplitInference (proto/cleave/v1/split_inference.proto); GET /healthz and /metrics
        (Prometheus) on the same port unless --metrics-port. Keys and quotas: docs/security.md. Runs until Ctrl+C.
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["full", "port", "host", "max-batch", "max-delay-ms", "queue", "threads", "exec", "max-message-bytes", "cert", "cert-password", "plan", "splits", "lm", "lm-split-layer",
            "idempotency-entries", "idempotency-mb", "idempotency-age-s", .. SecurityOptionParsing.ServerValueOptions,
            "max-connections", "hello-timeout-s", "idle-timeout-s", "max-replies", "max-pixels", "decode-budget-mb", "max-buffered-mb",
            "cluster", "cluster-id", "silo-port", "gateway-port", "primary-silo-port", "join-timeout-s", "silo-cert", "silo-cert-password-env", "silo-trust", "log-level"], []);
        using var loggers = ServerLogging.Create(ServerLogging.Parse(cl));
        var defaults = new ServerLimits();
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
            IdempotencyMaxBytes = Mib(cl, "idempotency-mb", 64L << 20),
            IdempotencyMaxAge = Seconds(cl, "idempotency-age-s", TimeSpan.FromMinutes(5)),
            LoggerFactory = loggers,
            Limits = defaults with
            {
                MaxConnections = cl.GetInt("max-connections", defaults.MaxConnections),
                HelloTimeout = Seconds(cl, "hello-timeout-s", defaults.HelloTimeout),
                StreamIdleTimeout = Seconds(cl, "idle-timeout-s", defaults.StreamIdleTimeout),
                MaxOutboxMessages = cl.GetInt("max-replies", defaults.MaxOutboxMessages),
                MaxImagePixels = (long)cl.GetDouble("max-pixels", defaults.MaxImagePixels),
                DecodeMemoryBudgetBytes = Mib(cl, "decode-budget-mb", defaults.DecodeMemoryBudgetBytes),
                MaxBufferedRequestBytes = Mib(cl, "max-buffered-mb", defaults.MaxBufferedRequestBytes),
            },
        };
        if (cl.Get("exec") is { } exec)
        {
            foreach (string replaced in new[] { "max-batch", "max-delay-ms", "threads" })
                if (cl.Has(replaced)) throw new UsageException($"--exec sets the batch, delay and threads: give it or --{replaced}, not both");
            if (exec == "auto") options = options with { AutoExecution = true };
            else
            {
                try { options = options with { Execution = ExecutionPlan.Parse(exec) }; }
                catch (ExecutionPlanException e) { throw new UsageException($"--exec: {e.Message}"); }
            }
        }
        GenerationOptions? generation = null;
        if (cl.Get("lm") is { } lm)
        {
            // One port for both kinds of client: the generation service is mapped on the same Kestrel host.
            int layer = cl.GetInt("lm-split-layer", 0);
            if (layer < 1) throw new UsageException("--lm needs --lm-split-layer K (the number of transformer layers the client runs, at least 1)");
            generation = new GenerationOptions { ModelDirectory = lm, SplitLayer = layer };
            if (!cl.Has("cluster")) options = options with { ConfigureServices = services => services.AddGeneration(generation), ConfigureEndpoints = endpoints => endpoints.MapGeneration() };
        }
        else if (cl.Has("lm-split-layer")) throw new UsageException("--lm-split-layer needs --lm MODEL_DIR");
        bool classification = options.SplitDirectory is not null || options.FullModelPath is not null;
        ClusterSiloOptions? silo = null;
        if (cl.Get("cluster") is { } cluster)
        {
            if (!classification && generation is null) throw new UsageException("a silo needs something to serve: a split folder, --full, or --lm");
            silo = new ClusterSiloOptions
            {
                Redis = cluster == "dev" ? null : cluster,
                ClusterId = cl.Get("cluster-id") ?? "cleave",
                SiloPort = cl.GetInt("silo-port", 11111),
                GatewayPort = cl.GetInt("gateway-port", 30000),
                PrimarySiloPort = cl.Has("primary-silo-port") ? cl.GetInt("primary-silo-port", 0) : null,
                StartDeadline = Seconds(cl, "join-timeout-s", TimeSpan.FromSeconds(60)),
                FrontEnd = new FrontEndOptions { Host = options.Host, Port = options.Port, Classification = classification ? options : null, Security = options.Security },
                Generation = generation,
                Tls = SiloTls(cl),
            };
            try { silo.Validate(); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
        }
        else
        {
            foreach (string clusterOnly in new[] { "cluster-id", "silo-port", "gateway-port", "primary-silo-port", "join-timeout-s", "silo-cert", "silo-cert-password-env", "silo-trust" })
                if (cl.Has(clusterOnly)) throw new UsageException($"--{clusterOnly} needs --cluster");
            if (!classification) throw new UsageException("give a split folder, --full model.onnx, or both");
        }
        if (classification)
        {
            try { options.Validate(); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
        }

        using var stop = new CancellationTokenSource();
        // Ctrl+C and SIGTERM end the verb, which disposes the server (the server itself takes no process signals).
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        return silo is null ? Serve(options, stop.Token).GetAwaiter().GetResult() : ServeSilo(silo, stop.Token).GetAwaiter().GetResult();
    }

    private static async Task<int> ServeSilo(ClusterSiloOptions options, CancellationToken stop)
    {
        Console.Error.WriteLine($"joining cluster '{options.ClusterId}' ({options.Redis ?? "development clustering"}), silo port {options.SiloPort}, gateway port {options.GatewayPort}" +
            (options.Tls is null ? " (cleartext between silos)" : $" (TLS between silos, trusting {(options.Tls.TrustPath is null ? "our own certificate" : options.Tls.TrustPath)})"));
        ClusterSilo started;
        try { started = await ClusterSilo.StartAsync(options, stop); }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM while still joining: nothing was served, so stop quietly (no stack trace).
            Console.Error.WriteLine("stopped before the silo had joined the cluster");
            return 1;
        }
        await using var silo = started;
        Console.WriteLine($"silo {silo.SiloAddress} listening on {silo.FrontEndUrl} (cluster: {new Uri(silo.FrontEndUrl, ClusterStatus.Path)}); Ctrl+C stops");
        try { await Task.Delay(Timeout.Infinite, stop); }
        catch (OperationCanceledException) { }
        Console.Error.WriteLine("leaving the cluster");
        return 0;
    }

    /// <summary>--silo-cert and its companions; the password comes from the environment so that it never shows in `ps`.</summary>
    private static SiloTlsOptions? SiloTls(CommandLine cl)
    {
        if (cl.Get("silo-cert") is not { } certificate)
        {
            foreach (string needsCert in new[] { "silo-cert-password-env", "silo-trust" })
                if (cl.Has(needsCert)) throw new UsageException($"--{needsCert} needs --silo-cert");
            return null;
        }
        string? password = null;
        if (cl.Get("silo-cert-password-env") is { } variable)
            password = Environment.GetEnvironmentVariable(variable) ?? throw new UsageException($"--silo-cert-password-env: the environment variable {variable} is not set");
        return new SiloTlsOptions { CertificatePath = certificate, CertificatePassword = password, TrustPath = cl.Get("silo-trust") };
    }

    private static TimeSpan Seconds(CommandLine cl, string name, TimeSpan fallback)
    {
        double seconds = cl.GetDouble(name, fallback.TotalSeconds);
        return seconds is > 0 and <= 86_400 ? TimeSpan.FromSeconds(seconds) : throw new UsageException($"--{name} must be between 0 and 86400 seconds, got {seconds}");
    }

    private static long Mib(CommandLine cl, string name, long fallbackBytes)
    {
        double mib = cl.GetDouble(name, fallbackBytes / (double)(1 << 20));
        return mib is >= 1 and <= 1 << 20 ? (long)(mib * (1 << 20)) : throw new UsageException($"--{name} must be between 1 and 1048576 MiB, got {mib}");
    }

    private static async Task<int> Serve(SplitServerOptions options, CancellationToken stop)
    {
        if (options.Security.InsecureBindingWarning(options.Host, options.CertificatePath is not null) is { } warning) Console.Error.WriteLine(warning);
        await using var server = await SplitServer.StartAsync(options, stop);
        foreach (string mode in server.State.Modes)
        {
            var backend = server.State.Backend(mode);
            Console.Error.WriteLine($"{mode}: {(mode.StartsWith(ServingModes.Split, StringComparison.Ordinal) ? $"manifest {backend.ModelHash}" : $"model sha256 {backend.ModelHash}")}, " +
                $"input [{string.Join(",", backend.SampleShape)}]{(backend.Batchable ? "" : " (fixed batch of 1: requests run one at a time)")}" +
                (backend.Tasks.Count > 1 ? $", tasks {string.Join(", ", backend.Tasks.Select(t => $"{t.Name} ({t.Kind})"))}" : ""));
        }
        var state = server.State;
        if (state.Calibration is { } calibration)
        {
            Console.Error.WriteLine($"calibrated the tail in {calibration.Took.TotalSeconds:0.0} s ({Environment.ProcessorCount} cores; samples/s per plan, best round):");
            foreach (var trial in calibration.Trials)
                Console.Error.WriteLine($"  {trial.Plan}: {trial.SamplesPerSecond:0.0}{(trial.Plan == calibration.Chosen ? "  <- chosen" : "")}");
        }
        Console.Error.WriteLine($"execution plan: {state.Plan} ({(state.Calibration is not null ? "auto" : options.Execution is not null ? "given" : "from --max-batch/--max-delay-ms/--threads")}), queue {options.QueueCapacity}");
        if (options.Security.RequiresAuthentication)
            Console.Error.WriteLine($"authentication: {(options.Security.ApiKeyFile is null && options.Security.ApiKeys.Count == 0 ? "" : "API keys")}{(options.Security.ClientCaPath is null ? "" : " client certificates")}");
        Console.WriteLine($"listening on {server.Url} (metrics: {new Uri(server.MetricsUrl, "/metrics")}); Ctrl+C stops");
        try { await Task.Delay(Timeout.Infinite, stop); }
        catch (OperationCanceledException) { }
        Console.Error.WriteLine("stopping");
        return 0;
    }
}
