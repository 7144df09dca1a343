using Cleave.Runtime.Protocol;
using Microsoft.Extensions.Logging;

namespace Cleave.Runtime.Serving;

/// <summary>
/// The server's structured log events (source-generated, so a disabled level costs a level check and nothing else):
/// each has a fixed <see cref="EventId"/> and named properties, for filters and log stores rather than for reading
/// line by line. Streams opening and closing are Debug, refusals (a full queue or quota, bad credentials, an invalid
/// frame or request, a refused handshake, a stream the server ended) are Information, since under attack or overload
/// they come once per request; only a request that failed inside the server is an Error. <c>cleave serve</c> logs
/// Warning and above unless told otherwise (<c>--log-level</c>).
/// </summary>
internal static partial class ServerLog
{
    public const int StreamOpenedId = 1001, StreamClosedId = 1002, HandshakeRefusedId = 1003, StreamEndedByServerId = 1004;
    public const int RequestRefusedId = 1010, UnauthenticatedId = 1011, RequestFailedId = 1020;

    [LoggerMessage(EventId = StreamOpenedId, EventName = "StreamOpened", Level = LogLevel.Debug, Message = "stream opened by {Peer}")]
    internal static partial void StreamOpened(this ILogger logger, string peer);

    [LoggerMessage(EventId = StreamClosedId, EventName = "StreamClosed", Level = LogLevel.Debug,
        Message = "stream from {Peer} closed after {Requests} requests in {Seconds:0.###} s")]
    internal static partial void StreamClosed(this ILogger logger, string peer, long requests, double seconds);

    [LoggerMessage(EventId = HandshakeRefusedId, EventName = "HandshakeRefused", Level = LogLevel.Information,
        Message = "handshake from {Peer} refused: {Code}: {Reason}")]
    internal static partial void HandshakeRefused(this ILogger logger, string peer, ErrorCode code, string reason);

    [LoggerMessage(EventId = StreamEndedByServerId, EventName = "StreamEndedByServer", Level = LogLevel.Information,
        Message = "stream from {Peer} ended by the server: {Status}: {Detail}")]
    internal static partial void StreamEndedByServer(this ILogger logger, string peer, Grpc.Core.StatusCode status, string detail);

    [LoggerMessage(EventId = RequestRefusedId, EventName = "RequestRefused", Level = LogLevel.Information,
        Message = "request {RequestId} from {Caller} ({Mode}) refused: {Code}: {Reason}")]
    internal static partial void RequestRefused(this ILogger logger, string requestId, string caller, string mode, ErrorCode code, string reason);

    [LoggerMessage(EventId = UnauthenticatedId, EventName = "Unauthenticated", Level = LogLevel.Information,
        Message = "call {Method} from {Peer} refused: UNAUTHENTICATED")]
    internal static partial void Unauthenticated(this ILogger logger, string method, string peer);

    [LoggerMessage(EventId = RequestFailedId, EventName = "RequestFailed", Level = LogLevel.Error,
        Message = "request {RequestId} from {Caller} ({Mode}) failed in the server: {Code}: {Reason}")]
    internal static partial void RequestFailed(this ILogger logger, string requestId, string caller, string mode, ErrorCode code, string reason);
}
