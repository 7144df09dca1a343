using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cleave.Cluster.Tests;

/// <summary>Certificates made in the test: self-signed silo certificates and a small CA, written as .pfx / PEM files.</summary>
internal static class SiloCertificates
{
    private static readonly string Folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"cleave-silo-certs-{Environment.ProcessId}")).FullName;

    public const string Password = "silo-test";

    /// <summary>A self-signed certificate for server and client authentication, as a password-protected .pfx file.</summary>
    public static string SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = Request(name, key);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return Write(name, certificate);
    }

    /// <summary>A CA (its certificate as PEM) and a function issuing .pfx files signed by it.</summary>
    public static (string CaPem, Func<string, string> Issue) Authority(string name)
    {
        var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        string pem = Path.Combine(Folder, $"{name}.pem");
        File.WriteAllText(pem, ca.ExportCertificatePem());
        return (pem, leaf =>
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var serial = new byte[8];
            RandomNumberGenerator.Fill(serial);
            using var issued = Request(leaf, key).Create(ca, DateTimeOffset.UtcNow.AddMinutes(-4), DateTimeOffset.UtcNow.AddHours(23), serial);
            using var withKey = issued.CopyWithPrivateKey(key);
            return Write(leaf, withKey);
        });
    }

    private static CertificateRequest Request(string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request;
    }

    private static string Write(string name, X509Certificate2 certificate)
    {
        string path = Path.Combine(Folder, $"{name}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, Password));
        return path;
    }
}
