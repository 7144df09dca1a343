using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cleave.Runtime.Tests.Security;

/// <summary>
/// A throw-away PKI in a temporary folder: a server certificate (PKCS#12), a client CA (PEM) with a client
/// certificate it issued, and a second CA with a client certificate of its own (one the server must refuse).
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string Password = "test";

    public TestCertificates()
    {
        Directory.CreateDirectory(Folder);
        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using (var server = serverRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1)))
            File.WriteAllBytes(ServerPfx, server.Export(X509ContentType.Pfx, Password));

        using var ca = CreateCa("CN=cleave test client CA");
        File.WriteAllText(ClientCaPem, ca.ExportCertificatePem());
        IssueClient(ca, "CN=trusted client", TrustedClientPfx);
        using var otherCa = CreateCa("CN=some other CA");
        IssueClient(otherCa, "CN=stranger", StrangerClientPfx);
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"cleave-pki-{Guid.NewGuid():N}");
    public string ServerPfx => Path.Combine(Folder, "server.pfx");
    public string ClientCaPem => Path.Combine(Folder, "client-ca.pem");
    public string TrustedClientPfx => Path.Combine(Folder, "trusted-client.pfx");
    public string StrangerClientPfx => Path.Combine(Folder, "stranger-client.pfx");

    private static X509Certificate2 CreateCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    }

    private static void IssueClient(X509Certificate2 ca, string subject, string pfxPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false)); // client authentication
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-4), DateTimeOffset.UtcNow.AddMinutes(50), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        File.WriteAllBytes(pfxPath, withKey.Export(X509ContentType.Pfx, Password));
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); }
        catch (IOException) { }
    }
}
