using System.Collections.Concurrent;
using Cleave.Cluster.FrontEnd;
using Cleave.Runtime.Client;
using Cleave.Runtime.Serving;
using Cleave.Runtime.Tests;
using Microsoft.Extensions.DependencyInjection;
using Cleave.Runtime;

namespace Cleave.Cluster.Tests;

/// <summary>
/// Two silos serving the same cut, one with a queue of one: the requests it refuses as overloaded (RESOURCE_EXHAUSTED)
/// are answered by the other, under the same idempotency ids, and every request runs exactly once in the cluster.
/// </summary>
public sealed class OverloadFailoverTests
{
    [Fact]
    public async Task Requests_a_saturated_silo_refuses_are_answered_by_the_other_each_run_exactly_once()
    {
        await using var cluster = await ClusterFixture.StartAsync(2, index => new FrontEndOptions
        {
            Port = 0,
            Classification = new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, MaxBatch = 1, Threads = 1, QueueCapacity = index == 0 ? 1 : 256 },
        }, generation: null);
        var servers = cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<SiloFrontEnd>().SplitServer!).ToArray();
        var saturated = servers.Single(s => s.State.Options.QueueCapacity == 1);
        var other = servers.Single(s => s != saturated);

        var frames = TinySplit.Frames(8, seed: 31);
        var expected = frames.Select(TinySplit.LocalTop1).ToArray();
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
        {
            Servers = [saturated.Url, other.Url], ManifestHash = TinySplit.Load().ManifestHash,
            Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(30) },
        });
        const int Requests = 192;
        var answers = new ConcurrentDictionary<string, SplitResult>(StringComparer.Ordinal);
        int next = -1;
        // 32 requests in flight against a queue of one: the saturated silo refuses most of the first burst.
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            for (int n; (n = Interlocked.Increment(ref next)) < Requests;)
            {
                var result = await client.InferAsync(frames[n % frames.Length], $"r{n}");
                Assert.Equal(expected[n % frames.Length], result.Top1);
                Assert.True(answers.TryAdd(result.RequestId, result), $"{result.RequestId} answered twice");
            }
        })).WaitAsync(TimeSpan.FromSeconds(90));

        long Executed(SplitServer server) => server.State.Modes.Sum(mode => server.Metrics.Executed(mode));
        Assert.Equal(Requests, answers.Count);
        Assert.True(saturated.Metrics.ErrorCount(SplitErrorCode.ResourceExhausted) > 0, "the silo with a queue of one refused nothing");
        Assert.Equal(Requests, Executed(saturated) + Executed(other)); // each request ran once, on one silo
        Assert.Contains(answers.Values, r => r.ServerId == other.Metrics.ServerId && r.Attempts > 1); // refused there, answered here
        Assert.True(client.Failovers >= 1);
        Assert.Equal(0, client.DuplicateAnswers);
    }
}
