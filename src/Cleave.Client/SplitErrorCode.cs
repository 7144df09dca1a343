namespace Cleave.Runtime;

/// <summary>
/// Why a split-inference request or handshake failed: the protocol's <c>cleave.v1.ErrorCode</c> (docs/protocol.md) as
/// Cleave's own type. Names and numbers are the wire's, so a code maps by its number and prints as it always did (the
/// generated protobuf types are internal: the wire format is not the library's API).
/// </summary>
public enum SplitErrorCode
{
    Unspecified = 0,
    /// <summary>The payload is not a valid frame or image.</summary>
    MalformedFrame = 1,
    /// <summary>A valid frame, but not the tensor the tail expects.</summary>
    WrongShape = 2,
    ManifestMismatch = 3,
    UnsupportedCodec = 4,
    /// <summary>The server's queue is full: retry after <see cref="SplitInferenceException.RetryAfterMs"/>.</summary>
    ResourceExhausted = 5,
    MessageTooLarge = 6,
    /// <summary>A request before the handshake, or a second handshake.</summary>
    NotHandshaken = 7,
    Internal = 8,
    /// <summary>The server is shutting down, or the client could not reach it or got no answer in time.</summary>
    Unavailable = 9,
    /// <summary>For example an empty request id.</summary>
    InvalidRequest = 10,
    /// <summary>The request id already names a different request from this caller.</summary>
    IdempotencyMismatch = 11,
    /// <summary>The server refused the caller's credentials.</summary>
    Unauthenticated = 12,
    /// <summary>(Cluster) this server lacks the client's cut; <see cref="SplitInferenceException.Redirect"/> names one that has it.</summary>
    CutElsewhere = 13,
    /// <summary>The request names a task the server does not run on the cut (<see cref="Client.ServerWelcome.Tasks"/>).</summary>
    UnknownTask = 14,
}
