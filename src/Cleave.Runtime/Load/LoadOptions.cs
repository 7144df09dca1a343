using Cleave.Runtime.Client;
using Cleave.Runtime.Links;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Load;

/// <summary>What a <see cref="LoadGenerator"/> sends, how many simulated clients send it, and for how long.</summary>
public sealed record LoadOptions
{
    public required Uri Server { get; init; }

    /// <summary>
    /// Payloads the clients cycle through: frames made once beforehand (split mode) or image files (full mode), so
    /// the load generator spends no CPU on heads and codecs that the server being measured needs.
    /// </summary>
    public required IReadOnlyList<byte[]> Payloads { get; init; }

    public string Mode { get; init; } = ServingModes.Split;
    public string ManifestHash { get; init; } = "";
    public IReadOnlyList<string> Codecs { get; init; } = [];
    public int Clients { get; init; } = 8;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests each client keeps in flight (closed loop: a new one as soon as one is answered).</summary>
    public int InFlightPerClient { get; init; } = 1;

    /// <summary>No retries by default, so refusals are counted, not hidden.</summary>
    public RetryPolicy Retry { get; init; } = RetryPolicy.None;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public LinkProfile Link { get; init; } = LinkProfile.Unlimited;
    public bool AcceptAnyServerCertificate { get; init; }

    /// <summary>API key and/or client certificate every client presents.</summary>
    public Client.ClientCredentials Credentials { get; init; } = Client.ClientCredentials.None;

    /// <summary>Where the server's <c>/metrics</c> is (a separate metrics port); null: <see cref="Server"/>.</summary>
    public Uri? MetricsUrl { get; init; }
}
