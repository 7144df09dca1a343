using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

/// <summary>
/// The first connect of <see cref="SplitClient"/> retries like a reconnect: a client started while its server is
/// briefly down waits for it; a server that never appears ends in one typed "cannot reach" error at the deadline, or
/// after the short <see cref="SplitClientOptions.FirstConnectGrace"/> when nothing listens there at all.
/// </summary>
public sealed class FirstConnectTests
{
    /// <summary>A loopback port nothing listens on (the OS chose it free a moment ago).</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task A_client_started_before_its_server_connects_once_the_server_is_up()
    {
        int port = FreePort();
        var split = TinySplit.Load();
        var connecting = SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = new Uri($"http://127.0.0.1:{port}"), ManifestHash = split.ManifestHash,
            Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(30), MaxDelay = TimeSpan.FromMilliseconds(200) },
            FirstConnectGrace = TimeSpan.FromSeconds(30), // waiting for a server still starting is asked for
        });
        await Task.Delay(TimeSpan.FromMilliseconds(700));
        Assert.False(connecting.IsCompleted, "no server yet: the first connect must still be retrying");
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = port, Threads = 1 });
        await using var client = await connecting.WaitAsync(TimeSpan.FromSeconds(30));
        var frame = TinySplit.Frames(1, seed: 11)[0];
        Assert.Equal(TinySplit.LocalTop1(frame), (await client.InferAsync(frame)).Top1);
    }

    [Fact]
    public async Task A_server_that_never_appears_gives_one_typed_error_at_the_deadline()
    {
        int port = FreePort();
        var deadline = TimeSpan.FromMilliseconds(800);
        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<SplitInferenceException>(() => SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = new Uri($"http://127.0.0.1:{port}"), ManifestHash = TinySplit.Load().ManifestHash,
            Retry = RetryPolicy.Default with { Deadline = deadline },
        }));
        Assert.True(watch.Elapsed >= deadline, $"gave up after {watch.Elapsed.TotalMilliseconds:F0} ms, before the {deadline.TotalMilliseconds} ms deadline");
        Assert.Equal(SplitErrorCode.Unavailable, e.Code);
        Assert.True(e.ServerUnreachable);
        Assert.True(e.DeadlineExceeded);
        Assert.Equal($"cannot reach http://127.0.0.1:{port}: connection refused", e.Message);

        // RetryPolicy.None: one try, no waiting.
        e = await Assert.ThrowsAsync<SplitInferenceException>(() => SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = new Uri($"http://127.0.0.1:{port}"), ManifestHash = TinySplit.Load().ManifestHash, Retry = RetryPolicy.None,
        }));
        Assert.True(e.ServerUnreachable);
        Assert.False(e.DeadlineExceeded);
    }

    [Fact]
    public async Task A_refused_first_connect_fails_after_the_grace_not_the_retry_deadline()
    {
        int port = FreePort();
        var grace = TimeSpan.FromMilliseconds(500);
        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<SplitInferenceException>(() => SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = new Uri($"http://127.0.0.1:{port}"), ManifestHash = TinySplit.Load().ManifestHash,
            Retry = RetryPolicy.Default, // 60 s: what the CLI's client and loadtest use
            FirstConnectGrace = grace,
        }));
        Assert.True(watch.Elapsed >= grace, $"gave up after {watch.Elapsed.TotalMilliseconds:F0} ms, inside the grace");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed.TotalSeconds:F1} s: the 60 s retry deadline decided");
        Assert.True(e.ServerUnreachable);
        Assert.Equal($"cannot reach http://127.0.0.1:{port}: connection refused", e.Message);
    }

    [Fact]
    public async Task A_server_that_was_reached_and_went_away_is_still_waited_for()
    {
        var split = TinySplit.Load();
        var first = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        int port = first.Url.Port;
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = first.Url, ManifestHash = split.ManifestHash, FirstConnectGrace = TimeSpan.FromMilliseconds(100),
            Retry = RetryPolicy.Default with { Deadline = TimeSpan.FromSeconds(30), MaxDelay = TimeSpan.FromMilliseconds(200) },
        });
        var frames = TinySplit.Frames(2, seed: 12);
        Assert.Equal(TinySplit.LocalTop1(frames[0]), (await client.InferAsync(frames[0])).Top1);
        await first.DisposeAsync();
        // Refused for longer than the first-connect grace: a reconnect keeps the retry deadline.
        var answer = client.InferAsync(frames[1]);
        await Task.Delay(TimeSpan.FromMilliseconds(800));
        Assert.False(answer.IsCompleted, "the server is down: the request must still be retrying");
        await using var second = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = port, Threads = 1 });
        Assert.Equal(TinySplit.LocalTop1(frames[1]), (await answer.WaitAsync(TimeSpan.FromSeconds(30))).Top1);
    }
}
