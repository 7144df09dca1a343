using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Membership;
using Cleave.Cluster.Security;
using Cleave.Runtime.Generation;

namespace Cleave.Cluster.Hosting;

/// <summary>One silo of a Cleave cluster: how it finds the others, its ports, and what its front end serves.</summary>
public sealed record ClusterSiloOptions
{
    /// <summary>Redis membership, <c>redis://host:port</c> (production); null: Orleans' development clustering on this machine.</summary>
    public string? Redis { get; init; }

    /// <summary>Silos with another cluster id never join this one; one Redis serves one Cleave cluster (checked at start).</summary>
    public string ClusterId { get; init; } = "cleave";

    /// <summary>Port for silo-to-silo traffic.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>Port for Orleans clients (the gRPC front end is separate, <see cref="FrontEndOptions.Port"/>).</summary>
    public int GatewayPort { get; init; } = 30000;

    /// <summary>Development clustering only: the silo port of the first silo (null: this silo is the first).</summary>
    public int? PrimarySiloPort { get; init; }

    public required FrontEndOptions FrontEnd { get; init; }

    /// <summary>The language model whose sessions this silo's grains run (null: classification only).</summary>
    public GenerationOptions? Generation { get; init; }

    /// <summary>TLS with mutual authentication on the silo and gateway ports (null: cleartext, for one machine or a trusted network).</summary>
    public SiloTlsOptions? Tls { get; init; }

    /// <summary>Longest the start may take (Redis, ports, joining): past it the start fails rather than hangs.</summary>
    public TimeSpan StartDeadline { get; init; } = TimeSpan.FromSeconds(60);

    public void Validate()
    {
        foreach (var (name, port) in new[] { ("silo", SiloPort), ("gateway", GatewayPort), ("front end", FrontEnd.Port) })
            if (port is < 0 or > 65535) throw new ArgumentException($"the {name} port {port} is out of range");
        if (SiloPort == GatewayPort || (FrontEnd.Port != 0 && (FrontEnd.Port == SiloPort || FrontEnd.Port == GatewayPort)))
            throw new ArgumentException($"the silo ({SiloPort}), gateway ({GatewayPort}) and front-end ({FrontEnd.Port}) ports must differ");
        if (string.IsNullOrWhiteSpace(ClusterId) || ClusterId.Length > 64) throw new ArgumentException("a cluster id holds 1 to 64 characters");
        if (Redis is not null && PrimarySiloPort is not null) throw new ArgumentException("a primary silo port is for development clustering; with Redis every silo finds the others there");
        if (Redis is not null) _ = RedisAddress.Parse(Redis);
        Tls?.Validate();
        FrontEnd.Validate();
    }
}
