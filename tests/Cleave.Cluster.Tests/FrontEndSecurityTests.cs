using System.Net;
using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Status;
using Cleave.Runtime.Client;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Serving.Security;
using Grpc.Core;

namespace Cleave.Cluster.Tests;

/// <summary>
/// A silo that serves generation only still authenticates callers: its front end is its own Kestrel host, not a
/// <c>SplitServer</c>, so it must add the same interceptor as <c>serve-lm</c> (it once forwarded anyone's steps).
/// </summary>
public sealed class FrontEndSecurityTests
{
    [StoriesFact]
    public async Task A_generation_only_silo_refuses_callers_without_a_key_and_serves_keyed_ones()
    {
        string keyFile = Path.Combine(Path.GetTempPath(), $"cleave-cluster-keys-{Guid.NewGuid():N}");
        try
        {
            string key = ApiKeyFile.Add(keyFile, "device-fleet");
            await using var cluster = await ClusterFixture.StartAsync(1,
                _ => new FrontEndOptions { Port = 0, Security = new ServerSecurityOptions { ApiKeyFile = keyFile } }, StoriesModel.Options(2));
            var address = ClusterFixture.FrontEnd(cluster.Silos[0]);

            foreach (var stranger in new[] { ClientCredentials.None, new ClientCredentials { ApiKey = ApiKeyFile.NewKey() } })
            {
                using var refused = new GenerationClient(address, stranger);
                var e = await Assert.ThrowsAsync<RpcException>(() => refused.OpenAsync(StoriesModel.Open(2)));
                Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
            }
            using var client = new GenerationClient(address, new ClientCredentials { ApiKey = key });
            var open = await client.OpenAsync(StoriesModel.Open(2));
            Assert.Null(open.Error);
            Assert.NotEmpty(open.SessionId);

            // The cluster listing names silo addresses and model hashes: with keys on, this machine may still read it.
            using var http = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
            var listing = await http.GetAsync(new Uri(address, ClusterStatus.Path));
            Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }
}
