using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Generation;

/// <summary>A typed generation failure: the code a server answers with and a client rethrows.</summary>
public sealed class GenerationException : Exception
{
    public GenerationException(GenerationFailureCode code, string message, uint retryAfterMs = 0) : base(message)
    {
        Code = code;
        RetryAfterMs = retryAfterMs;
    }

    // The server builds these from wire codes; the public constructor takes Cleave's own enum.
    internal GenerationException(GenerationErrorCode code, string message, uint retryAfterMs = 0) : this(code.ToCleave(), message, retryAfterMs) { }

    public GenerationFailureCode Code { get; }
    public uint RetryAfterMs { get; }

    /// <summary>Evicted or expired: the client can resume by re-opening with its history.</summary>
    public bool CanResume => Code is GenerationFailureCode.SessionEvicted or GenerationFailureCode.SessionExpired;

    internal GenerationError ToError() => new() { Code = Code.ToWire(), Message = Message, RetryAfterMs = RetryAfterMs };

    internal static GenerationException From(GenerationError error) => new(error.Code, error.Message, error.RetryAfterMs);
}
