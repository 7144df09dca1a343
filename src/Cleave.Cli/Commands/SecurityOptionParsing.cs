using Cleave.Cli.Infrastructure;
using Cleave.Runtime.Client;
using Cleave.Runtime.Serving.Security;

namespace Cleave.Cli.Commands;

/// <summary>The authentication, quota and metrics options shared by the server verbs, and the credential options of the client verbs.</summary>
internal static class SecurityOptionParsing
{
    /// <summary>Environment variable with key entries (<c>name:sha256-hex[:quota]</c>, separated by newlines or ';') a server accepts.</summary>
    public const string ServerKeysVariable = "CLEAVE_API_KEYS";

    /// <summary>Environment variable with the key a client sends (when neither --api-key nor --api-key-file is given).</summary>
    public const string ClientKeyVariable = "CLEAVE_API_KEY";

    public static readonly string[] ServerValueOptions = ["api-keys", "client-ca", "rate", "burst", "max-concurrent", "metrics-port", "metrics-host"];

    public const string ServerHelp = $"""
          --api-keys FILE  accept only callers with a key from FILE (lines name:sha256-hex[:rate=R,burst=B,concurrent=C];
                           `cleave keys add NAME --file FILE` makes one); re-read when it changes, so removing a line
                           revokes that key. Entries in ${ServerKeysVariable} are accepted too. Refusals: gRPC UNAUTHENTICATED
          --client-ca F    also accept callers whose TLS client certificate chains to the CA in F (PEM or DER; needs --cert)
          --rate R --burst B --max-concurrent C  per-caller quota (requests/s, burst, requests in flight) for callers whose
                           key line sets none; callers are keys, certificates, or (without authentication) IP addresses.
                           Over quota: RESOURCE_EXHAUSTED with retry_after_ms (default: unlimited)
          --metrics-port P serve /metrics on its own HTTP/1.1 port (0: any free port) on --metrics-host (default
                           127.0.0.1) instead of the service port; /healthz stays on the service port
        """;

    public static readonly string[] ClientValueOptions = ["api-key", "api-key-file", "client-cert", "client-cert-password"];

    public const string ClientHelp = $"""
          --api-key-file F the API key to send (first line of F); --api-key KEY gives it inline (visible to other users
                           of this machine in the process list), ${ClientKeyVariable} in the environment also works
          --client-cert F.pfx [--client-cert-password P]  TLS client certificate for a server with --client-ca
        """;

    /// <summary>The key entries in <see cref="ServerKeysVariable"/> (none when it is unset).</summary>
    public static IReadOnlyList<ApiKeyEntry> ServerKeysFromEnvironment()
    {
        string? environment = Environment.GetEnvironmentVariable(ServerKeysVariable);
        try { return string.IsNullOrWhiteSpace(environment) ? [] : ApiKeyFile.Parse(environment); }
        catch (FormatException e) { throw new UsageException($"{ServerKeysVariable}: {e.Message}"); }
    }

    public static ServerSecurityOptions ParseServer(CommandLine cl)
    {
        var fromEnvironment = ServerKeysFromEnvironment();
        var quota = new ClientQuota(cl.GetDouble("rate", 0), cl.GetInt("burst", 0), cl.GetInt("max-concurrent", 0));
        if (quota.RequestsPerSecond < 0 || quota.Burst < 0 || quota.MaxConcurrent < 0) throw new UsageException("--rate, --burst and --max-concurrent cannot be negative");
        return new ServerSecurityOptions
        {
            ApiKeyFile = cl.Get("api-keys"),
            ApiKeys = fromEnvironment,
            ClientCaPath = cl.Get("client-ca"),
            DefaultQuota = quota,
            MetricsPort = cl.Has("metrics-port") ? cl.GetInt("metrics-port", 0) : null,
            MetricsHost = cl.Get("metrics-host") ?? "127.0.0.1",
        };
    }

    public static ClientCredentials ParseClient(CommandLine cl)
    {
        if (cl.Has("api-key") && cl.Has("api-key-file")) throw new UsageException("give --api-key or --api-key-file, not both");
        string? key = cl.Get("api-key")
            ?? (cl.Get("api-key-file") is { } file ? ClientCredentials.ReadKeyFile(file) : null)
            ?? Environment.GetEnvironmentVariable(ClientKeyVariable);
        if (cl.Has("client-cert-password") && !cl.Has("client-cert")) throw new UsageException("--client-cert-password needs --client-cert");
        return new ClientCredentials
        {
            ApiKey = string.IsNullOrWhiteSpace(key) ? null : key.Trim(),
            CertificatePath = cl.Get("client-cert"),
            CertificatePassword = cl.Get("client-cert-password"),
        };
    }
}
