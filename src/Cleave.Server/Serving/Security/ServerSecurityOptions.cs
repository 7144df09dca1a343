namespace Cleave.Runtime.Serving.Security;

/// <summary>
/// Who may call a server and how much: API keys (<see cref="ApiKeyFile"/> and/or <see cref="ApiKeys"/>), client
/// certificates issued by <see cref="ClientCaPath"/> (mutual TLS; needs the server's own TLS certificate), and the
/// quota of callers whose key names none. With neither keys nor a CA every caller is accepted (the default, as
/// before), identified by its IP address for quotas and idempotency.
/// </summary>
public sealed record ServerSecurityOptions
{
    /// <summary>A key file (<c>name:sha256-hex[:quota]</c> lines), re-read when it changes.</summary>
    public string? ApiKeyFile { get; init; }

    /// <summary>More key entries in the same format (e.g. from the CLEAVE_API_KEYS environment variable).</summary>
    public IReadOnlyList<ApiKeyEntry> ApiKeys { get; init; } = [];

    /// <summary>A PEM or DER CA certificate: a client certificate that chains to it authenticates its caller.</summary>
    public string? ClientCaPath { get; init; }

    /// <summary>Quota of every caller whose key file line gives none (and of every caller without authentication).</summary>
    public ClientQuota DefaultQuota { get; init; } = ClientQuota.Unlimited;

    /// <summary>Serve <c>/metrics</c> on this port instead of the service port (0: any free port); null keeps it on the service port.</summary>
    public int? MetricsPort { get; init; }

    /// <summary>Address of the metrics port; loopback unless asked otherwise (metrics tell load, modes and error counts).</summary>
    public string MetricsHost { get; init; } = "127.0.0.1";

    /// <summary>True when callers must present a key or a client certificate.</summary>
    public bool RequiresAuthentication => ApiKeyFile is not null || ApiKeys.Count > 0 || ClientCaPath is not null;

    public void Validate(bool serverHasTls)
    {
        if (ClientCaPath is not null && !serverHasTls) throw new ArgumentException("client certificates (a client CA) need the server's own TLS certificate (--cert)");
        if (ApiKeyFile is not null && !File.Exists(ApiKeyFile)) throw new ArgumentException($"key file '{ApiKeyFile}' not found (create it with `cleave keys add NAME --file {ApiKeyFile}`)");
        if (ClientCaPath is not null && !File.Exists(ClientCaPath)) throw new ArgumentException($"client CA file '{ClientCaPath}' not found");
        if (MetricsPort is < 0 or > 65535) throw new ArgumentException($"metrics port {MetricsPort} is out of range");
        if (DefaultQuota.RequestsPerSecond < 0 || DefaultQuota.MaxConcurrent < 0 || DefaultQuota.Burst < 0) throw new ArgumentException("quotas cannot be negative");
    }

    /// <summary>
    /// A warning when <paramref name="host"/> accepts other machines with neither TLS nor authentication (anyone on the
    /// network can use and observe the server), else null.
    /// </summary>
    public string? InsecureBindingWarning(string host, bool serverHasTls)
    {
        ArgumentNullException.ThrowIfNull(host);
        bool loopback = System.Net.IPAddress.TryParse(host, out var address) ? System.Net.IPAddress.IsLoopback(address) : host == "localhost";
        if (loopback || serverHasTls || RequiresAuthentication) return null;
        return $"warning: listening on {host} without TLS and without API keys: anyone who can reach this port can use the server and read its traffic (give --cert and --api-keys)";
    }
}
