using Cleave.Runtime.Client;
using Cleave.Runtime.Links;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Load;

/// <summary>What a <see cref="LoadGenerator"/> sends, how many simulated clients send it, and for how long.</summary>
public sealed record LoadOptions
{
    public required Uri Server { get; init; }

    /// <summary>
    /// Further servers (a cluster's other silos) each client fails over to when it cannot reach <see cref="Server"/>
    /// (<see cref="SplitClientOptions.Servers"/>); their <c>/metrics</c> are read too, unless <see cref="MetricsUrl"/> is given.
    /// Client i starts at the i-th address of the list (mod its length), so the load is spread over all of them.
    /// </summary>
    public IReadOnlyList<Uri> FailoverServers { get; init; } = [];

    /// <summary>
    /// Payloads the clients cycle through: frames made once beforehand (split mode) or image files (full mode), so
    /// the load generator spends no CPU on heads and codecs that the server being measured needs.
    /// </summary>
    public required IReadOnlyList<byte[]> Payloads { get; init; }

    /// <summary>
    /// Per payload, whether the device's early exit answers it (<see cref="Client.DeviceExit"/>): such a request is
    /// counted as exited, its frame as bytes saved, and nothing is sent. Empty: every payload is sent.
    /// </summary>
    public IReadOnlyList<bool> AnsweredOnDevice { get; init; } = [];

    public string Mode { get; init; } = ServingModes.Split;
    public string ManifestHash { get; init; } = "";
    public IReadOnlyList<string> Codecs { get; init; } = [];
    public int Clients { get; init; } = 8;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests each client keeps in flight (closed loop: a new one as soon as one is answered).</summary>
    public int InFlightPerClient { get; init; } = 1;

    /// <summary>
    /// Retries until each request's deadline by default, as a real client would (refusals are still counted, in
    /// <see cref="LoadReport.FailedTries"/>); <see cref="RetryPolicy.None"/> sends each request once.
    /// </summary>
    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public LinkProfile Link { get; init; } = LinkProfile.Unlimited;

    /// <summary>Bit errors in every frame each client sends (seeded per client like the link's loss draws).</summary>
    public BitErrorModel BitErrors { get; init; } = BitErrorModel.None;
    public bool AcceptAnyServerCertificate { get; init; }

    /// <summary>API key and/or client certificate every client presents.</summary>
    public Client.ClientCredentials Credentials { get; init; } = Client.ClientCredentials.None;

    /// <summary>Where the server's <c>/metrics</c> is (a separate metrics port); null: <see cref="Server"/> and the <see cref="FailoverServers"/>.</summary>
    public Uri? MetricsUrl { get; init; }
}
