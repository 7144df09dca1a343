using Cleave.Runtime.Links;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Client;

/// <summary>How a <see cref="SplitClient"/> connects, what it announces in its Hello, and how it shapes and retries.</summary>
public sealed record SplitClientOptions
{
    private IReadOnlyList<Uri> _servers = [];

    /// <summary>The server, e.g. http://127.0.0.1:7070 (cleartext HTTP/2) or https://host:7070: the first of <see cref="Servers"/>; setting it sets a list of one.</summary>
    public Uri Server
    {
        get => _servers.Count > 0 ? _servers[0] : throw new InvalidOperationException("no server address given");
        init => _servers = [value ?? throw new ArgumentNullException(nameof(value))];
    }

    /// <summary>
    /// Servers that answer the same requests (a cluster's silos): the client uses one until a connect to it fails
    /// or it refuses a request as overloaded (RESOURCE_EXHAUSTED), then the next (round robin, with the reconnect
    /// backoff only after a whole round failed), and re-sends every unanswered or refused request under its
    /// idempotency id; it returns to the first after <see cref="FailBackAfter"/>. Give this or <see cref="Server"/>.
    /// </summary>
    public IReadOnlyList<Uri> Servers
    {
        get => _servers;
        init => _servers = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// With several <see cref="Servers"/>: after the client left the first (preferred) one, because a connect to it
    /// failed or it refused a request as overloaded, it probes the preferred server this often (a handshake in the
    /// background, off the request path) and returns to it once it answers. The old stream is half-closed, so what it
    /// had accepted is still answered there. Null: never return.
    /// </summary>
    public TimeSpan? FailBackAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Scopes idempotency ids on the server: keep it when reconnecting so retries are recognised.</summary>
    public string ClientId { get; init; } = Guid.NewGuid().ToString("N");

    /// <summary><see cref="ServingModes.Split"/> (frames of the cut tensor) or <see cref="ServingModes.Full"/> (image files).</summary>
    public string Mode { get; init; } = ServingModes.Split;

    /// <summary>The split manifest hash of the head this client runs (split mode).</summary>
    public string ManifestHash { get; init; } = "";

    /// <summary>Codec specs the client may send (the server answers which it accepts).</summary>
    public IReadOnlyList<string> Codecs { get; init; } = [];

    public LinkProfile Link { get; init; } = LinkProfile.Unlimited;

    /// <summary>Seeds the link emulator's loss draws (null: a random seed).</summary>
    public int? LinkSeed { get; init; }

    /// <summary>
    /// Bit errors the emulated link puts into every frame sent, each try drawn afresh (docs/links.md, "Bit errors"):
    /// only the payload bytes are damaged; the request id and the message envelope arrive intact. Seeded by
    /// <see cref="LinkSeed"/>.
    /// </summary>
    public BitErrorModel BitErrors { get; init; } = BitErrorModel.None;

    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    /// <summary>How long one try waits for its answer before it counts as lost and is retried.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the first connect keeps trying while nothing answers at the address (connection refused, host not
    /// found) and no connect has succeeded yet: a mistyped address or a server not started fails within seconds, not
    /// at the retry deadline, while a server restarting in the moment the client starts is still waited for. Longer
    /// to wait for a server that is still starting (a test, a script starting both); never beyond
    /// <see cref="RetryPolicy.Deadline"/>. Other unreachable causes (no handshake answer, a broken connection) and every
    /// reconnect after a success keep the retry deadline.
    /// </summary>
    public TimeSpan FirstConnectGrace { get; init; } = DefaultFirstConnectGrace;

    /// <summary>The default <see cref="FirstConnectGrace"/>: 3 s, a few reconnect backoffs.</summary>
    public static TimeSpan DefaultFirstConnectGrace { get; } = TimeSpan.FromSeconds(3);

    /// <summary>Classes per answer (0: the server's default, 5).</summary>
    public uint TopK { get; init; } = 5;

    /// <summary>Also ask for the whole output tensor (a raw frame) in every answer.</summary>
    public bool ReturnTensor { get; init; }

    /// <summary>
    /// The task tails every request asks for (names the server's Welcome lists), answered from one transmission in
    /// <see cref="SplitResult.Tasks"/>; empty: the default task only, answered in <see cref="SplitResult.Top"/> as before.
    /// </summary>
    public IReadOnlyList<string> Tasks { get; init; } = [];

    /// <summary>Trust any TLS certificate (a self-signed development certificate); never for production.</summary>
    public bool AcceptAnyServerCertificate { get; init; }

    /// <summary>API key and/or client certificate for a server that authenticates (docs/security.md).</summary>
    public ClientCredentials Credentials { get; init; } = ClientCredentials.None;

    // Restart survival (issue 13, item 7).

    /// <summary>Clock for the retry deadline, backoff waits and per-try timeouts (tests pass a fake one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Called after each failed try that will be retried or ends the request (a load test times outages with it).</summary>
    public Action<SplitInferenceException>? OnTryFailed { get; init; }
}
