using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;

namespace Cleave.Runtime.Serving.Security;

/// <summary>
/// Decides who a request comes from: a valid API key (<c>authorization: Bearer KEY</c> or <c>x-api-key: KEY</c>) or a
/// client certificate that chains to the configured CA. A key that is present but unknown is refused even when a
/// valid certificate is also presented: a wrong key is a sign of a confused or hostile client.
/// </summary>
internal sealed class ClientAuthenticator : IDisposable
{
    private readonly ApiKeyStore? _keys;
    private readonly X509Certificate2? _clientCa;
    private readonly ClientQuota _defaultQuota;

    public ClientAuthenticator(ServerSecurityOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _defaultQuota = options.DefaultQuota;
        if (options.ApiKeyFile is not null || options.ApiKeys.Count > 0) _keys = new ApiKeyStore(options.ApiKeyFile, options.ApiKeys, time);
        if (options.ClientCaPath is not null) _clientCa = LoadCertificate(options.ClientCaPath);
    }

    public ApiKeyStore? Keys => _keys;

    /// <summary>The caller, or null when it presented no valid credentials.</summary>
    public CallerIdentity? Authenticate(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        string? key = PresentedKey(http.Request.Headers);
        if (key is not null)
        {
            if (_keys?.Find(key) is { } entry) return new CallerIdentity($"key:{entry.Name}", entry.Quota ?? _defaultQuota);
            return null;
        }
        if (_clientCa is not null && http.Connection.ClientCertificate is { } certificate && ChainsToCa(certificate))
            return new CallerIdentity($"cert:{certificate.Thumbprint}", _defaultQuota);
        return null;
    }

    private static string? PresentedKey(IHeaderDictionary headers)
    {
        if (headers.TryGetValue("x-api-key", out var apiKey) && apiKey.Count == 1 && !string.IsNullOrEmpty(apiKey[0])) return apiKey[0];
        if (headers.Authorization is { Count: 1 } auth && auth[0] is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return value["Bearer ".Length..].Trim();
        return null;
    }

    private bool ChainsToCa(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_clientCa!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // no CRL endpoints on a private CA; revoke by rotating the CA or with keys
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        bool valid = chain.Build(certificate);
        foreach (var element in chain.ChainElements) if (!ReferenceEquals(element.Certificate, certificate)) element.Certificate.Dispose();
        return valid;
    }

    internal static X509Certificate2 LoadCertificate(string path)
    {
        string text = File.ReadAllText(path);
        return text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromPem(text)
            : X509CertificateLoader.LoadCertificateFromFile(path);
    }

    public void Dispose() => _clientCa?.Dispose();
}
