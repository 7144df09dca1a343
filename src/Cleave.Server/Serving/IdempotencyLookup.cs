using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Serving;

/// <summary>What <see cref="IdempotencyCache.GetOrStart"/> found: whether the work was started, joined, or refused, and its task.</summary>
internal readonly record struct IdempotencyLookup(IdempotencyOutcome Outcome, Task<InferResponse>? Task);

internal enum IdempotencyOutcome
{
    /// <summary>No entry: this call started the work.</summary>
    Started,

    /// <summary>The same request (same key, same fingerprint) is running or was answered: its task is shared.</summary>
    Joined,

    /// <summary>The key belongs to a request with a different fingerprint: refuse with IDEMPOTENCY_MISMATCH.</summary>
    Mismatch,
}
