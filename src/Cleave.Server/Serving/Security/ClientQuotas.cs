using System.Threading.RateLimiting;
using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Serving.Security;

/// <summary>
/// Per-caller rate and concurrency limits (System.Threading.RateLimiting): a token bucket for requests per second and a
/// concurrency limiter for requests in flight, one pair per (caller, quota), so a caller over its quota is refused
/// while others carry on. Requests never wait in these limiters: a refusal is answered at once with
/// RESOURCE_EXHAUSTED and a retry hint, like a full queue. Idle partitions are dropped by the limiter itself.
/// </summary>
public sealed class ClientQuotas : IDisposable
{
    // Without a token bucket hint (concurrency), a retry after about one request's time is a fair guess.
    private const uint ConcurrencyRetryAfterMs = 50;

    private readonly PartitionedRateLimiter<CallerIdentity> _rate, _concurrency, _limiter;
    private readonly ServerSecurityMetrics _metrics;

    public ClientQuotas(ServerSecurityMetrics metrics)
    {
        _metrics = metrics;
        _rate = PartitionedRateLimiter.Create<CallerIdentity, CallerIdentity>(caller => caller.Quota.RequestsPerSecond > 0
            ? RateLimitPartition.GetTokenBucketLimiter(caller, c => TokenBucket(c.Quota))
            : RateLimitPartition.GetNoLimiter(caller));
        _concurrency = PartitionedRateLimiter.Create<CallerIdentity, CallerIdentity>(caller => caller.Quota.MaxConcurrent > 0
            ? RateLimitPartition.GetConcurrencyLimiter(caller, c => new ConcurrencyLimiterOptions { PermitLimit = c.Quota.MaxConcurrent, QueueLimit = 0 })
            : RateLimitPartition.GetNoLimiter(caller));
        _limiter = PartitionedRateLimiter.CreateChained(_rate, _concurrency);
    }

    /// <summary>A permit for one request of <paramref name="caller"/> (dispose it when the request is answered) or a refusal.</summary>
    internal QuotaLease TryAcquire(CallerIdentity caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (caller.Quota.IsUnlimited) return default;
        var lease = _limiter.AttemptAcquire(caller);
        if (lease.IsAcquired) return new QuotaLease(lease, null);
        uint retryAfterMs = lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan after)
            ? (uint)Math.Clamp(Math.Ceiling(after.TotalMilliseconds), 1, 60_000)
            : ConcurrencyRetryAfterMs;
        lease.Dispose();
        _metrics.OverQuota();
        return new QuotaLease(null, new SplitInferenceException(ErrorCode.ResourceExhausted,
            $"over this caller's quota ({caller.Quota}); retry later", retryAfterMs));
    }

    private static TokenBucketRateLimiterOptions TokenBucket(ClientQuota quota)
    {
        // The partitioned limiter replenishes every 100 ms: faster rates add several tokens per period.
        double rate = quota.RequestsPerSecond;
        var (period, tokens) = rate >= 10 ? (TimeSpan.FromMilliseconds(100), (int)Math.Round(rate / 10)) : (TimeSpan.FromSeconds(1 / rate), 1);
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = quota.EffectiveBurst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = false,
        };
    }

    public void Dispose()
    {
        _limiter.Dispose(); // the chain does not own its parts
        _rate.Dispose();
        _concurrency.Dispose();
    }
}
