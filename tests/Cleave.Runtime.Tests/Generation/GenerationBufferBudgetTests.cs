using System.Diagnostics;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Serving;
using Grpc.Core;

namespace Cleave.Runtime.Tests.Generation;

/// <summary>`serve-lm` bounds the partly received Open/Step messages it holds across all calls, as `serve` does.</summary>
public sealed class GenerationBufferBudgetTests
{
    [StoriesFact]
    public async Task Partly_sent_opens_beyond_the_buffered_budget_are_reset_and_their_memory_freed()
    {
        const int Calls = 10;
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(2), limits: new ServerLimits { MaxBufferedRequestBytes = 4 << 20 });
        var calls = Enumerable.Range(0, Calls).Select(_ => new RawHttp2Call(server.Address, "/cleave.v1.Generation/Open")).ToList();
        try
        {
            // Each sends 2 MiB of a claimed 16 MiB Open (a resume's history may be that large; 20 MiB in all) and holds on.
            await Task.WhenAll(calls.Select(async call =>
            {
                await call.WritePrefixAsync(16 << 20);
                var chunk = new byte[64 * 1024];
                for (int sent = 0; sent < 2 << 20; sent += chunk.Length)
                    if (!await call.WriteAsync(chunk)) break;
            }));
            long held = server.BufferedRequests.UsedBytes;
            var ends = await Task.WhenAll(calls.Select(async call =>
            {
                try { return (StatusCode?)(await call.StatusAsync(TimeSpan.FromSeconds(5))).Code; }
                catch (OperationCanceledException) { return null; }
            }));
            var reset = ends.OfType<StatusCode>().ToList();
            Assert.InRange(held, 0, 4 << 20);
            Assert.True(reset.Count >= Calls / 2, $"only {reset.Count} of {Calls} over-budget calls were reset");
            Assert.All(reset, code => Assert.Equal(StatusCode.ResourceExhausted, code));
        }
        finally
        {
            foreach (var call in calls) await call.DisposeAsync();
        }
        var clock = Stopwatch.StartNew();
        while (server.BufferedRequests.UsedBytes != 0 && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
        Assert.Equal(0, server.BufferedRequests.UsedBytes);

        // The attack cost the server nothing lasting: an honest caller opens a session.
        using var client = new GenerationClient(server.Address);
        Assert.Null((await client.OpenAsync(StoriesModel.Open(2))).Error);
    }
}
