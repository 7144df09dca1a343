using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Hosting;
using Cleave.Cluster.Membership;
using Cleave.Cluster.Status;
using Cleave.Codecs;
using Cleave.Runtime.Generation;

namespace Cleave.Cluster.Tests;

/// <summary>Silos that find each other through a real redis-server, and starts that must fail at once with one clear error.</summary>
public sealed class RedisMembershipTests
{
    private const int K = 2;

    private static ClusterSiloOptions Silo(string redis, string clusterId = "cleave") => new()
    {
        Redis = redis, ClusterId = clusterId, SiloPort = RedisServer.FreePort(), GatewayPort = RedisServer.FreePort(),
        FrontEnd = new FrontEndOptions { Port = 0 }, Generation = StoriesModel.Options(K), StartDeadline = TimeSpan.FromSeconds(60),
    };

    [RedisFact]
    public async Task Two_silos_join_through_Redis_and_either_front_end_serves_a_session()
    {
        using var redis = await RedisServer.StartAsync();
        await using var first = await ClusterSilo.StartAsync(Silo(redis.Address));
        await using var second = await ClusterSilo.StartAsync(Silo(redis.Address));

        using var head = StoriesModel.Head(K);
        var config = StoriesModel.Model.Config;
        int[] prompt = StoriesModel.Model.Tokenizer.Encode("Lily had a red ball", bos: true);
        using var client = new GenerationClient([first.FrontEndUrl, second.FrontEndUrl], first: 1);
        var result = await new SplitGenerator(head, config, K, TokenStreamCodec.ForSender("raw", config.Dim, () => []), client).GenerateAsync(prompt, 24);
        Assert.Equal(StoriesModel.LocalGreedy(prompt, 24), result.GeneratedTokens);

        // Every silo reports every 2 s; either front end lists both.
        var clock = Stopwatch.StartNew();
        ClusterStatus status;
        do status = await ClusterStatus.FetchAsync(first.FrontEndUrl, TimeSpan.FromSeconds(10));
        while (status.Silos.Length < 2 && clock.Elapsed < TimeSpan.FromSeconds(30) && await Delay());
        Assert.Equal(new[] { first.SiloAddress, second.SiloAddress }.Order(StringComparer.Ordinal), status.Silos.Select(s => s.Silo));
        Assert.Equal(new[] { first.FrontEndUrl.ToString(), second.FrontEndUrl.ToString() }.Order(StringComparer.Ordinal),
            status.Silos.Select(s => s.FrontEnd).Order(StringComparer.Ordinal));
        Assert.All(status.Silos, s => Assert.EndsWith($"@{K}", s.LanguageModel, StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task A_start_that_cannot_work_fails_at_once_with_one_clear_error()
    {
        // Redis unreachable: nothing listens on the port.
        var clock = Stopwatch.StartNew();
        var unreachable = await Assert.ThrowsAsync<ClusterStartException>(() => ClusterSilo.StartAsync(Silo($"redis://127.0.0.1:{RedisServer.FreePort()}")));
        Assert.Contains("cannot reach Redis", unreachable.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");

        using var redis = await RedisServer.StartAsync();
        // A silo port in use.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var inUse = await Assert.ThrowsAsync<ClusterStartException>(() => ClusterSilo.StartAsync(Silo(redis.Address) with { SiloPort = port }));
        Assert.Contains($"silo port {port} is in use", inUse.Message, StringComparison.Ordinal);

        // Another cluster owns this Redis.
        await StartChecks.RedisServesClusterAsync(redis.Address, "fleet-a", TimeSpan.FromSeconds(5));
        var mismatch = await Assert.ThrowsAsync<ClusterStartException>(() => ClusterSilo.StartAsync(Silo(redis.Address, "fleet-b")));
        Assert.Contains("cluster 'fleet-a'", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("'fleet-b'", mismatch.Message, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task A_silo_whose_Redis_died_still_leaves_within_its_stop_deadline()
    {
        var redis = await RedisServer.StartAsync();
        var silo = await ClusterSilo.StartAsync(Silo(redis.Address));
        redis.Dispose(); // the membership store is gone: Orleans' graceful leave cannot finish (it took ~2 minutes before the deadline)
        var clock = Stopwatch.StartNew();
        await silo.DisposeAsync();
        Assert.True(clock.Elapsed < ClusterSilo.StopDeadline + TimeSpan.FromSeconds(10), $"leaving took {clock.Elapsed}");
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(250);
        return true;
    }
}
