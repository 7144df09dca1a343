using System.Diagnostics;
using System.Net.Http;
using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;
using Grpc.Core;
using Xunit.Abstractions;

namespace Cleave.Runtime.Tests;

/// <summary>
/// A client that sends pings and never reads the pongs: the server's reply queue for that stream is bounded, the
/// stream is ended with RESOURCE_EXHAUSTED, and a well-behaved client on the same server keeps getting answers.
/// </summary>
public sealed class UnreadRepliesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_client_that_never_reads_is_ended_with_RESOURCE_EXHAUSTED_and_memory_stays_bounded()
    {
        const int MaxPings = 400_000;
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, Limits = new ServerLimits { MaxOutboxMessages = 256, UnreadRepliesTimeout = TimeSpan.FromSeconds(2) },
        });
        await using var good = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash });
        var frames = TinySplit.Frames(6, seed: 5);
        long before = ProcessMemory.ResidentBytes();

        await using var deaf = new RawStream(server.Url);
        await deaf.HelloAsync(split.ManifestHash, "deaf");
        Assert.NotNull((await deaf.ReadAsync())!.Welcome);
        int sent = 0;
        var clock = Stopwatch.StartNew();
        // Grpc.Net.Client surfaces the reset on the write side as the raw HttpProtocolException, on the read side as RpcException.
        var ended = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            // Pongs fill the HTTP/2 windows and the server's queue (256 replies); the server then stops reading this
            // stream, the client's writes block, and 2 s later the server resets the stream.
            for (; sent < MaxPings; sent++) await deaf.SendAsync(new ClientMessage { Ping = new Ping { Nonce = (ulong)sent } });
        });
        output.WriteLine($"writes failed after {clock.Elapsed.TotalSeconds:0.0} s and {sent} pings: {ended.Message}");
        Assert.True(ended is RpcException or HttpProtocolException, ended.ToString());
        while (server.Metrics.StreamsEndedCount(StatusCode.ResourceExhausted) == 0 && clock.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);
        long during = ProcessMemory.ResidentBytes();
        output.WriteLine($"{sent} pings sent unread; resident before {ProcessMemory.Mib(before)}, after the stream was ended {ProcessMemory.Mib(during)}");
        Assert.True(sent < MaxPings, $"the server read all {sent} pings of a client that reads no pong");
        Assert.Equal(1, server.Metrics.StreamsEndedCount(StatusCode.ResourceExhausted));
        // The issue measured 253 MiB for 3M unread pings, growing linearly; bounded now by the queue and the windows.
        Assert.True(during - before < 64L << 20, $"resident memory grew {ProcessMemory.Mib(during - before)} for {sent} unread pings");

        // The stream was reset with ENHANCE_YOUR_CALM, which gRPC reports as RESOURCE_EXHAUSTED to the client, whether
        // it notices while writing or when it reads again.
        var read = await Assert.ThrowsAsync<RpcException>(async () => { while (await deaf.ReadAsync() is not null) { } });
        output.WriteLine($"the deaf client then read: {read.Status}");
        Assert.Equal(StatusCode.ResourceExhausted, read.StatusCode);

        // The well-behaved client on the same server still gets every answer right.
        foreach (var frame in frames) Assert.Equal(TinySplit.LocalTop1(frame), (await good.InferAsync(frame)).Top1);
    }
}
