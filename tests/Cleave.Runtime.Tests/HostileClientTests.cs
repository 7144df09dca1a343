using System.Buffers.Binary;
using Cleave.Codecs;
using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;
using Grpc.Core;

namespace Cleave.Runtime.Tests;

/// <summary>
/// Clients that misbehave get a typed error or are dropped, while well-behaved clients on the same server in the same
/// run all get correct answers. Real server on 127.0.0.1 port 0, real gRPC streams.
/// </summary>
public sealed class HostileClientTests
{
    private const int MaxMessageBytes = 64 * 1024;

    [Fact]
    public async Task Hostile_clients_get_typed_errors_or_are_dropped_while_good_clients_all_succeed()
    {
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, Port = 0, MaxBatch = 8, MaxMessageBytes = MaxMessageBytes, Threads = 1,
        });

        // Good clients run for the whole test, beside every hostile one below.
        var frames = TinySplit.Frames(12, seed: 7);
        var expected = frames.Select(TinySplit.LocalTop1).ToArray();
        var good = Enumerable.Range(0, 4).Select(async c =>
        {
            await using var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash, Retry = RetryPolicy.None });
            var tops = new List<int>();
            for (int round = 0; round < 3; round++)
                foreach (var answer in await Task.WhenAll(frames.Select(f => client.InferAsync(f))))
                    tops.Add(answer.Top1);
            return tops;
        }).ToList();

        var valid = frames[0];
        var corrupted = (byte[])valid.Clone();
        corrupted[^6] ^= 0x40; // payload byte: the checksum no longer matches
        var wrongShape = FeatureCodecs.Create("raw").Encode(new float[32], new TensorShape(1, 32));
        var bigShape = (byte[])valid.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(bigShape.AsSpan(12), 100_000_000); // claims [1, 1e8]: refused before any allocation
        var huge = new byte[MaxMessageBytes + 100];
        "CLVF"u8.CopyTo(huge);

        await using (var raw = new RawStream(server.Url))
        {
            await raw.HelloAsync(split.ManifestHash);
            Assert.NotNull((await raw.ReadAsync())!.Welcome);
            var sent = new Dictionary<string, ErrorCode>
            {
                ["garbage"] = ErrorCode.MalformedFrame,
                ["corrupted"] = ErrorCode.MalformedFrame,
                ["truncated"] = ErrorCode.MalformedFrame,
                ["shape"] = ErrorCode.WrongShape,
                ["bigshape"] = ErrorCode.WrongShape,
                ["oversized"] = ErrorCode.MessageTooLarge,
                [""] = ErrorCode.InvalidRequest,
            };
            await raw.RequestAsync("garbage", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
            await raw.RequestAsync("corrupted", corrupted);
            await raw.RequestAsync("truncated", valid[..(valid.Length / 2)]);
            await raw.RequestAsync("shape", wrongShape);
            await raw.RequestAsync("bigshape", bigShape);
            await raw.RequestAsync("oversized", huge);
            await raw.RequestAsync("", valid);
            await raw.RequestAsync("fine", valid);
            var answers = new Dictionary<string, InferResponse>();
            for (int i = 0; i < sent.Count + 1; i++)
            {
                var response = (await raw.ReadAsync())!.Response;
                answers[response.RequestId] = response;
            }
            foreach (var (id, code) in sent) Assert.Equal(code, answers[id].Error?.Code);
            Assert.Null(answers["fine"].Error);
            Assert.Equal(expected[0], answers["fine"].Top[0].ClassIndex);
        }

        // A request before the handshake.
        await using (var raw = new RawStream(server.Url))
        {
            await raw.RequestAsync("early", valid);
            Assert.Equal(ErrorCode.NotHandshaken, (await raw.ReadAsync())!.Welcome.Error.Code);
            Assert.Null(await raw.ReadAsync()); // and the server ends that stream
        }

        // The wrong split: refused at the handshake.
        var mismatch = await Assert.ThrowsAsync<SplitInferenceException>(() =>
            SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = new string('0', 64) }));
        Assert.Equal(SplitErrorCode.ManifestMismatch, mismatch.Code);

        // A message far beyond the limit: gRPC drops that stream before buffering it.
        await using (var raw = new RawStream(server.Url))
        {
            await raw.HelloAsync(split.ManifestHash);
            await raw.ReadAsync();
            var dropped = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                await raw.RequestAsync("enormous", new byte[MaxMessageBytes + (2 << 20)]);
                while (await raw.ReadAsync() is not null) { }
            });
            // The server resets the stream: the client sees it while still writing (Cancelled) or when reading.
            Assert.True(dropped.StatusCode is StatusCode.ResourceExhausted or StatusCode.Cancelled, dropped.ToString());
        }

        // Clients that vanish mid-stream with requests in flight.
        for (int i = 0; i < 3; i++)
        {
            var raw = new RawStream(server.Url);
            await raw.HelloAsync(split.ManifestHash, $"vanishing-{i}");
            await raw.ReadAsync();
            foreach (var (f, n) in frames.Select((f, n) => (f, n))) await raw.RequestAsync($"v{n}", f);
            raw.Abandon();
            await raw.DisposeAsync();
        }

        foreach (var tops in await Task.WhenAll(good))
            Assert.Equal(Enumerable.Repeat(expected, 3).SelectMany(e => e), tops);
        // The server is still healthy for newcomers.
        await using var late = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash });
        Assert.Equal(expected[1], (await late.InferAsync(frames[1])).Top1);
    }
}
