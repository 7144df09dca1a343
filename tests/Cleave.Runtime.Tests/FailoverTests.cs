using System.Collections.Concurrent;
using Cleave.Runtime.Client;
using Cleave.Runtime.Load;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

/// <summary>
/// A client given several servers (issue 14, item 1): when the one it uses dies, it opens a stream to the next and
/// re-sends every unanswered request there under the same idempotency id, so none is lost and none answered twice.
/// </summary>
public sealed class FailoverTests
{
    // Streams are aborted at once when the server is disposed: to its clients, a crash.
    private static SplitServerOptions Options() => new() { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, ShutdownTimeout = TimeSpan.Zero };

    [Fact]
    public async Task Requests_in_flight_when_the_first_server_dies_are_all_answered_exactly_once_by_the_second()
    {
        var split = TinySplit.Load();
        var frames = TinySplit.Frames(8, seed: 21);
        var expected = frames.Select(TinySplit.LocalTop1).ToArray();
        var first = await SplitServer.StartAsync(Options());
        await using var second = await SplitServer.StartAsync(Options());
        string firstId = first.Metrics.ServerId, secondId = second.Metrics.ServerId;
        bool firstDown = false;
        try
        {
            await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
            {
                Servers = [first.Url, second.Url], ManifestHash = split.ManifestHash,
                Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(30) },
            });
            Assert.Equal(first.Url, client.CurrentServer);
            var results = new ConcurrentDictionary<string, SplitResult>(StringComparer.Ordinal);
            int sent = 0, answered = 0, duplicates = 0;
            var warmedUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // Each of 8 workers sends one request after another until it has 10 answers from the second server:
            // however fast the machine, the first server dies with requests in flight.
            async Task Loop(int worker)
            {
                for (int fromSecond = 0; fromSecond < 10;)
                {
                    int n = Interlocked.Increment(ref sent);
                    var result = await client.InferAsync(frames[n % frames.Length], $"r{n}");
                    if (!results.TryAdd(result.RequestId, result)) Interlocked.Increment(ref duplicates);
                    Assert.Equal(expected[n % frames.Length], result.Top1);
                    if (result.ServerId == secondId) fromSecond++;
                    if (Interlocked.Increment(ref answered) == 80) warmedUp.TrySetResult();
                }
            }
            var loops = Enumerable.Range(0, 8).Select(Loop).ToArray();
            await warmedUp.Task.WaitAsync(TimeSpan.FromSeconds(60));
            firstDown = true;
            await first.DisposeAsync();
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(sent, results.Count); // every request answered, each once
            Assert.Equal(sent, answered);
            Assert.Equal(0, duplicates);
            Assert.Equal(0, client.DuplicateAnswers);
            Assert.All(results.Values, r => Assert.Contains(r.ServerId, new[] { firstId, secondId }));
            Assert.Contains(results.Values, r => r.ServerId == firstId);
            Assert.Equal(second.Url, client.CurrentServer);
            Assert.True(client.Failovers >= 1, "the client moved to the second address");
            Assert.True(client.Retries >= 1, "requests in flight when the first server died were re-sent");
            // Re-sent under their ids: a request that was tried more than once kept its id and was answered by the second.
            Assert.All(results.Values.Where(r => r.Attempts > 1), r => Assert.Equal(secondId, r.ServerId));
        }
        finally
        {
            if (!firstDown) await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_dead_first_address_costs_the_first_connect_no_backoff_round()
    {
        var split = TinySplit.Load();
        var dead = await SplitServer.StartAsync(Options());
        Uri deadUrl = dead.Url;
        await dead.DisposeAsync(); // nothing listens there now: connections are refused
        await using var live = await SplitServer.StartAsync(Options());

        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
        {
            Servers = [deadUrl, live.Url], ManifestHash = split.ManifestHash,
            Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(20) },
        });
        var result = await client.InferAsync(TinySplit.Frames(1, seed: 22)[0]);

        Assert.Equal(live.Metrics.ServerId, result.ServerId);
        Assert.Equal(live.Url, client.CurrentServer);
        Assert.Equal(1, client.Failovers);
        Assert.Equal(0, client.Retries);
    }

    [Fact]
    public async Task Every_address_dead_fails_the_connect_with_a_typed_error_naming_them_all()
    {
        var dead = await SplitServer.StartAsync(Options());
        Uri a = dead.Url;
        await dead.DisposeAsync();
        var failure = await Assert.ThrowsAsync<SplitInferenceException>(() => SplitClient.ConnectAsync(new SplitClientOptions
        {
            Servers = [a, new Uri($"http://127.0.0.1:{a.Port}/")], ManifestHash = TinySplit.Load().ManifestHash,
            Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(1) },
        }));

        Assert.True(failure.ServerUnreachable);
        Assert.Equal(SplitErrorCode.Unavailable, failure.Code);
        Assert.Contains(a.ToString().TrimEnd('/'), failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_failed_over_returns_to_its_first_server_once_that_answers_again()
    {
        var split = TinySplit.Load();
        var frame = TinySplit.Frames(1, seed: 23)[0];
        int expected = TinySplit.LocalTop1(frame);
        var first = await SplitServer.StartAsync(Options());
        Uri firstUrl = first.Url;
        await using var second = await SplitServer.StartAsync(Options());
        SplitServer? restarted = null;
        try
        {
            await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
            {
                Servers = [firstUrl, second.Url], ManifestHash = split.ManifestHash, FailBackAfter = TimeSpan.FromMilliseconds(300),
                Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(30) },
            });
            Assert.Equal(first.Metrics.ServerId, (await client.InferAsync(frame)).ServerId);
            await first.DisposeAsync();
            Assert.Equal(second.Metrics.ServerId, (await client.InferAsync(frame)).ServerId);
            // While the first is down the probes fail (connection refused) and the client stays where it is.
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal(second.Metrics.ServerId, (await client.InferAsync(frame)).ServerId);
                await Task.Delay(100);
            }
            Assert.Equal(0, client.FailBacks);

            restarted = await SplitServer.StartAsync(Options() with { Port = firstUrl.Port });
            var clock = System.Diagnostics.Stopwatch.StartNew();
            SplitResult result;
            do
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the client did not return to the restarted first server within 30 s");
                result = await client.InferAsync(frame);
                Assert.Equal(expected, result.Top1);
                await Task.Delay(50);
            }
            while (result.ServerId != restarted.Metrics.ServerId);
            Assert.Equal(1, client.FailBacks);
            Assert.Equal(firstUrl, client.CurrentServer);
            Assert.Equal(0, client.DuplicateAnswers);
        }
        finally
        {
            if (restarted is not null) await restarted.DisposeAsync();
        }
    }

    [Fact]
    public void The_address_list_moves_round_robin_and_reports_a_full_round_of_failures()
    {
        var list = new ServerAddressList([new Uri("http://a:1"), new Uri("http://b:1"), new Uri("http://c:1")]);
        Assert.Equal("a", list.Current.Host);
        Assert.False(list.Failed());
        Assert.Equal("b", list.Current.Host);
        list.Succeeded(); // b connected: its later failure starts a new round
        Assert.False(list.Failed());
        Assert.False(list.Failed());
        Assert.True(list.Failed()); // c, a, b all failed in a row
        Assert.Equal("b", list.Current.Host);
        Assert.False(list.Failed()); // the next round starts over
        Assert.False(list.OnPreferred);
        list.ReturnToPreferred();
        Assert.True(list.OnPreferred);
        list.MoveOn(); // overloaded: the next one, without counting a failed round
        Assert.Equal("b", list.Current.Host);
        Assert.Throws<ArgumentException>(() => new ServerAddressList([]));
        Assert.Throws<InvalidOperationException>(() => new SplitClientOptions().Server);
    }

    [Fact]
    public async Task A_load_test_with_two_servers_loses_nothing_when_the_first_dies_and_reports_both_processes()
    {
        var split = TinySplit.Load();
        var first = await SplitServer.StartAsync(Options());
        await using var second = await SplitServer.StartAsync(Options());
        bool firstDown = false;
        try
        {
            var run = LoadGenerator.RunAsync(new LoadOptions
            {
                Server = first.Url, FailoverServers = [second.Url], Payloads = TinySplit.Frames(8, seed: 23), ManifestHash = split.ManifestHash,
                Clients = 4, Duration = TimeSpan.FromSeconds(3),
            });
            await Task.Delay(TimeSpan.FromSeconds(1.2));
            firstDown = true;
            await first.DisposeAsync();
            var report = await run.WaitAsync(TimeSpan.FromSeconds(90));

            Assert.Equal(0, report.Lost);
            Assert.Equal(0, report.Duplicates);
            Assert.Equal(report.Sent, report.Answered);
            Assert.Contains(report.ServerProcesses, p => p.ServerId == second.Metrics.ServerId && p.Answered > 0);
            Assert.Equal(report.Answered, report.LatencyWindows.Sum(w => w.Answered));
            Assert.All(report.LatencyWindows, w => Assert.InRange(w.P50Ms, 0, w.P99Ms));
            // Clients start at server i mod 2: the two that began on the first one reopened their streams on the second.
            Assert.True(report.Reconnects >= 2, $"each of the 2 clients on the first server reopened its stream on the second; {report.Reconnects}");
            Assert.Contains(report.ServerProcesses, p => p.ServerId == first.Metrics.ServerId && p.Answered > 0);
        }
        finally
        {
            if (!firstDown) await first.DisposeAsync();
        }
    }
}
