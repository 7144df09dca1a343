using System.Diagnostics;
using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Hosting;
using Cleave.Cluster.Membership;
using Cleave.Cluster.Security;
using Cleave.Cluster.Status;
using Cleave.Runtime.Client;
using Cleave.Runtime.Serving;
using Cleave.Runtime.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace Cleave.Cluster.Tests;

/// <summary>TLS between silos: silos that trust each other form a cluster and route across it; a stranger's silo cannot join.</summary>
public sealed class SiloTlsTests
{
    private static ClusterSiloOptions Silo(string folder, string certificate, int? primary = null) => new()
    {
        SiloPort = RedisServer.FreePort(), GatewayPort = RedisServer.FreePort(), PrimarySiloPort = primary,
        ClusterId = "tls", StartDeadline = TimeSpan.FromSeconds(60),
        FrontEnd = new FrontEndOptions { Port = 0, Classification = new SplitServerOptions { SplitDirectory = folder, Port = 0, MaxBatch = 1, Threads = 1 } },
        Tls = new SiloTlsOptions { CertificatePath = certificate, CertificatePassword = SiloCertificates.Password },
    };

    [Fact]
    public async Task Silos_with_the_cluster_certificate_route_across_and_a_silo_with_another_is_refused_at_once()
    {
        string shared = SiloCertificates.SelfSigned("cleave-cluster");
        var firstOptions = Silo(CutRoutingTests.DeeperSplit(), shared);
        await using var first = await ClusterSilo.StartAsync(firstOptions);
        await using var second = await ClusterSilo.StartAsync(Silo(TinySplit.SplitPath, shared, primary: firstOptions.SiloPort));

        // Both silos' cards reach the registry grain (one of them calls it across, over TLS).
        var clock = Stopwatch.StartNew();
        while (!new[] { first, second }.All(s => s.Services.GetRequiredService<ClusterView>().Silos.Count == 2))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the silos did not both report within 30 s");
            await Task.Delay(100);
        }
        // A client of the first silo asking for the second's cut is sent there and answered.
        await using (var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = first.FrontEndUrl, ManifestHash = TinySplit.Load().ManifestHash }))
        {
            Assert.Equal(second.FrontEndUrl, client.Options.Server);
            var frame = TinySplit.Frames(1, seed: 9)[0];
            Assert.Equal(TinySplit.LocalTop1(frame), (await client.InferAsync(frame)).Top1);
        }
        Assert.True(first.Trust!.Accepted > 0 && second.Trust!.Accepted > 0, $"accepted {first.Trust!.Accepted} and {second.Trust!.Accepted}");
        Assert.Equal(0, first.Trust.Rejected);

        // A silo with a certificate of its own: refused by its first peer, and it says so without waiting out its deadline.
        clock.Restart();
        var stranger = await Assert.ThrowsAsync<ClusterStartException>(() => ClusterSilo.StartAsync(Silo(TinySplit.SplitPath, SiloCertificates.SelfSigned("stranger"), primary: firstOptions.SiloPort)));
        Assert.Contains("TLS between silos failed", stranger.Message, StringComparison.Ordinal);
        Assert.Contains("CN=cleave-cluster", stranger.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Equal(2, first.Services.GetRequiredService<ClusterView>().Silos.Count);
    }

    [Fact]
    public async Task With_a_trusted_CA_any_certificate_it_issued_is_accepted_and_no_other()
    {
        var (caPem, issue) = SiloCertificates.Authority("cleave-ca");
        var (_, issueElsewhere) = SiloCertificates.Authority("other-ca");
        using var trust = SiloCertificateTrust.Load(new SiloTlsOptions { CertificatePath = issue("silo-a"), CertificatePassword = SiloCertificates.Password, TrustPath = caPem });
        using var sibling = SiloCertificateTrust.Load(new SiloTlsOptions { CertificatePath = issue("silo-b"), CertificatePassword = SiloCertificates.Password, TrustPath = caPem });
        Assert.True(trust.Validate(sibling.Certificate, null, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors));

        string foreign = issueElsewhere("silo-c");
        using var foreignCertificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(foreign, SiloCertificates.Password);
        Assert.False(trust.Validate(foreignCertificate, null, System.Net.Security.SslPolicyErrors.None));
        Assert.Contains("not issued by the trusted CA 'CN=cleave-ca'", await trust.FirstRejection, StringComparison.Ordinal);
        Assert.Equal((1, 1), (trust.Accepted, trust.Rejected));

        // A silo whose own certificate its peers would refuse does not start.
        var own = Assert.Throws<ClusterStartException>(() => SiloCertificateTrust.Load(new SiloTlsOptions { CertificatePath = foreign, CertificatePassword = SiloCertificates.Password, TrustPath = caPem }));
        Assert.Contains("own certificate would be refused", own.Message, StringComparison.Ordinal);
        var wrongPassword = Assert.Throws<ClusterStartException>(() => SiloCertificateTrust.Load(new SiloTlsOptions { CertificatePath = foreign, CertificatePassword = "wrong" }));
        Assert.Contains("cannot read the silo certificate", wrongPassword.Message, StringComparison.Ordinal);
    }
}
