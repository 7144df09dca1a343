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
            SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, Limits = new ServerLimits { MaxOutboxMessages = 256 },
        });
        await using var good = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash });
        var frames = TinySplit.Frames(6, seed: 5);
        long before = ProcessMemory.ResidentBytes();

        await using var deaf = new RawStream(server.Url);
        await deaf.HelloAsync(split.ManifestHash, "deaf");
        Assert.NotNull((await deaf.ReadAsync())!.Welcome);
        int sent = 0;
        try
        {
            // Pongs fill the HTTP/2 windows, then the server's queue (256 replies), then the server ends the stream.
            for (; sent < MaxPings && server.Metrics.StreamsEndedCount(StatusCode.ResourceExhausted) == 0; sent++)
                await deaf.SendAsync(new ClientMessage { Ping = new Ping { Nonce = (ulong)sent } });
        }
        catch (RpcException)
        {
            // The server reset the stream while the client was still writing.
        }
        long during = ProcessMemory.ResidentBytes();
        output.WriteLine($"{sent} pings sent unread; resident before {ProcessMemory.Mib(before)}, after the stream was ended {ProcessMemory.Mib(during)}");
        Assert.True(sent < MaxPings, $"the server never ended a stream that left {sent} pongs unread");
        Assert.Equal(1, server.Metrics.StreamsEndedCount(StatusCode.ResourceExhausted));
        // The issue measured 253 MiB for 3M unread pings, growing linearly; bounded now by the queue and the windows.
        Assert.True(during - before < 64L << 20, $"resident memory grew {ProcessMemory.Mib(during - before)} for {sent} unread pings");

        // The well-behaved client on the same server still gets every answer right.
        foreach (var frame in frames) Assert.Equal(TinySplit.LocalTop1(frame), (await good.InferAsync(frame)).Top1);

        // When the deaf client finally reads, it finds the pongs that were in flight, then the typed status.
        var ended = await Assert.ThrowsAsync<RpcException>(async () => { while (await deaf.ReadAsync() is not null) { } });
        Assert.Equal(StatusCode.ResourceExhausted, ended.StatusCode);
        Assert.Contains("does not read its replies", ended.Status.Detail);
        output.WriteLine($"the deaf client then read: {ended.Status}");
    }
}
