namespace Cleave.Runtime.Generation;

/// <summary>
/// Why a generation call failed: the protocol's <c>cleave.v1.GenerationErrorCode</c> (docs/llm.md) as Cleave's own
/// type, with the wire's numbers and names (0 is <see cref="Unspecified"/> here), so the generated protobuf types can
/// stay internal.
/// </summary>
public enum GenerationFailureCode
{
    Unspecified = 0,
    /// <summary>Never opened, or closed.</summary>
    SessionNotFound = 1,
    /// <summary>Evicted under the server's KV-cache cap: resume by re-opening with the history.</summary>
    SessionEvicted = 2,
    /// <summary>Idle too long: resume by re-opening with the history.</summary>
    SessionExpired = 3,
    /// <summary>The step would exceed the per-session cache cap or the model's positions.</summary>
    SessionLimit = 4,
    /// <summary>No room even after evicting every idle session: retry after <see cref="GenerationException.RetryAfterMs"/>.</summary>
    ServerBusy = 5,
    /// <summary>The payload does not decode to the hidden states the step claims.</summary>
    BadPayload = 6,
    /// <summary>Wrong position, no tokens, concurrent steps on one session, unknown codec.</summary>
    BadRequest = 7,
    /// <summary>A different model or split layer.</summary>
    ModelMismatch = 8,
    InternalError = 9,
}
