using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Cleave.Runtime.Serving;

/// <summary>
/// Sets every Kestrel and HTTP/2 limit a hostile client could otherwise lean on, from one <see cref="ServerLimits"/>:
/// shared by the split server and the generation server, so both hosts refuse the same things.
/// </summary>
internal static class KestrelHardening
{
    public static void Apply(KestrelServerOptions kestrel, ServerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        kestrel.AddServerHeader = false;
        var l = kestrel.Limits;
        l.MaxConcurrentConnections = limits.MaxConnections;
        // Upgraded (WebSocket) connections are not served; count them against the same bound anyway.
        l.MaxConcurrentUpgradedConnections = limits.MaxConnections;
        l.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        l.KeepAliveTimeout = limits.KeepAliveTimeout;
        l.MinRequestBodyDataRate = new MinDataRate(limits.MinRequestBodyBytesPerSecond, limits.MinRequestBodyGracePeriod);
        l.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
        var h2 = l.Http2;
        h2.MaxStreamsPerConnection = limits.MaxStreamsPerConnection;
        h2.MaxFrameSize = limits.MaxFrameSize;
        h2.MaxRequestHeaderFieldSize = limits.MaxRequestHeaderFieldSize;
        h2.HeaderTableSize = 4096; // the RFC default: a client cannot make the server keep a large HPACK table
        h2.InitialConnectionWindowSize = limits.InitialConnectionWindowSize;
        h2.InitialStreamWindowSize = limits.InitialStreamWindowSize;
        // Pings find connections whose peer vanished without a FIN (a powered-off device) and free them.
        h2.KeepAlivePingDelay = TimeSpan.FromSeconds(60);
        h2.KeepAlivePingTimeout = TimeSpan.FromSeconds(30);
    }
}
