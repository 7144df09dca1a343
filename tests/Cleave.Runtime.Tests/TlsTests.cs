using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cleave.Runtime.Client;
using Cleave.Runtime.Load;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

public sealed class TlsTests
{
    [Fact]
    public async Task A_server_with_a_pfx_certificate_speaks_grpc_and_metrics_over_tls()
    {
        string pfx = Path.Combine(Path.GetTempPath(), $"cleave-tls-{Guid.NewGuid():N}.pfx");
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "secret"));
        }
        try
        {
            var split = TinySplit.Load();
            await using var server = await SplitServer.StartAsync(new SplitServerOptions
            {
                SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, CertificatePath = pfx, CertificatePassword = "secret",
            });
            Assert.Equal("https", server.Url.Scheme);
            await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
            {
                Server = server.Url, ManifestHash = split.ManifestHash, AcceptAnyServerCertificate = true,
            });
            var frame = TinySplit.Frames(1, seed: 9)[0];
            Assert.Equal(TinySplit.LocalTop1(frame), (await client.InferAsync(frame)).Top1);
            var metrics = await MetricsSnapshot.FetchAsync(server.Url, acceptAnyCertificate: true);
            Assert.Equal(1, metrics["cleave_requests_executed_total{mode=\"split\"}"]);
        }
        finally
        {
            File.Delete(pfx);
        }
    }
}
