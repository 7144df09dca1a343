namespace Cleave.Runtime.Client;

/// <summary>
/// One answered request as the client saw it. Times in milliseconds: <see cref="UplinkMs"/> and the emulated part of
/// <see cref="DownlinkMs"/> come from the link emulator; queue, decode and tail from the server; the rest of the
/// measured round trip (transport, serialization) is counted in <see cref="DownlinkMs"/>.
/// </summary>
public sealed record SplitResult(
    string RequestId,
    IReadOnlyList<ScoredClass> Top,
    byte[]? OutputFrame,
    ServerTimes Timing,
    int Attempts,
    bool Replayed,
    int PayloadBytes,
    double UplinkMs,
    double DownlinkMs,
    double TotalMs)
{
    public int Top1 => Top.Count > 0 ? Top[0].ClassIndex : -1;

    /// <summary>The server process that answered (its Welcome's server id; it changes when the server restarts).</summary>
    public string ServerId { get; init; } = "";

    /// <summary>One answer per task named in <see cref="SplitClientOptions.Tasks"/>, in that order (empty when none was named).</summary>
    public IReadOnlyList<TaskAnswer> Tasks { get; init; } = [];
}
