using System.Security.Cryptography.X509Certificates;
using Grpc.Core;

namespace Cleave.Runtime.Client;

/// <summary>
/// What a client presents to a server that authenticates: an API key (sent as <c>authorization: Bearer KEY</c> on
/// every call) and/or a client certificate (PKCS#12, offered in the TLS handshake).
/// </summary>
public sealed record ClientCredentials
{
    public static ClientCredentials None { get; } = new();

    public string? ApiKey { get; init; }

    public string? CertificatePath { get; init; }

    public string? CertificatePassword { get; init; }

    /// <summary>The call headers carrying the key, or null without one.</summary>
    internal Metadata? Headers() => ApiKey is { Length: > 0 } key ? new Metadata { { "authorization", $"Bearer {key}" } } : null;

    /// <summary>Adds the client certificate (if any) to the handler's TLS options.</summary>
    public void ApplyTo(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (CertificatePath is null) return;
        handler.SslOptions.ClientCertificates = [X509CertificateLoader.LoadPkcs12FromFile(CertificatePath, CertificatePassword)];
    }

    /// <summary>Reads a key from a file (its first non-empty line), the way <c>--api-key-file</c> does.</summary>
    public static string ReadKeyFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return File.ReadLines(path).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0)
            ?? throw new FormatException($"'{path}' holds no key");
    }
}
