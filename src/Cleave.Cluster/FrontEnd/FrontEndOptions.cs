using Cleave.Runtime.Serving;

namespace Cleave.Cluster.FrontEnd;

/// <summary>The gRPC front end a silo co-hosts: where it listens and what it serves besides generation.</summary>
public sealed record FrontEndOptions
{
    /// <summary>Address to bind; loopback by default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port of the gRPC front end; 0 lets the operating system choose (tests).</summary>
    public int Port { get; init; } = 7070;

    /// <summary>Classification: split folders and full models this silo serves with its own batcher (stateless; null: none).</summary>
    public SplitServerOptions? Classification { get; init; }

    /// <summary>How long an open may wait for the cluster to place the session (a dead silo is declared dead within it).</summary>
    public TimeSpan OpenDeadline { get; init; } = TimeSpan.FromSeconds(30);

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
