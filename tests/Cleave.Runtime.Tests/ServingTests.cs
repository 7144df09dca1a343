using Cleave.Runtime.Client;
using Cleave.Runtime.Load;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

/// <summary>Batching, refusals, idempotency and metrics on a real loopback server with real clients.</summary>
public sealed class ServingTests
{
    /// <summary>16 clients with 2 requests each in flight for 1.5 s against a one-slot queue: refusals guaranteed.</summary>
    private static async Task<(LoadReport Report, long Refusals)> OverflowAsync(RetryPolicy retry)
    {
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, Port = 0, MaxBatch = 1, QueueCapacity = 1, MaxDelay = TimeSpan.Zero, Threads = 1,
        });
        var report = await LoadGenerator.RunAsync(new LoadOptions
        {
            Server = server.Url, Payloads = TinySplit.Frames(8, seed: 3), ManifestHash = split.ManifestHash,
            Clients = 16, InFlightPerClient = 2, Duration = TimeSpan.FromSeconds(1.5), Retry = retry,
        });
        return (report, server.Metrics.ErrorCount(SplitErrorCode.ResourceExhausted));
    }

    [Fact]
    public async Task A_full_queue_refuses_explicitly_and_every_request_is_accounted_for()
    {
        var (report, refusals) = await OverflowAsync(RetryPolicy.None); // one try each: refusals are counted

        Assert.True(report.Refused > 0, $"expected the one-slot queue to overflow; {report.Answered} answered, none refused");
        Assert.True(report.Answered > 0);
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.Duplicates);
        Assert.Equal(report.Sent, report.Answered + report.Refused);
        Assert.Equal(report.Answered, report.ServerExecuted);
        Assert.Equal(report.Refused, refusals);
        Assert.Equal(1.0, report.MeanBatchSize);
    }

    [Fact]
    public async Task By_default_refusals_are_retried_after_the_servers_hint_until_every_request_is_answered()
    {
        var (report, refusals) = await OverflowAsync(RetryPolicy.Default);

        Assert.True(refusals > 0, "expected the one-slot queue to overflow");
        Assert.Equal(refusals, report.FailedTries);
        Assert.Equal(refusals, report.FailedTriesByKind["server:ResourceExhausted"]);
        Assert.Equal(refusals, report.Retries);
        Assert.Equal(0, report.Refused);
        Assert.Equal(0, report.Lost);
        Assert.Equal(report.Sent, report.Answered);
        Assert.Equal(report.Answered, report.ServerExecuted);
        Assert.Empty(report.Outages); // refusals are the server's answers, not an outage
    }

    [Fact]
    public async Task A_ping_crosses_the_emulated_link_both_ways_and_is_neither_a_request_nor_an_error()
    {
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        var link = new Links.LinkProfile("test", 1_000, 1_000, 40, 0);
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash, Link = link });

        var rtts = new List<double>();
        for (int i = 0; i < 3; i++) rtts.Add(await client.PingAsync());
        var answer = await client.InferAsync(TinySplit.Frames(1, seed: 2)[0]);

        // Half the RTT each way plus each message's serialization at 1,000 kbit/s: not under the emulated RTT, less the
        // timer's granularity: Task.Delay drops the fraction of a millisecond and fires on a 1 ms tick, so each of the
        // two waits can end early by the stopwatch (measured 38.2 and 37.6 ms for 40, docs/links.md; and once 35.4 ms in
        // a quiet CI run). The bound that matters: both directions are delayed (one alone would be about 20 ms).
        Assert.All(rtts, r => Assert.InRange(r, 40 * 3 / 4, 5_000));
        Assert.Equal(3, server.Metrics.PingCount);
        var metrics = await MetricsSnapshot.FetchAsync(server.Url);
        Assert.Equal(3, metrics["cleave_pings_total"]);
        Assert.Equal(1, metrics["cleave_requests_total{mode=\"split\"}"]);
        Assert.DoesNotContain(metrics.Samples.Keys, k => k.StartsWith("cleave_errors_total{", StringComparison.Ordinal));
        Assert.Equal(TinySplit.LocalTop1(TinySplit.Frames(1, seed: 2)[0]), answer.Top1);
    }

    [Fact]
    public async Task Setting_the_same_link_again_keeps_its_loss_draws_going()
    {
        // A client that re-sets its link before every request (as a lockstep bench does) must still see losses spread
        // over its requests, not the seed's first draw every time.
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        var link = new Links.LinkProfile("lossy", double.PositiveInfinity, double.PositiveInfinity, 0, 0.3);
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash, Link = link, LinkSeed = 1 });
        var rtts = new List<double>();
        for (int i = 0; i < 16; i++)
        {
            client.Link = link with { }; // equal, not the same instance
            rtts.Add(await client.PingAsync());
        }
        int delayed = rtts.Count(r => r >= 190); // a loss costs one 200 ms RTO (less up to 2 ms of timer granularity)
        Assert.InRange(delayed, 1, rtts.Count - 1);
    }

    [Fact]
    public async Task A_ping_before_the_hello_is_refused_like_any_message_before_it()
    {
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        var metricsBefore = server.Metrics.PingCount;
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(server.Url);
        using var call = new SplitInference.SplitInferenceClient(channel).Infer();
        await call.RequestStream.WriteAsync(new ClientMessage { Ping = new Ping { Nonce = 7 } });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(ErrorCode.NotHandshaken, call.ResponseStream.Current.Welcome.Error.Code);
        Assert.Equal(metricsBefore, server.Metrics.PingCount);
    }

    [Fact]
    public async Task Concurrent_requests_from_different_clients_share_batches()
    {
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, Port = 0, MaxBatch = 4, MaxDelay = TimeSpan.FromMilliseconds(500), Threads = 1,
        });
        var frames = TinySplit.Frames(4, seed: 11);
        var clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash })));
        try
        {
            var answers = await Task.WhenAll(clients.Select((c, i) => c.InferAsync(frames[i])));
            // Four requests within the 500 ms window fill one batch of four, which closes without waiting further.
            Assert.All(answers, a => Assert.Equal(4, a.Timing.BatchSize));
            Assert.Equal(frames.Select(TinySplit.LocalTop1), answers.Select(a => a.Top1));
            var metrics = await MetricsSnapshot.FetchAsync(server.Url);
            Assert.Equal(1, metrics["cleave_batch_size_count{mode=\"split\"}"]);
            Assert.Equal(4, metrics["cleave_requests_executed_total{mode=\"split\"}"]);
            Assert.True(metrics["process_cpu_seconds_total"] > 0);
            Assert.True(metrics["cleave_bytes_received_total"] > frames.Sum(f => f.Length));
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_retried_id_is_answered_again_but_run_once_even_from_a_new_connection()
    {
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        var frame = TinySplit.Frames(1, seed: 5)[0];
        var options = new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash, ClientId = "phone-1" };

        SplitResult first, again;
        await using (var client = await SplitClient.ConnectAsync(options))
        {
            first = await client.InferAsync(frame, "req-1");
            again = await client.InferAsync(frame, "req-1");
        }
        await using var reconnected = await SplitClient.ConnectAsync(options);
        var afterReconnect = await reconnected.InferAsync(frame, "req-1");
        var otherId = await reconnected.InferAsync(frame, "req-2");

        Assert.False(first.Replayed);
        Assert.True(again.Replayed);
        Assert.True(afterReconnect.Replayed);
        Assert.False(otherId.Replayed);
        Assert.Equal(first.Top1, afterReconnect.Top1);
        Assert.Equal(2, server.Metrics.Executed(ServingModes.Split));
        Assert.Equal(2, server.Metrics.ReplayedCount);
    }

    [Fact]
    public async Task The_whole_output_tensor_comes_back_when_asked_for()
    {
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = server.Url, ManifestHash = split.ManifestHash, ReturnTensor = true, TopK = 3,
        });
        var answer = await client.InferAsync(TinySplit.Frames(1, seed: 13)[0]);
        var output = Cleave.Codecs.FeatureFrame.Decode(answer.OutputFrame!, out var shape);
        Assert.Equal([1, 10], shape.Dimensions.ToArray());
        Assert.Equal(3, answer.Top.Count);
        Assert.Equal(Cleave.Models.Preprocessing.ImageNetSample.TopK(output, 3), answer.Top.Select(t => t.ClassIndex));
        Assert.Equal(output[answer.Top1], answer.Top[0].Score);
    }

    [Fact]
    public async Task Healthz_and_metrics_answer_on_the_grpc_port()
    {
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        Assert.StartsWith("ok split", await http.GetStringAsync(new Uri(server.Url, "/healthz")));
        var text = await http.GetStringAsync(new Uri(server.Url, "/metrics"));
        Assert.Contains("# TYPE cleave_batch_size histogram", text);
        Assert.Contains("cleave_queue_depth{mode=\"split\"} 0", text);
    }

    [Fact]
    public async Task Extra_endpoints_can_be_mapped_on_the_same_host()
    {
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1,
            ConfigureEndpoints = endpoints => Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGet(endpoints, "/extra", () => "extra service"),
        });
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        Assert.Equal("extra service", await http.GetStringAsync(new Uri(server.Url, "/extra")));
    }
}
