namespace Cleave.Runtime.Serving.Security;

/// <summary>Counts of what the security layer turned away (exported at <c>/metrics</c>).</summary>
public sealed class ServerSecurityMetrics
{
    private long _unauthenticated, _overQuota;

    public void Refused() => Interlocked.Increment(ref _unauthenticated);
    public void OverQuota() => Interlocked.Increment(ref _overQuota);

    public long UnauthenticatedCount => Interlocked.Read(ref _unauthenticated);
    public long OverQuotaCount => Interlocked.Read(ref _overQuota);
}
