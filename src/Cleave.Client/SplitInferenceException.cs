using Cleave.Runtime.Protocol;

namespace Cleave.Runtime;

/// <summary>
/// A request the server refused or could not run, with its typed <see cref="SplitErrorCode"/>: thrown by the server's
/// decoding steps (and turned into an error answer) and by <c>SplitClient</c> when a request finally fails.
/// </summary>
public sealed class SplitInferenceException : Exception
{
    public SplitInferenceException(SplitErrorCode code, string message, uint retryAfterMs = 0, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        RetryAfterMs = retryAfterMs;
    }

    // The server and the client build these from wire codes; the public constructor takes Cleave's own enum.
    internal SplitInferenceException(ErrorCode code, string message, uint retryAfterMs = 0, Exception? inner = null)
        : this(code.ToCleave(), message, retryAfterMs, inner) { }

    public SplitErrorCode Code { get; }

    /// <summary>True when the server sent this error in an answer; false for client-side failures (timeouts, lost streams).</summary>
    public bool FromServer { get; init; }

    /// <summary>
    /// True when the client gave up because the request's retry deadline passed (every try failed transiently): the
    /// request is not lost silently, it ends with this typed failure.
    /// </summary>
    public bool DeadlineExceeded { get; init; }

    /// <summary>True when the client never reached the server (its first connect failed until the retry policy ran out).</summary>
    public bool ServerUnreachable { get; init; }

    /// <summary>The server's hint for <see cref="SplitErrorCode.ResourceExhausted"/>: wait this long before retrying.</summary>
    public uint RetryAfterMs { get; }

    /// <summary>With <see cref="SplitErrorCode.CutElsewhere"/>: a server that serves the client's cut (a cluster's silo).</summary>
    public Uri? Redirect { get; init; }

    /// <summary>True for errors worth retrying with the same idempotency id (queue full, server going away, timeouts).</summary>
    public bool IsTransient => IsTransientCode(Code);

    public static bool IsTransientCode(SplitErrorCode code) => code is SplitErrorCode.ResourceExhausted or SplitErrorCode.Unavailable;

    internal Error ToError() => new() { Code = Code.ToWire(), Message = Message, RetryAfterMs = RetryAfterMs };

    internal static SplitInferenceException FromError(Error error) => new(error.Code, error.Message, error.RetryAfterMs)
    {
        FromServer = true,
        Redirect = error.Redirect.Length > 0 && Uri.TryCreate(error.Redirect, UriKind.Absolute, out var redirect) ? redirect : null,
    };
}
