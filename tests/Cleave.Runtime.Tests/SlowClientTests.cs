using System.Diagnostics;
using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;
using Grpc.Core;
using Xunit.Abstractions;

namespace Cleave.Runtime.Tests;

/// <summary>
/// Clients that hold streams open without sending what they owe: no Hello, a message prefix whose body never comes,
/// a body trickled slowly. Each is ended with a typed status within its deadline, none pins memory, and a
/// well-behaved client on the same server keeps getting correct answers. Raw HTTP/2 against a real server on 127.0.0.1.
/// </summary>
public sealed class SlowClientTests(ITestOutputHelper output)
{
    private static readonly ClientMessage Hello = new() { Hello = new Hello { ClientId = "slow", ManifestHash = TinySplit.Load().ManifestHash, Mode = ServingModes.Split } };

    private static Task<SplitServer> Start(ServerLimits limits) => SplitServer.StartAsync(new SplitServerOptions
    {
        SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, Limits = limits,
    });

    [Fact]
    public async Task A_stream_that_never_sends_Hello_is_ended_with_DEADLINE_EXCEEDED_within_the_deadline()
    {
        await using var server = await Start(new ServerLimits { HelloTimeout = TimeSpan.FromSeconds(1) });
        var clock = Stopwatch.StartNew();
        await using var silent = new RawHttp2Call(server.Url);
        Assert.True(await silent.SendHeadersAsync());
        var (code, message) = await silent.StatusAsync(TimeSpan.FromSeconds(30));
        var took = clock.Elapsed;
        output.WriteLine($"ended after {took.TotalSeconds:0.00} s: {code} {message}");

        Assert.Equal(StatusCode.DeadlineExceeded, code);
        Assert.Contains("no Hello within 1 s", message);
        // Not before the deadline; after it by at most the check period plus a loaded machine's scheduling delays.
        Assert.InRange(took.TotalSeconds, 0.9, 15);
        Assert.Equal(1, server.Metrics.StreamsEndedCount(StatusCode.DeadlineExceeded));

        // A client that says Hello in time is not affected.
        await using var good = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = TinySplit.Load().ManifestHash });
        var frame = TinySplit.Frames(1, seed: 3)[0];
        Assert.Equal(TinySplit.LocalTop1(frame), (await good.InferAsync(frame)).Top1);
    }

    [Fact]
    public async Task Messages_larger_than_the_cut_are_refused_from_their_prefix_and_trickling_connections_pin_no_memory()
    {
        const int Connections = 50;
        await using var server = await Start(new ServerLimits());
        // The cut is [1, 64]: its largest frame is 256 bytes of float32 plus header room, far below the 16 MiB default.
        long cutLimit = server.State.Backend(ServingModes.Split).MaxPayloadBytes;
        Assert.InRange(cutLimit, 256, 8 * 1024);
        Assert.Equal(cutLimit, server.State.MaxPayloadBytes(ServingModes.Split));

        long before = ProcessMemory.ResidentBytes();
        var calls = Enumerable.Range(0, Connections).Select(_ => new RawHttp2Call(server.Url)).ToList();
        try
        {
            // Each claims a 16 MiB message and then sends its body 16 KiB at a time, up to 2 MiB each (100 MiB in
            // all), as the attack that pinned 3.4 GB with 500 connections did. Refused from the 5-byte prefix.
            var attacks = calls.Select(async call =>
            {
                Assert.True(await call.WriteMessageAsync(Hello));
                await call.WritePrefixAsync(16 << 20);
                var chunk = new byte[16 * 1024];
                for (int sent = 0; sent < 2 << 20 && !call.Answered; sent += chunk.Length)
                {
                    if (!await call.WriteAsync(chunk)) break;
                    await Task.Delay(20);
                }
                return await call.StatusAsync(TimeSpan.FromSeconds(30));
            }).ToList();
            var statuses = await Task.WhenAll(attacks);
            long during = ProcessMemory.ResidentBytes();
            output.WriteLine($"resident before {ProcessMemory.Mib(before)}, with {Connections} connections open {ProcessMemory.Mib(during)}; first status: {statuses[0]}");

            Assert.All(statuses, s => Assert.Equal(StatusCode.ResourceExhausted, s.Code));
            // Stated bound: 50 connections claiming 16 MiB each leave the process under 64 MiB above where it started.
            Assert.True(during - before < 64L << 20, $"resident memory grew {ProcessMemory.Mib(during - before)} with {Connections} trickling connections");
        }
        finally
        {
            foreach (var call in calls) await call.DisposeAsync();
        }
    }

    [AssetFact(MobileNetSplit.TfLite)]
    public async Task Partly_sent_images_beyond_the_buffered_budget_are_reset_and_their_memory_freed()
    {
        // Full mode takes 16 MiB images, so a 16 MiB prefix is accepted; what the server holds of partly received
        // messages is bounded by the budget instead (8 MiB here) across all connections.
        const int Connections = 20;
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            FullModelPath = MobileNetSplit.ModelPath, Port = 0, Threads = 1, Limits = new ServerLimits { MaxBufferedRequestBytes = 8 << 20 },
        });
        var hello = new ClientMessage { Hello = new Hello { ClientId = "slow", Mode = ServingModes.Full } };
        long before = ProcessMemory.ResidentBytes();
        var calls = Enumerable.Range(0, Connections).Select(_ => new RawHttp2Call(server.Url)).ToList();
        try
        {
            // Each sends 4 MiB of a claimed 16 MiB image (80 MiB in all) and then holds the stream open.
            var attacks = calls.Select(async call =>
            {
                Assert.True(await call.WriteMessageAsync(hello));
                await call.WritePrefixAsync(16 << 20);
                var chunk = new byte[64 * 1024];
                for (int sent = 0; sent < 4 << 20; sent += chunk.Length)
                    if (!await call.WriteAsync(chunk)) break;
                return call;
            }).ToList();
            await Task.WhenAll(attacks);
            long held = server.State.BufferedRequests.UsedBytes;
            long during = ProcessMemory.ResidentBytes();
            // The streams still within the budget stay open (their status does not come); the others were reset.
            var ends = await Task.WhenAll(calls.Select(async call =>
            {
                try { return (StatusCode?)(await call.StatusAsync(TimeSpan.FromSeconds(5))).Code; }
                catch (OperationCanceledException) { return null; }
            }));
            var reset = ends.OfType<StatusCode>().ToList();
            output.WriteLine($"held {held} bytes of partial messages; {reset.Count} streams reset; resident before {ProcessMemory.Mib(before)}, during {ProcessMemory.Mib(during)}");

            Assert.InRange(held, 0, 8 << 20);
            Assert.True(reset.Count >= Connections / 2, $"only {reset.Count} of {Connections} over-budget streams were reset");
            Assert.All(reset, code => Assert.Equal(StatusCode.ResourceExhausted, code));
            Assert.True(during - before < 64L << 20, $"resident memory grew {ProcessMemory.Mib(during - before)}");
        }
        finally
        {
            foreach (var call in calls) await call.DisposeAsync();
        }
        // Every byte is given back once the streams are gone.
        var clock = Stopwatch.StartNew();
        while (server.State.BufferedRequests.UsedBytes != 0 && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
        Assert.Equal(0, server.State.BufferedRequests.UsedBytes);
    }

    [Fact]
    public async Task A_message_trickled_slower_than_the_idle_timeout_is_ended_and_a_good_client_carries_on()
    {
        const int Connections = 20;
        await using var server = await Start(new ServerLimits { StreamIdleTimeout = TimeSpan.FromSeconds(1) });
        var split = TinySplit.Load();
        await using var good = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash });
        var frames = TinySplit.Frames(8, seed: 11);

        var calls = Enumerable.Range(0, Connections).Select(_ => new RawHttp2Call(server.Url)).ToList();
        try
        {
            var clock = Stopwatch.StartNew();
            var attacks = calls.Select(async call =>
            {
                Assert.True(await call.WriteMessageAsync(Hello));
                // A message within the cut's limit whose 2,000 bytes would take 20 s at 50 bytes per 0.5 s.
                await call.WritePrefixAsync(2000);
                var chunk = new byte[50];
                for (int sent = 0; sent < 2000 && !call.Answered; sent += chunk.Length)
                {
                    if (!await call.WriteAsync(chunk)) break;
                    await Task.Delay(500);
                }
                return await call.StatusAsync(TimeSpan.FromSeconds(30));
            }).ToList();
            // The good client, on the same server at the same time, idles less than the timeout between requests.
            foreach (var frame in frames)
            {
                Assert.Equal(TinySplit.LocalTop1(frame), (await good.InferAsync(frame)).Top1);
                await Task.Delay(200);
            }
            var statuses = await Task.WhenAll(attacks);
            output.WriteLine($"{Connections} trickling streams ended after {clock.Elapsed.TotalSeconds:0.00} s; first status: {statuses[0]}");

            Assert.All(statuses, s => Assert.Equal(StatusCode.DeadlineExceeded, s.Code));
            Assert.All(statuses, s => Assert.Contains("idle for 1 s", s.Message));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the trickling streams took {clock.Elapsed} to be ended (they would trickle for 20 s)");
            Assert.Equal(Connections, server.Metrics.StreamsEndedCount(StatusCode.DeadlineExceeded));
        }
        finally
        {
            foreach (var call in calls) await call.DisposeAsync();
        }
    }
}
