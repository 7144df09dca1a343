using System.Diagnostics;

namespace Cleave.Runtime.Links;

/// <summary>
/// A token bucket in bytes: tokens accrue at <see cref="BytesPerSecond"/> up to <see cref="BurstBytes"/>, and sending
/// n bytes takes n tokens. A sender that finds too few tokens goes into debt and is told how long until the debt is
/// paid, so concurrent senders on one link queue behind each other as they would on a real serial link.
/// </summary>
internal sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private double _tokens;
    private long _updatedAt;

    public TokenBucket(double bytesPerSecond, double burstBytes)
    {
        if (!(bytesPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(bytesPerSecond), bytesPerSecond, "the rate must be positive");
        ArgumentOutOfRangeException.ThrowIfNegative(burstBytes);
        BytesPerSecond = bytesPerSecond;
        BurstBytes = burstBytes;
        _tokens = burstBytes;
        _updatedAt = Stopwatch.GetTimestamp();
    }

    public double BytesPerSecond { get; }
    public double BurstBytes { get; }

    /// <summary>Takes <paramref name="bytes"/> tokens now; returns how long until the last of those bytes has left.</summary>
    public TimeSpan Reserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_lock)
        {
            long now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(BurstBytes, _tokens + (now - _updatedAt) * BytesPerSecond / Stopwatch.Frequency);
            _updatedAt = now;
            _tokens -= bytes;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / BytesPerSecond);
        }
    }
}
