using System.Net;
using System.Security.Cryptography.X509Certificates;
using Cleave.Codecs;
using Cleave.Models.Text;
using Cleave.Runtime.Client;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Serving.Security;
using Cleave.Runtime.Tests.Generation;
using Grpc.Core;

namespace Cleave.Runtime.Tests.Security;

/// <summary>`serve-lm` over TLS with API keys and client certificates: refused callers get UNAUTHENTICATED, accepted ones generate correctly.</summary>
public sealed class GenerationSecurityTests
{
    private static TokenStreamCodec Raw => TokenStreamCodec.ForSender("raw", StoriesModel.Model.Config.Dim, () => []);

    [StoriesFact]
    public async Task A_tls_generation_server_refuses_strangers_and_serves_keys_and_client_certificates()
    {
        using var pki = new TestCertificates();
        string keyFile = Path.Combine(pki.Folder, "keys");
        string key = ApiKeyFile.Add(keyFile, "writer");
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pki.ServerPfx, TestCertificates.Password);
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(2), 0, IPAddress.Loopback,
            security: new ServerSecurityOptions { ApiKeyFile = keyFile, ClientCaPath = pki.ClientCaPem }, certificate: certificate);
        Assert.Equal("https", server.Address.Scheme);

        foreach (var stranger in new[]
        {
            ClientCredentials.None,
            new ClientCredentials { ApiKey = ApiKeyFile.NewKey() },
            new ClientCredentials { CertificatePath = pki.StrangerClientPfx, CertificatePassword = TestCertificates.Password },
        })
        {
            using var refused = new GenerationClient(server.Address, stranger, acceptAnyServerCertificate: true);
            var e = await Assert.ThrowsAsync<RpcException>(() => refused.OpenAsync(StoriesModel.Open(2)));
            Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        }

        int[] prompt = StoriesModel.Model.Tokenizer.Encode("Tim and his dog", bos: true);
        var expected = StoriesModel.LocalGreedy(prompt, 8);
        using var head = StoriesModel.Head(2);
        foreach (var accepted in new[]
        {
            new ClientCredentials { ApiKey = key },
            new ClientCredentials { CertificatePath = pki.TrustedClientPfx, CertificatePassword = TestCertificates.Password },
        })
        {
            using var client = new GenerationClient(server.Address, accepted, acceptAnyServerCertificate: true);
            var result = await new SplitGenerator(head, StoriesModel.Model.Config, 2, Raw, client).GenerateAsync(prompt, 8);
            Assert.Equal(expected, result.GeneratedTokens);
        }
    }
}
