namespace Cleave.Cluster.Security;

/// <summary>
/// TLS between the silos of a cluster (silo-to-silo and gateway connections), with mutual authentication: every silo
/// presents its certificate and accepts a peer only when <see cref="SiloCertificateTrust"/> does. The gRPC front end's
/// TLS is separate (<c>--cert</c>).
/// </summary>
public sealed record SiloTlsOptions
{
    /// <summary>The silo's certificate with its private key (PKCS#12, .pfx); its key usages must allow server and client authentication (or name none).</summary>
    public required string CertificatePath { get; init; }

    /// <summary>The password of <see cref="CertificatePath"/> (null: none).</summary>
    public string? CertificatePassword { get; init; }

    /// <summary>
    /// A CA certificate (PEM or DER): a peer is accepted when its certificate chains to it, and this silo's own
    /// certificate must too. Null: a peer must present the very certificate this silo has (the same SHA-256
    /// thumbprint), i.e. one certificate shared by every silo of the cluster.
    /// </summary>
    public string? TrustPath { get; init; }

    /// <summary>Longest a TLS handshake may take before the connection is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(CertificatePath)) throw new ArgumentException("the silo certificate path is empty");
        if (TrustPath is not null && string.IsNullOrWhiteSpace(TrustPath)) throw new ArgumentException("the silo trust path is empty");
        if (HandshakeTimeout <= TimeSpan.Zero) throw new ArgumentException("the TLS handshake timeout must be positive");
    }
}
