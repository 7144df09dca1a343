namespace Cleave.Runtime.Load;

/// <summary>
/// One server process's share of a load test (a restart makes a second one). Its counters are read from its own
/// <c>/metrics</c>: a process killed during the test counts up to its last reading, which <see cref="LastSeenSeconds"/> dates.
/// </summary>
public sealed record ServerProcessReport
{
    public required string ServerId { get; init; }
    /// <summary>Seconds into the test of its first and last <c>/metrics</c> reading.</summary>
    public required double FirstSeenSeconds { get; init; }
    public required double LastSeenSeconds { get; init; }
    /// <summary>Requests the clients got answered by this process (by the server id of the stream that answered).</summary>
    public required long Answered { get; init; }
    public required long Executed { get; init; }
    public required double CpuSecondsPerRequest { get; init; }
    public required double MeanBatchSize { get; init; }
}
