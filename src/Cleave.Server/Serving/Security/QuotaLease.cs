using System.Threading.RateLimiting;

namespace Cleave.Runtime.Serving.Security;

/// <summary>A request's permit under <see cref="ClientQuotas"/> (released on dispose), or the refusal to answer with.</summary>
internal readonly record struct QuotaLease(RateLimitLease? Lease, SplitInferenceException? Refusal) : IDisposable
{
    public void Dispose() => Lease?.Dispose();
}
