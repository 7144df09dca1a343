using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cleave.Cluster.Membership;

namespace Cleave.Cluster.Security;

/// <summary>
/// Who may talk to this silo over the silo and gateway ports: the policy of <see cref="SiloTlsOptions"/> (the same
/// certificate as ours, or one issued by the trusted CA), and a record of the peers it turned away. The first
/// rejection is what a joining silo fails on at once (<see cref="FirstRejection"/>) instead of waiting out its join
/// deadline: a silo that cannot talk to the members it found cannot join. Host names are not checked: silos address
/// each other by IP, and trust comes from the certificate itself.
/// </summary>
public sealed class SiloCertificateTrust : IDisposable
{
    private readonly X509Certificate2? _ca;
    private readonly byte[] _ownHash;
    private readonly TaskCompletionSource<string> _firstRejection = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeProvider _time;
    private long _accepted;
    private long _rejected;

    private SiloCertificateTrust(X509Certificate2 certificate, X509Certificate2? ca, TimeProvider time)
    {
        Certificate = certificate;
        _ca = ca;
        _time = time;
        _ownHash = certificate.GetCertHash(HashAlgorithmName.SHA256);
    }

    /// <summary>This silo's certificate (with its private key).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Peers' certificates accepted so far (one per TLS connection, either direction).</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Completes with the reason of the first peer turned away.</summary>
    public Task<string> FirstRejection => _firstRejection.Task;

    /// <summary>Reads the certificate (and CA) and checks that this silo would accept itself; each failure is one sentence.</summary>
    public static SiloCertificateTrust Load(SiloTlsOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        X509Certificate2 certificate;
        try { certificate = X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword); }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ClusterStartException($"cannot read the silo certificate {options.CertificatePath} (--silo-cert): {e.Message}", e);
        }
        X509Certificate2? ca = null;
        try
        {
            if (!certificate.HasPrivateKey) throw new ClusterStartException($"the silo certificate {options.CertificatePath} holds no private key (give a .pfx with its key)");
            if (options.TrustPath is { } trustPath)
            {
                try { ca = LoadCertificate(trustPath); }
                catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
                {
                    throw new ClusterStartException($"cannot read the silo trust CA {trustPath} (--silo-trust): {e.Message}", e);
                }
            }
            var trust = new SiloCertificateTrust(certificate, ca, time ?? TimeProvider.System);
            if (trust.Reason(certificate) is { } own)
                throw new ClusterStartException($"this silo's own certificate would be refused by its peers: {own}");
            return trust;
        }
        catch
        {
            ca?.Dispose();
            certificate.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The TLS validation callback: the policy errors the platform found are ignored on purpose (a private CA or a
    /// self-signed certificate is never in the system store, and silos are addressed by IP, not by name); the policy
    /// here decides instead.
    /// </summary>
    public bool Validate(X509Certificate2 peer, X509Chain? chain, System.Net.Security.SslPolicyErrors errors)
    {
        if (Reason(peer) is { } reason)
        {
            Interlocked.Increment(ref _rejected);
            _firstRejection.TrySetResult($"a peer presented the certificate '{peer.Subject}' (SHA-256 {peer.GetCertHashString(HashAlgorithmName.SHA256)}), {reason}");
            return false;
        }
        Interlocked.Increment(ref _accepted);
        return true;
    }

    /// <summary>Why <paramref name="peer"/> is refused, or null when it is accepted.</summary>
    private string? Reason(X509Certificate2 peer)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (now < peer.NotBefore.ToUniversalTime() || now > peer.NotAfter.ToUniversalTime())
            return $"which is valid only from {peer.NotBefore.ToUniversalTime():u} to {peer.NotAfter.ToUniversalTime():u}";
        if (_ca is null)
            return peer.GetCertHash(HashAlgorithmName.SHA256).AsSpan().SequenceEqual(_ownHash)
                ? null
                : "which is not this silo's certificate (without --silo-trust every silo must present the same certificate)";
        using var build = new X509Chain();
        build.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        build.ChainPolicy.CustomTrustStore.Add(_ca);
        build.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // a private CA publishes no revocation lists: rotate the CA instead
        build.ChainPolicy.VerificationTime = now;
        bool valid = build.Build(peer);
        foreach (var element in build.ChainElements) if (!ReferenceEquals(element.Certificate, peer) && !ReferenceEquals(element.Certificate, _ca)) element.Certificate.Dispose();
        return valid ? null : $"which is not issued by the trusted CA '{_ca.Subject}' (--silo-trust)";
    }

    private static X509Certificate2 LoadCertificate(string path)
    {
        string text = File.ReadAllText(path);
        return text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromPem(text)
            : X509CertificateLoader.LoadCertificateFromFile(path);
    }

    public void Dispose()
    {
        _ca?.Dispose();
        Certificate.Dispose();
    }
}
