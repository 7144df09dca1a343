using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Generation;

/// <summary>A typed generation failure: the code a server answers in <see cref="GenerationError"/> and a client rethrows.</summary>
public sealed class GenerationException(GenerationErrorCode code, string message, uint retryAfterMs = 0) : Exception(message)
{
    public GenerationErrorCode Code { get; } = code;
    public uint RetryAfterMs { get; } = retryAfterMs;

    /// <summary>Evicted or expired: the client can resume by re-opening with its history.</summary>
    public bool CanResume => Code is GenerationErrorCode.SessionEvicted or GenerationErrorCode.SessionExpired;

    public GenerationError ToError() => new() { Code = Code, Message = Message, RetryAfterMs = RetryAfterMs };

    public static GenerationException From(GenerationError error) => new(error.Code, error.Message, error.RetryAfterMs);
}
