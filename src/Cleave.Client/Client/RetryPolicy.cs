namespace Cleave.Runtime.Client;

/// <summary>
/// How <see cref="SplitClient"/> retries transient failures (queue full, server going away or restarting, lost
/// connection, a try's timeout). By default a request is retried until its <see cref="Deadline"/>, with exponential
/// backoff and full jitter (so a restarted server is not met by every client at once), never sooner than the server's
/// retry-after hint; <see cref="MaxAttempts"/> caps the tries as well. Every try carries the same idempotency id, so
/// the server runs the request at most once while it lives. A request ends answered, or with a typed failure.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>Retries until the deadline (60 s): survives a server restart of several seconds.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>One try, no retries (a load test counting refusals).</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Tries at most (the first included); <see cref="int.MaxValue"/>: only the deadline bounds them.</summary>
    public int MaxAttempts { get; init; } = int.MaxValue;

    /// <summary>How long a request keeps being retried, counted from its first try; then it fails (deadline exceeded).</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(50);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>At most <paramref name="retries"/> retries (0: one try), still within <see cref="Deadline"/>.</summary>
    public RetryPolicy WithRetries(int retries) => this with { MaxAttempts = retries >= int.MaxValue - 1 ? int.MaxValue : 1 + Math.Max(0, retries) };

    /// <summary>The wait before retry number <paramref name="retry"/> (1 for the first retry): full jitter under a doubling ceiling.</summary>
    public TimeSpan DelayBefore(int retry, uint retryAfterMs, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        double ceiling = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(retry - 1, 0, 30)));
        double jittered = random.NextDouble() * ceiling;
        return TimeSpan.FromMilliseconds(Math.Max(jittered, retryAfterMs));
    }
}
