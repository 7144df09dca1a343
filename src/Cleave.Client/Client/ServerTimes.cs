namespace Cleave.Runtime.Client;

/// <summary>
/// Server-side milliseconds for one request: <see cref="DecodeMs"/> is the frame decode (split mode) or the image
/// decode and preprocessing (full mode); <see cref="TailMs"/> is the whole batch's model run; <see cref="BatchSize"/>
/// is how many requests shared it.
/// </summary>
public sealed record ServerTimes(double QueueMs, double DecodeMs, double TailMs, int BatchSize)
{
    /// <summary>What an answer without timing (a replay, an error) reports.</summary>
    public static ServerTimes None { get; } = new(0, 0, 0, 0);
}
