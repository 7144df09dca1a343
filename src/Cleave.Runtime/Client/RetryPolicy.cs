namespace Cleave.Runtime.Client;

/// <summary>
/// How <see cref="SplitClient"/> retries transient failures (queue full, server going away, lost connection,
/// timeout): up to <see cref="MaxAttempts"/> tries with exponential backoff and full jitter, never sooner than the
/// server's retry-after hint. Every try carries the same idempotency id, so the server runs the request at most once.
/// </summary>
public sealed record RetryPolicy
{
    public static RetryPolicy Default { get; } = new();

    /// <summary>One try, no retries (a load test counting refusals).</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    public int MaxAttempts { get; init; } = 5;
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(20);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The wait before retry number <paramref name="retry"/> (1 for the first retry).</summary>
    public TimeSpan DelayBefore(int retry, uint retryAfterMs, Random random)
    {
        double ceiling = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, retry - 1)));
        double jittered = random.NextDouble() * ceiling;
        return TimeSpan.FromMilliseconds(Math.Max(jittered, retryAfterMs));
    }
}
