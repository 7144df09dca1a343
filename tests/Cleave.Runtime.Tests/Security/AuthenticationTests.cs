using System.Net;
using Cleave.Runtime.Client;
using Cleave.Runtime.Load;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;
using Cleave.Runtime.Serving.Security;

namespace Cleave.Runtime.Tests.Security;

/// <summary>
/// A real TLS server on 127.0.0.1 with API keys and client certificates: missing, wrong and revoked keys and a
/// certificate from another CA are refused with UNAUTHENTICATED; a caller over its quota gets RESOURCE_EXHAUSTED
/// with a retry hint while others carry on; /metrics lives on its own loopback port.
/// </summary>
public sealed class AuthenticationTests
{
    [Fact]
    public async Task Only_valid_keys_and_certificates_from_the_client_ca_get_in_and_revoked_keys_stop_working()
    {
        using var pki = new TestCertificates();
        string keyFile = Path.Combine(pki.Folder, "keys");
        string alice = ApiKeyFile.Add(keyFile, "alice");
        string carol = ApiKeyFile.Add(keyFile, "carol");
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, CertificatePath = pki.ServerPfx, CertificatePassword = TestCertificates.Password,
            Security = new ServerSecurityOptions { ApiKeyFile = keyFile, ClientCaPath = pki.ClientCaPem, MetricsPort = 0 },
        });
        var frame = TinySplit.Frames(1, seed: 3)[0];
        int expected = TinySplit.LocalTop1(frame);

        SplitClientOptions Options(ClientCredentials credentials) => new()
        {
            Server = server.Url, ManifestHash = split.ManifestHash, AcceptAnyServerCertificate = true, Credentials = credentials, Retry = RetryPolicy.None,
        };
        async Task<int> Top1(ClientCredentials credentials)
        {
            await using var client = await SplitClient.ConnectAsync(Options(credentials));
            return (await client.InferAsync(frame)).Top1;
        }
        async Task AssertRefused(ClientCredentials credentials)
        {
            var refused = await Assert.ThrowsAsync<SplitInferenceException>(() => Top1(credentials));
            Assert.Equal(SplitErrorCode.Unauthenticated, refused.Code);
            Assert.False(refused.IsTransient);
        }

        Assert.Equal(expected, await Top1(new ClientCredentials { ApiKey = alice }));
        Assert.Equal(expected, await Top1(new ClientCredentials { CertificatePath = pki.TrustedClientPfx, CertificatePassword = TestCertificates.Password }));
        await AssertRefused(ClientCredentials.None);
        await AssertRefused(new ClientCredentials { ApiKey = alice + "x" });
        await AssertRefused(new ClientCredentials { ApiKey = ApiKeyFile.NewKey() });
        await AssertRefused(new ClientCredentials { CertificatePath = pki.StrangerClientPfx, CertificatePassword = TestCertificates.Password });
        // A valid certificate does not excuse a wrong key.
        await AssertRefused(new ClientCredentials { ApiKey = "wrong", CertificatePath = pki.TrustedClientPfx, CertificatePassword = TestCertificates.Password });

        // Revoked: removed from the file, which the server re-reads when it changes (checked at most once a second).
        Assert.True(ApiKeyFile.Revoke(keyFile, "alice"));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var attempt = await Record.ExceptionAsync(() => Top1(new ClientCredentials { ApiKey = alice }));
            if (attempt is SplitInferenceException { Code: SplitErrorCode.Unauthenticated }) break;
            Assert.True(DateTime.UtcNow < deadline, "the revoked key was still accepted 20 s after its removal");
            await Task.Delay(250);
        }
        Assert.Equal(expected, await Top1(new ClientCredentials { ApiKey = carol })); // the others are still in

        // /metrics only on the metrics port (HTTP/1.1, loopback); /healthz still on the service port.
        Assert.NotEqual(server.Url.Port, server.MetricsUrl.Port);
        Assert.Equal("127.0.0.1", server.MetricsUrl.Host);
        var metrics = await MetricsSnapshot.FetchAsync(server.MetricsUrl);
        Assert.True(metrics["cleave_unauthenticated_total"] >= 5);
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var http = new HttpClient(handler);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(server.Url, "/metrics"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.Url, "/healthz"))).StatusCode);
    }

    [Fact]
    public async Task A_caller_over_its_quota_gets_resource_exhausted_with_a_hint_while_others_carry_on()
    {
        string keyFile = Path.Combine(Path.GetTempPath(), $"cleave-keys-{Guid.NewGuid():N}");
        try
        {
            string greedy = ApiKeyFile.Add(keyFile, "greedy", ClientQuota.Parse("rate=1,burst=3"));
            string modest = ApiKeyFile.Add(keyFile, "modest");
            var split = TinySplit.Load();
            await using var server = await SplitServer.StartAsync(new SplitServerOptions
            {
                SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, Security = new ServerSecurityOptions { ApiKeyFile = keyFile },
            });
            var frames = TinySplit.Frames(12, seed: 5);
            await using var greedyClient = await SplitClient.ConnectAsync(new SplitClientOptions
            {
                Server = server.Url, ManifestHash = split.ManifestHash, Credentials = new ClientCredentials { ApiKey = greedy }, Retry = RetryPolicy.None,
            });
            await using var modestClient = await SplitClient.ConnectAsync(new SplitClientOptions
            {
                Server = server.Url, ManifestHash = split.ManifestHash, Credentials = new ClientCredentials { ApiKey = modest }, Retry = RetryPolicy.None,
            });

            // 12 requests at once against a bucket of 3 refilled at 1/s: at most 3 + (seconds elapsed) get through.
            var greedyResults = await Task.WhenAll(frames.Select(f => Record.ExceptionAsync(() => greedyClient.InferAsync(f))));
            var refusals = greedyResults.OfType<SplitInferenceException>().ToList();
            Assert.InRange(refusals.Count, 4, 9);
            Assert.All(refusals, r => Assert.Equal(SplitErrorCode.ResourceExhausted, r.Code));
            Assert.All(refusals, r => Assert.InRange(r.RetryAfterMs, 1u, 60_000u));
            Assert.Equal(greedyResults.Length - refusals.Count, greedyResults.Count(r => r is null));

            // Meanwhile an unlimited caller gets every answer right.
            var answers = await Task.WhenAll(frames.Select(f => modestClient.InferAsync(f)));
            Assert.Equal(frames.Select(TinySplit.LocalTop1), answers.Select(a => a.Top1));
            var metrics = await MetricsSnapshot.FetchAsync(server.MetricsUrl);
            Assert.Equal(refusals.Count, metrics["cleave_over_quota_total"]);
        }
        finally { File.Delete(keyFile); }
    }

    [Fact]
    public async Task Concurrency_quota_limits_requests_in_flight_across_streams()
    {
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, MaxBatch = 8, MaxDelay = TimeSpan.FromMilliseconds(300), // a batch holds its permits while it waits
            Security = new ServerSecurityOptions { DefaultQuota = ClientQuota.Parse("concurrent=1") },
        });
        var frames = TinySplit.Frames(24, seed: 8);
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash, Retry = RetryPolicy.None });
        var results = await Task.WhenAll(frames.Select(f => Record.ExceptionAsync(() => client.InferAsync(f))));
        // Without authentication the caller is its address: one request at a time, the rest refused at once.
        Assert.Contains(results, r => r is SplitInferenceException { Code: SplitErrorCode.ResourceExhausted, RetryAfterMs: > 0 });
        Assert.Contains(results, r => r is null);
    }

    [Fact]
    public async Task A_refused_handshake_tells_nothing_about_the_server_or_its_model()
    {
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        await using var stream = new RawStream(server.Url);
        await stream.HelloAsync(new string('0', 64));
        var welcome = (await stream.ReadAsync())!.Welcome;
        Assert.Equal(ErrorCode.ManifestMismatch, welcome.Error?.Code);
        Assert.DoesNotContain(split.ManifestHash, welcome.Error!.Message, StringComparison.Ordinal);
        Assert.Equal("", welcome.ManifestHash);
        foreach (string revealing in new[] { Environment.MachineName, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            Assert.DoesNotContain(revealing, welcome.ServerId, StringComparison.Ordinal);
            Assert.DoesNotContain(revealing, welcome.Error.Message, StringComparison.Ordinal);
        }
    }
}
