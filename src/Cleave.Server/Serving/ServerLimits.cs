namespace Cleave.Runtime.Serving;

/// <summary>
/// What one client may cost a server: connection and HTTP/2 limits (applied to Kestrel by <see cref="KestrelHardening"/>),
/// stream deadlines, the per-stream reply queue, and full-mode image decoding. Every default is chosen on purpose
/// (docs/serving.md, "Limits"); nothing is left to a framework default that might change.
/// </summary>
public sealed record ServerLimits
{
    /// <summary>TCP connections open at once; Kestrel refuses more until some close.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>HTTP/2 streams (gRPC calls) one connection may have open at once.</summary>
    public int MaxStreamsPerConnection { get; init; } = 100;

    /// <summary>A stream must send its Hello within this long, or it is ended with DEADLINE_EXCEEDED.</summary>
    public TimeSpan HelloTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A handshaken stream that neither sends a message nor takes a reply for this long, with nothing of its own
    /// in flight, is ended with DEADLINE_EXCEEDED (a slow-body client cannot hold a half-sent message open longer).
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A new request must have sent all its headers within this long.</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A connection with no open stream is closed after this long.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Kestrel's minimum request-body rate (bytes per second, after a grace period). gRPC switches it off for
    /// streaming calls, whose bodies are idle between messages by design; there the idle timeout and the
    /// message-size limit do the job. It still guards unary calls and plain HTTP endpoints.
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; init; } = 240;

    public TimeSpan MinRequestBodyGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest HTTP/2 frame payload the server accepts (16 KiB, the protocol's minimum maximum).</summary>
    public int MaxFrameSize { get; init; } = 16 * 1024;

    /// <summary>Largest single request header field, after HPACK decompression.</summary>
    public int MaxRequestHeaderFieldSize { get; init; } = 16 * 1024;

    /// <summary>All request headers together.</summary>
    public int MaxRequestHeadersTotalSize { get; init; } = 32 * 1024;

    /// <summary>
    /// HTTP/2 flow-control windows: how much a client may send before the server reads. They bound what a
    /// connection can make the server buffer beyond the message being assembled.
    /// </summary>
    public int InitialConnectionWindowSize { get; init; } = 1024 * 1024;

    public int InitialStreamWindowSize { get; init; } = 768 * 1024;

    /// <summary>
    /// Replies (answers and pongs) one stream may have waiting for its client to read them. When the queue is full
    /// the server stops reading that stream (back-pressure) until the client reads.
    /// </summary>
    public int MaxOutboxMessages { get; init; } = 1024;

    /// <summary>Bytes of replies one stream may have waiting (a single larger reply is still sent alone).</summary>
    public long MaxOutboxBytes { get; init; } = 16L << 20;

    /// <summary>A reply queue that stays full this long (the client does not read) ends the stream with RESOURCE_EXHAUSTED.</summary>
    public TimeSpan UnreadRepliesTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Bytes of partly received messages the server holds across all streams (gRPC assembles a message whole before
    /// handing it over); the stream that would exceed it is reset with ENHANCE_YOUR_CALM (RESOURCE_EXHAUSTED).
    /// </summary>
    public long MaxBufferedRequestBytes { get; init; } = 256L << 20;

    /// <summary>Full mode: images declaring more pixels than this are refused before decoding (INVALID_REQUEST).</summary>
    public long MaxImagePixels { get; init; } = 40_000_000;

    /// <summary>
    /// Full mode: decoded pixels of all requests being decoded at once may take at most this many bytes; a request
    /// that would exceed it is answered RESOURCE_EXHAUSTED with a retry hint instead of allocating.
    /// </summary>
    public long DecodeMemoryBudgetBytes { get; init; } = 512L << 20;

    public void Validate()
    {
        if (MaxConnections < 1) throw new ArgumentException($"max connections must be at least 1, got {MaxConnections}");
        if (MaxStreamsPerConnection < 1) throw new ArgumentException($"max streams per connection must be at least 1, got {MaxStreamsPerConnection}");
        Positive(HelloTimeout, "hello timeout");
        Positive(StreamIdleTimeout, "stream idle timeout");
        Positive(UnreadRepliesTimeout, "unread replies timeout");
        Positive(RequestHeadersTimeout, "request headers timeout");
        Positive(KeepAliveTimeout, "keep-alive timeout");
        Positive(MinRequestBodyGracePeriod, "minimum body rate grace period");
        if (!(MinRequestBodyBytesPerSecond > 0) || double.IsInfinity(MinRequestBodyBytesPerSecond))
            throw new ArgumentException($"the minimum body rate must be a positive number of bytes per second, got {MinRequestBodyBytesPerSecond}");
        // RFC 9113 6.5.2: SETTINGS_MAX_FRAME_SIZE lies in [2^14, 2^24 - 1].
        if (MaxFrameSize is < 16 * 1024 or > (1 << 24) - 1) throw new ArgumentException($"max frame size must be 16384..16777215, got {MaxFrameSize}");
        if (MaxRequestHeaderFieldSize < 1024) throw new ArgumentException($"max header field size must be at least 1024, got {MaxRequestHeaderFieldSize}");
        if (MaxRequestHeadersTotalSize < MaxRequestHeaderFieldSize) throw new ArgumentException("all headers together must be allowed at least one largest header field");
        if (InitialStreamWindowSize < 65_535 || InitialConnectionWindowSize < InitialStreamWindowSize)
            throw new ArgumentException("the stream window must be at least 65535 bytes and the connection window at least the stream window");
        if (MaxOutboxMessages < 1) throw new ArgumentException($"the reply queue must hold at least 1 message, got {MaxOutboxMessages}");
        if (MaxOutboxBytes < 1024) throw new ArgumentException($"the reply queue must hold at least 1024 bytes, got {MaxOutboxBytes}");
        if (MaxBufferedRequestBytes < 1 << 20) throw new ArgumentException($"the buffered request budget must be at least 1 MiB, got {MaxBufferedRequestBytes}");
        if (MaxImagePixels < 1) throw new ArgumentException($"max image pixels must be positive, got {MaxImagePixels}");
        if (DecodeMemoryBudgetBytes < 1 << 20) throw new ArgumentException($"the decode memory budget must be at least 1 MiB, got {DecodeMemoryBudgetBytes}");
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero) throw new ArgumentException($"the {name} must be positive, got {value}");
    }
}
