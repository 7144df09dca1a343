namespace Cleave.Runtime.Links;

/// <summary>
/// Emulates a <see cref="LinkProfile"/> in a client's transport: each message waits for its bytes to pass a token
/// bucket at the link rate (uplink or downlink), plus half the round-trip time of propagation. Loss is modelled as
/// TCP sees it under gRPC: a lost packet is not dropped but retransmitted, so each packet (1448-byte MSS) is lost
/// with probability <see cref="LinkProfile.Loss"/> and every loss adds one retransmission timeout
/// (<see cref="RetransmissionTimeout"/>); the request itself is never dropped by the shaper.
/// </summary>
public sealed class LinkShaper
{
    /// <summary>TCP payload bytes per packet on a 1500-byte MTU with timestamps.</summary>
    public const int SegmentBytes = 1448;

    private readonly TokenBucket? _uplink;
    private readonly TokenBucket? _downlink;
    private readonly Random _random;
    private readonly Lock _randomLock = new();

    public LinkShaper(LinkProfile profile, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.Loss is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(profile), profile.Loss, "loss must be in [0, 1)");
        Profile = profile;
        // No burst credit: every byte pays its serialization time (bytes / rate), as on a real link, so a message
        // small enough to fit one packet is not sent for free. A one-segment credit made 1.5 KB frames look five
        // times faster than the link to the planner's rate estimator (measured: 5,551 kbit/s on a 1,000 kbit/s BLE link).
        if (!double.IsPositiveInfinity(profile.UplinkKbps)) _uplink = new TokenBucket(profile.UplinkKbps * 125, 0);
        if (!double.IsPositiveInfinity(profile.DownlinkKbps)) _downlink = new TokenBucket(profile.DownlinkKbps * 125, 0);
        _random = seed is int s ? new Random(s) : new Random();
    }

    public LinkProfile Profile { get; }

    public bool IsUnlimited => _uplink is null && _downlink is null && Profile.RttMs == 0 && Profile.Loss == 0;

    /// <summary>Linux's rule: RTO = SRTT + 4 RTTVAR (RTTVAR starts at RTT / 2, so 3 RTT), at least 200 ms.</summary>
    public TimeSpan RetransmissionTimeout => RetransmissionTimeoutFor(Profile);

    private static TimeSpan RetransmissionTimeoutFor(LinkProfile profile) => TimeSpan.FromMilliseconds(Math.Max(200, 3 * profile.RttMs));

    /// <summary>How long sending <paramref name="bytes"/> up the link takes from now (queueing behind earlier sends included).</summary>
    public TimeSpan UplinkDelay(long bytes) => Delay(_uplink, bytes);

    /// <summary>How long receiving <paramref name="bytes"/> down the link takes from now.</summary>
    public TimeSpan DownlinkDelay(long bytes) => Delay(_downlink, bytes);

    private TimeSpan Delay(TokenBucket? bucket, long bytes)
    {
        var delay = (bucket?.Reserve(bytes) ?? TimeSpan.Zero) + TimeSpan.FromMilliseconds(Profile.RttMs / 2);
        return delay + RetransmissionTimeout * LostSegments(bytes);
    }

    /// <summary>
    /// The mean delay that loss adds to a message of <paramref name="bytes"/> on <paramref name="profile"/>, as this
    /// emulator draws it: each segment's transmissions are lost a geometric number of times (mean p / (1 - p)), and
    /// each loss costs one retransmission timeout. For planners that predict mean latency.
    /// </summary>
    public static TimeSpan ExpectedLossDelay(LinkProfile profile, long bytes)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.Loss <= 0) return TimeSpan.Zero;
        long segments = Math.Max(1, (bytes + SegmentBytes - 1) / SegmentBytes);
        double lossesPerSegment = profile.Loss / (1 - profile.Loss);
        return RetransmissionTimeoutFor(profile) * (segments * lossesPerSegment);
    }

    /// <summary>Lost transmissions among the message's segments (a retransmission can be lost again).</summary>
    private int LostSegments(long bytes)
    {
        if (Profile.Loss <= 0) return 0;
        long segments = Math.Max(1, (bytes + SegmentBytes - 1) / SegmentBytes);
        int lost = 0;
        lock (_randomLock)
            for (long i = 0; i < segments; i++)
                while (_random.NextDouble() < Profile.Loss && lost < 64) lost++;
        return lost;
    }

    /// <summary>Waits out <paramref name="delay"/> (nothing to wait when zero).</summary>
    public static Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, cancellationToken) : Task.CompletedTask;
}
