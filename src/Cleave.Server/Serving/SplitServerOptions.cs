using Cleave.Runtime.Serving.Security;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cleave.Runtime.Serving;

/// <summary>How a <see cref="SplitServer"/> listens and what it serves. At least one of <see cref="SplitDirectory"/> and <see cref="FullModelPath"/>.</summary>
public sealed record SplitServerOptions
{
    /// <summary>A folder written by <c>cleave split</c>: the server runs its tail (split mode).</summary>
    public string? SplitDirectory { get; init; }

    /// <summary>
    /// More split folders of the same model (other cuts), served side by side: a client's Hello picks one by its
    /// manifest hash, so a client can switch cuts as its link changes (<c>cleave serve --plan</c>).
    /// </summary>
    public IReadOnlyList<string> MoreSplitDirectories { get; init; } = [];

    /// <summary>A whole model imported by <c>cleave import</c>: the server runs it on uploaded images (full mode).</summary>
    public string? FullModelPath { get; init; }

    /// <summary>Address to bind; loopback by default. Use "0.0.0.0" to accept other machines.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 lets the operating system choose (tests), <see cref="SplitServer.Url"/> then tells which.</summary>
    public int Port { get; init; } = 7070;

    /// <summary>Most requests the model runs at once (1 disables batching).</summary>
    public int MaxBatch { get; init; } = 8;

    /// <summary>Longest a batch waits for more requests after its first one arrived.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Requests that may wait for a batch, per mode; beyond that the server answers RESOURCE_EXHAUSTED.</summary>
    public int QueueCapacity { get; init; } = 256;

    /// <summary>ONNX Runtime intra-op threads per model (0: ONNX Runtime's default, one per core).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// How models run (sessions x threads x batch x delay), replacing <see cref="MaxBatch"/>, <see cref="MaxDelay"/> and
    /// <see cref="Threads"/> when set. Null: one session with those three. See <see cref="AutoExecution"/>.
    /// </summary>
    public ExecutionPlan? Execution { get; init; }

    /// <summary>
    /// Choose the execution plan at start by a short calibration of the split's tail on this machine
    /// (<see cref="ExecutionCalibrator"/>, <c>--exec auto</c>); the plan then serves every mode.
    /// </summary>
    public bool AutoExecution { get; init; }

    /// <summary>How the calibration of <see cref="AutoExecution"/> searches.</summary>
    public CalibrationSettings Calibration { get; init; } = new();

    /// <summary>The plan given by <see cref="Execution"/>, or the one the separate batch, delay and thread settings make.</summary>
    public ExecutionPlan ConfiguredPlan => Execution ?? new ExecutionPlan { Streams = 1, Threads = Threads, MaxBatch = MaxBatch, MaxDelay = MaxDelay < TimeSpan.Zero ? TimeSpan.Zero : MaxDelay };

    /// <summary>
    /// How long disposing the server lets open streams go on being served before it aborts them (streams are
    /// long-lived, so they do not end by themselves). Zero aborts them at once: to clients, a crash (restart tests).
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Largest payload accepted in one request: the image byte limit in full mode; in split mode the smaller of this
    /// and the largest frame the cut tensor can need (typed MESSAGE_TOO_LARGE above it; the stream is dropped far above).
    /// </summary>
    public int MaxMessageBytes { get; init; } = 16 << 20;

    /// <summary>Requests one stream may have in flight; the server stops reading that stream until answers go out.</summary>
    public int MaxInFlightPerStream { get; init; } = 64;

    /// <summary>Recent request ids remembered so retries are answered without running twice.</summary>
    public int IdempotencyCapacity { get; init; } = 65_536;

    /// <summary>Most bytes the remembered answers may take together (the oldest are forgotten first).</summary>
    public long IdempotencyMaxBytes { get; init; } = 64L << 20;

    /// <summary>How long an answer is remembered for retries.</summary>
    public TimeSpan IdempotencyMaxAge { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>API keys, client certificates, quotas, where /metrics is served (docs/security.md). Off by default.</summary>
    public ServerSecurityOptions Security { get; init; } = new();
    /// <summary>Connection, stream, reply-queue and image-decoding limits (docs/serving.md, "Limits").</summary>
    public ServerLimits Limits { get; init; } = new();

    /// <summary>The clock stream deadlines run on (a fake one in tests).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Where the server's log goes: its structured events (<see cref="ServerLog"/>) and ASP.NET Core's and Kestrel's own,
    /// filtered by the factory's levels. Null: nothing is logged. The server never disposes it.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>A PKCS#12 (.pfx) certificate: serve TLS (HTTP/1.1 and HTTP/2) instead of cleartext HTTP/2.</summary>
    public string? CertificatePath { get; init; }

    public string? CertificatePassword { get; init; }

    /// <summary>
    /// Where else a cut is served, by manifest hash (a cluster's directory): a Hello for a cut this server lacks is
    /// answered CUT_ELSEWHERE with that address, or MANIFEST_MISMATCH saying no server has it when this returns null.
    /// Called on the handshake path: it must answer from memory.
    /// </summary>
    public Func<string, Uri?>? LocateCut { get; init; }

    /// <summary>Registers more services on the host (e.g. what another gRPC service needs).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>Maps more endpoints on the same host, e.g. <c>endpoints.MapGrpcService&lt;OtherService&gt;()</c>.</summary>
    public Action<IEndpointRouteBuilder>? ConfigureEndpoints { get; init; }

    public void Validate()
    {
        if (SplitDirectory is null && MoreSplitDirectories.Count > 0) throw new ArgumentException("give the first split folder as the split directory, the others as more split directories");
        if (SplitDirectory is null && FullModelPath is null) throw new ArgumentException("give a split folder, a full model (--full), or both");
        if (MaxBatch < 1) throw new ArgumentException($"max batch must be at least 1, got {MaxBatch}");
        if (QueueCapacity < 1) throw new ArgumentException($"the queue must hold at least 1 request, got {QueueCapacity}");
        if (Port is < 0 or > 65535) throw new ArgumentException($"port {Port} is out of range");
        if (ShutdownTimeout < TimeSpan.Zero) throw new ArgumentException($"the shutdown timeout must not be negative, got {ShutdownTimeout}");
        if (MaxMessageBytes < 1024) throw new ArgumentException($"max message bytes must be at least 1024, got {MaxMessageBytes}");
        if (MaxInFlightPerStream < 1) throw new ArgumentException("max in-flight per stream must be at least 1");
        if (IdempotencyCapacity < 1 || IdempotencyMaxBytes < 1 || IdempotencyMaxAge <= TimeSpan.Zero) throw new ArgumentException("the idempotency cache needs room for at least one entry, a byte limit and an age limit");
        if (AutoExecution && Execution is not null) throw new ArgumentException("give an execution plan or ask for calibration, not both");
        if (AutoExecution && SplitDirectory is null) throw new ArgumentException("calibration (--exec auto) runs a split's tail: give a split folder");
        try { Execution?.Validate(); }
        catch (ExecutionPlanException e) { throw new ArgumentException($"execution plan: {e.Message}", e); }
        ArgumentNullException.ThrowIfNull(Calibration);
        Calibration.Validate();
        Security.Validate(CertificatePath is not null);
        ArgumentNullException.ThrowIfNull(Limits);
        Limits.Validate();
    }
}
