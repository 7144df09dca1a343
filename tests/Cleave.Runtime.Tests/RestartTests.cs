using System.Collections.Concurrent;
using Cleave.Runtime.Client;
using Cleave.Runtime.Load;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

/// <summary>
/// A server stopped and a new one started on the same port while clients have requests in flight (issue 13, item 7):
/// the client reconnects with backoff and retries every unanswered request, so none is lost and none is answered twice.
/// </summary>
public sealed class RestartTests
{
    // Streams are aborted at once when the server is disposed: to its clients, a crash.
    private static SplitServerOptions Options(int port) => new() { SplitDirectory = TinySplit.SplitPath, Port = port, Threads = 1, ShutdownTimeout = TimeSpan.Zero };

    /// <summary>Stops the server and starts a new one on its port after a pause (a restart, in-process).</summary>
    private static async Task<SplitServer> RestartAsync(SplitServer server, TimeSpan pause)
    {
        int port = server.Url.Port;
        await server.DisposeAsync();
        await Task.Delay(pause);
        return await SplitServer.StartAsync(Options(port));
    }

    [Fact]
    public async Task Requests_in_flight_across_a_restart_are_all_answered_exactly_once()
    {
        var split = TinySplit.Load();
        var frames = TinySplit.Frames(8, seed: 11);
        var expected = frames.Select(TinySplit.LocalTop1).ToArray();
        var server = await SplitServer.StartAsync(Options(0));
        string firstId = server.Metrics.ServerId;
        try
        {
            await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
            {
                Server = server.Url, ManifestHash = split.ManifestHash, Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(30) },
            });
            var results = new ConcurrentDictionary<string, SplitResult>(StringComparer.Ordinal);
            int sent = 0, answered = 0, duplicates = 0;
            var warmedUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // Each of 8 workers sends one request after another (so requests are in flight when the server goes)
            // until it has 10 answers from the new server: however fast the machine, the restart falls mid-run.
            async Task Loop(int worker)
            {
                for (int fromNewServer = 0; fromNewServer < 10;)
                {
                    int n = Interlocked.Increment(ref sent);
                    var result = await client.InferAsync(frames[n % frames.Length], $"r{n}");
                    if (!results.TryAdd(result.RequestId, result)) Interlocked.Increment(ref duplicates);
                    Assert.Equal(expected[n % frames.Length], result.Top1);
                    if (result.ServerId != firstId) fromNewServer++;
                    if (Interlocked.Increment(ref answered) == 80) warmedUp.TrySetResult();
                }
            }
            var loops = Enumerable.Range(0, 8).Select(Loop).ToArray();
            await warmedUp.Task.WaitAsync(TimeSpan.FromSeconds(60));
            server = await RestartAsync(server, TimeSpan.FromMilliseconds(500));
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(sent, results.Count); // every request answered, each once
            Assert.Equal(sent, answered);
            Assert.Equal(0, duplicates);
            Assert.Equal(0, client.DuplicateAnswers);
            Assert.NotEqual(firstId, server.Metrics.ServerId);
            Assert.Contains(results.Values, r => r.ServerId == firstId);
            Assert.Contains(results.Values, r => r.ServerId == server.Metrics.ServerId);
            Assert.True(client.Reconnects >= 1, "the client reopened its stream to the new server");
            Assert.True(client.Retries >= 1, "requests in flight at the stop were retried");
        }
        finally { await server.DisposeAsync(); }
    }

    [Fact]
    public async Task A_load_test_across_a_restart_loses_nothing_and_reports_each_server_process()
    {
        var split = TinySplit.Load();
        var server = await SplitServer.StartAsync(Options(0));
        try
        {
            var run = LoadGenerator.RunAsync(new LoadOptions
            {
                Server = server.Url, Payloads = TinySplit.Frames(8, seed: 12), ManifestHash = split.ManifestHash,
                Clients = 4, Duration = TimeSpan.FromSeconds(6),
            });
            // Restart once the first process has answered something: with 4 clients of one request each in flight, 8
            // received means 4 answered (a fixed 1.5 s was not always enough at load 80+).
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (server.Metrics.RequestCount < 8 && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(50);
            server = await RestartAsync(server, TimeSpan.FromMilliseconds(500));
            var report = await run.WaitAsync(TimeSpan.FromSeconds(90));

            Assert.Equal(0, report.Lost);
            Assert.Equal(0, report.Duplicates);
            Assert.Equal(report.Sent, report.Answered);
            Assert.Equal(2, report.ServerProcesses.Count);
            Assert.Equal(server.Metrics.ServerId, report.ServerProcesses[1].ServerId);
            Assert.Equal(report.Answered, report.ServerProcesses.Sum(p => p.Answered));
            Assert.All(report.ServerProcesses, p => Assert.True(p.Answered > 0, $"{p.ServerId}: nothing answered"));
            // The stopped process counts up to its last /metrics reading (none may have come through on a loaded machine).
            Assert.True(report.ServerProcesses[1].Executed >= report.ServerProcesses[1].Answered, "the new process ran what it answered");
            Assert.NotEmpty(report.Outages);
            Assert.All(report.Outages, o => Assert.True(o.Resolved));
            Assert.InRange(report.Outages.Max(o => o.Seconds), 0.1, 30); // the 0.5 s pause at least, give or take the stop
            Assert.True(report.Reconnects >= 4, $"each of the 4 clients reconnects; {report.Reconnects}");
        }
        finally { await server.DisposeAsync(); }
    }

    [Fact]
    public async Task A_server_that_never_comes_back_fails_each_request_with_a_typed_error_after_its_deadline()
    {
        var split = TinySplit.Load();
        var server = await SplitServer.StartAsync(Options(0));
        int failedTries = 0;
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = server.Url, ManifestHash = split.ManifestHash, Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(1.5) },
            OnTryFailed = _ => Interlocked.Increment(ref failedTries),
        });
        await server.DisposeAsync();

        var started = DateTime.UtcNow;
        var failure = await Assert.ThrowsAsync<SplitInferenceException>(() => client.InferAsync(TinySplit.Frames(1, seed: 13)[0]));

        Assert.True(failure.DeadlineExceeded);
        Assert.Equal(SplitErrorCode.Unavailable, failure.Code);
        Assert.False(failure.FromServer);
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 0.5, 20);
        Assert.Equal(failedTries, client.Retries + 1); // every failed try retried but the last
        Assert.Contains("tries", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backoff_doubles_from_the_base_to_the_cap_with_full_jitter_and_honours_the_hint()
    {
        var policy = RetryPolicy.Default;
        var random = new Random(1);
        var ceilings = Enumerable.Range(1, 10).Select(retry => Enumerable.Range(0, 400).Max(_ => policy.DelayBefore(retry, 0, random).TotalMilliseconds)).ToArray();
        Assert.InRange(ceilings[0], 40, 50);    // 50 ms
        Assert.InRange(ceilings[1], 80, 100);   // 100 ms
        Assert.InRange(ceilings[9], 1600, 2000); // capped at 2 s
        Assert.True(Enumerable.Range(0, 400).Min(_ => policy.DelayBefore(5, 0, random).TotalMilliseconds) < 100, "full jitter reaches near zero");
        Assert.Equal(750, policy.DelayBefore(1, 750, random).TotalMilliseconds);
        Assert.Equal(1, RetryPolicy.None.MaxAttempts);
        Assert.Equal(1, policy.WithRetries(0).MaxAttempts);
        Assert.Equal(int.MaxValue, policy.MaxAttempts);
    }
}
