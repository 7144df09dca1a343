using System.Globalization;
using System.Runtime.InteropServices;
using Cleave.Cli.Infrastructure;
using Cleave.Runtime.Generation;
using System.Security.Cryptography.X509Certificates;

namespace Cleave.Cli.Commands;

public sealed class ServeLmCommand : ICommand
{
    public string Name => "serve-lm";
    public string Summary => "serve the tail of a split language model for `cleave generate --server` (gRPC, cleartext HTTP/2 or TLS)";
    public string Usage => $"""
        usage: cleave serve-lm --model DIR --split-layer K [--port P] [--host ADDR] [--max-sessions N] [--kv-cap-mb MB]
                               [--session-kv-cap-mb MB] [--idle-s S] [--workers N] [--batch-decode on|off|auto]
                               [--cert F.pfx [--cert-password P]] [--api-keys FILE] [--client-ca CA.pem]
                               [--rate R] [--burst B] [--max-concurrent C] [--max-connections N] [--max-streams N]
          --model DIR          folder written by `cleave import <checkpoint.bin> --tokenizer ... -o DIR --splits`
          --split-layer K      the server runs layers K.. (tail_K.onnx)
          --port P             port (default 50061; 0 lets the OS choose)
          --host ADDR          address to listen on (default 127.0.0.1)
          --max-sessions N     sessions held at once (default 256)
          --kv-cap-mb MB       all KV caches together (default 256); least recently used idle sessions are evicted
          --session-kv-cap-mb  one session's KV cache (default: the model's seq_len)
          --idle-s S           idle sessions expire after S seconds (default 300)
          --workers N          steps running at once (default: one per core)
          --batch-decode on|off|auto  run the decode steps queued at the same moment as one padded batch
                               (tail_K_batch.onnx) or each as its own call; auto (default): batched when the file exists
          --cert F.pfx         TLS (HTTP/2) instead of cleartext HTTP/2
          --cert-password P    the password of the --cert file
          --api-keys FILE      accept only callers with a key from FILE (as `cleave serve --api-keys`; also ${SecurityOptionParsing.ServerKeysVariable})
          --client-ca F        also accept callers whose client certificate chains to the CA in F (needs --cert)
          --rate R --burst B --max-concurrent C  per-caller quota on Open and Step calls (calls/s, burst, calls in
                               flight) for callers whose key line sets none (as `cleave serve`). Over quota: in-band
                               SERVER_BUSY with retry_after_ms, which `generate --server` waits out (default: unlimited)
          --max-connections N  TCP connections open at once (default 1024)
          --max-streams N      gRPC calls per connection (default 100). Other HTTP/2 limits: docs/serving.md, "Limits"
        Refused callers get gRPC UNAUTHENTICATED (docs/security.md). Runs until Ctrl+C or SIGTERM.
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, ["model", "split-layer", "port", "host", "max-sessions", "kv-cap-mb", "session-kv-cap-mb", "idle-s", "workers", "batch-decode", "cert", "cert-password", "api-keys", "client-ca",
            "rate", "burst", "max-concurrent", "max-connections", "max-streams"], []);
        if (cl.Positional.Count > 0) throw new UsageException($"unexpected argument '{cl.Positional[0]}'");
        var options = new GenerationOptions
        {
            ModelDirectory = cl.Require("model"),
            SplitLayer = cl.GetInt("split-layer", 0) is > 0 and var k ? k : throw new UsageException("--split-layer K (1..layers-1) is required"),
            MaxSessions = Positive(cl.GetInt("max-sessions", 256), "max-sessions"),
            KvCapBytes = (long)(Positive(cl.GetDouble("kv-cap-mb", 256), "kv-cap-mb") * (1 << 20)),
            SessionKvCapBytes = (long)(cl.GetDouble("session-kv-cap-mb", 0) * (1 << 20)),
            IdleTimeout = TimeSpan.FromSeconds(Positive(cl.GetDouble("idle-s", 300), "idle-s")),
            Workers = cl.GetInt("workers", 0),
            BatchDecode = cl.GetOnOffAuto("batch-decode"),
        };
        string hostText = cl.Get("host") ?? "127.0.0.1";
        var host = System.Net.IPAddress.Parse(hostText);
        var security = SecurityOptionParsing.ParseServer(cl);
        using var certificate = cl.Get("cert") is { } pfx ? X509CertificateLoader.LoadPkcs12FromFile(pfx, cl.Get("cert-password")) : null;
        if (security.InsecureBindingWarning(hostText, certificate is not null) is { } warning) Console.Error.WriteLine(warning);
        try { security.Validate(certificate is not null); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var limits = new Cleave.Runtime.Serving.ServerLimits
        {
            MaxConnections = Positive(cl.GetInt("max-connections", 1024), "max-connections"),
            MaxStreamsPerConnection = Positive(cl.GetInt("max-streams", 100), "max-streams"),
        };
        var server = GenerationServer.StartAsync(options, cl.GetInt("port", 50061), host, limits, security, certificate).GetAwaiter().GetResult();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cleave serve-lm: {server.Engine.Config.Source} layers {options.SplitLayer}..{server.Engine.Config.Layers - 1} on {server.Address} " +
            $"({server.Engine.CacheBytesPerToken} KV bytes per token, cap {options.KvCapBytes >> 20} MiB, {options.MaxSessions} sessions, decode steps {(server.Engine.BatchesDecodeSteps ? "batched" : "one call each")})"));
        using var stop = new CancellationTokenSource();
        // SIGTERM as well as Ctrl+C: a server started in the background by a script has SIGINT ignored.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            Task.Delay(Timeout.Infinite, stop.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    private static T Positive<T>(T value, string name) where T : System.Numerics.INumber<T> =>
        value > T.Zero ? value : throw new UsageException($"--{name} must be positive");
}
