namespace Cleave.Runtime.Load;

/// <summary>
/// What a load test saw. Every request sent ends in exactly one of: answered, refused or failed with a typed server
/// error (<see cref="ErrorsByKind"/>), or lost (no answer: timeout or broken stream, also in <see cref="ErrorsByKind"/>
/// under "lost:..."; with retries, a request is lost only when its retry deadline passed). Server figures are
/// differences of <c>/metrics</c> read before, during (every half second) and after the test, per server process
/// (<see cref="ServerProcesses"/>; a restart starts a new one) and summed over them.
/// </summary>
public sealed record LoadReport
{
    public required string Mode { get; init; }
    public required int Clients { get; init; }
    public required double Seconds { get; init; }
    public required long Sent { get; init; }
    public required long Answered { get; init; }
    public required long Refused { get; init; }
    public required long Lost { get; init; }
    public required IReadOnlyDictionary<string, long> ErrorsByKind { get; init; }

    /// <summary>Answers received for a request already answered or given up (ignored: no request is answered twice to its caller).</summary>
    public required long Duplicates { get; init; }

    /// <summary>Answers the server served from its idempotency cache (a retry of a request it had already run).</summary>
    public required long Replayed { get; init; }

    /// <summary>Tries sent again after a transient failure, and streams reopened after breaking (all clients).</summary>
    public required long Retries { get; init; }
    public required long Reconnects { get; init; }

    /// <summary>Times a client moved to another server (dead or overloaded), and times one returned to its first (all clients).</summary>
    public long Failovers { get; init; }
    public long FailBacks { get; init; }

    /// <summary>Tries that failed (each retried or ending its request), by transport loss and by server refusal.</summary>
    public required long FailedTries { get; init; }

    /// <summary>Failed tries by cause: "server:CODE" (a typed refusal) or "lost:REASON" (the transport lost the try).</summary>
    public required IReadOnlyDictionary<string, long> FailedTriesByKind { get; init; }

    /// <summary>From a try the transport lost to the next answer (e.g. a server killed and restarted), in order.</summary>
    public required IReadOnlyList<Outage> Outages { get; init; }

    /// <summary>Latency p50/p99 per 10 s of answers (seconds from the start of sending): before, during and after an outage.</summary>
    public required IReadOnlyList<LatencyWindow> LatencyWindows { get; init; }

    /// <summary>Server processes that answered during the test, in order of first sighting (more than one after a restart).</summary>
    public required IReadOnlyList<ServerProcessReport> ServerProcesses { get; init; }

    /// <summary>Readings of <c>/metrics</c> that failed during the test (the server was down).</summary>
    public required long MetricsReadingsFailed { get; init; }

    public required double ThroughputPerSecond { get; init; }
    public required double LatencyP50Ms { get; init; }
    public required double LatencyP95Ms { get; init; }
    public required double LatencyP99Ms { get; init; }
    public required double PayloadBytesMean { get; init; }

    /// <summary>Requests the server's model ran during the test (equal to <see cref="Answered"/> when nothing ran twice).</summary>
    public required long ServerExecuted { get; init; }

    public required double ServerCpuSecondsPerRequest { get; init; }

    /// <summary>
    /// Managed bytes the server allocated per request during the test (<c>dotnet_gc_allocated_bytes_total</c>; gRPC,
    /// Kestrel and the request path together; 0 against a server that does not export it).
    /// </summary>
    public double ServerAllocatedBytesPerRequest { get; init; }

    /// <summary>Requests the device's early exit answered (never sent; not in <see cref="Sent"/>).</summary>
    public long Exited { get; init; }

    /// <summary>Frame bytes the exited requests kept off the link.</summary>
    public long BytesSaved { get; init; }

    /// <summary>
    /// Server CPU seconds per request the devices made, answered by the server or by their exit: with exits this falls
    /// below <see cref="ServerCpuSecondsPerRequest"/>; compare it with a run without exits.
    /// </summary>
    public double ServerCpuSecondsPerDeviceRequest { get; init; }

    /// <summary>Wall seconds decoding one payload (includes preemption on a busy machine).</summary>
    public required double ServerDecodeSecondsPerRequest { get; init; }

    /// <summary>CPU seconds decoding one payload: compare with <see cref="ServerCpuSecondsPerRequest"/>.</summary>
    public required double ServerDecodeCpuSecondsPerRequest { get; init; }

    /// <summary>Model-run seconds per request (each batch's time divided over its requests).</summary>
    public required double ServerTailSecondsPerRequest { get; init; }

    public required double MeanBatchSize { get; init; }

    /// <summary>Batches by size bucket (upper bound, "+Inf" last), during the test only.</summary>
    public required IReadOnlyDictionary<string, long> BatchSizes { get; init; }
}
