using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;
using Cleave.Runtime.Serving.Security;
using Google.Protobuf;
using Grpc.Core;

namespace Cleave.Runtime.Tests.Security;

/// <summary>
/// The four idempotency holes of issue 13, each against a real loopback server: an answer is replayed only to the
/// same caller for the same request (same payload and options); anything else is IDEMPOTENCY_MISMATCH or a fresh run.
/// </summary>
public sealed class IdempotencyHoleTests
{
    private static readonly Lazy<(byte[] A, byte[] B)> Pair = new(() =>
    {
        // Two frames with different answers, so a wrong replay would show.
        var frames = TinySplit.Frames(16, seed: 21);
        var a = frames[0];
        return (a, frames.First(f => TinySplit.LocalTop1(f) != TinySplit.LocalTop1(a)));
    });

    private static async Task<InferResponse> Ask(RawStream stream, string id, byte[] payload)
    {
        await stream.RequestAsync(id, payload);
        var message = await stream.ReadAsync();
        Assert.NotNull(message?.Response);
        return message!.Response;
    }

    private static async Task<RawStream> Open(Uri server, string clientId, string? apiKey = null)
    {
        var stream = new RawStream(server, apiKey is null ? null : new Metadata { { "x-api-key", apiKey } });
        await stream.HelloAsync(TinySplit.Load().ManifestHash, clientId);
        Assert.Null((await stream.ReadAsync())!.Welcome.Error);
        return stream;
    }

    [Fact]
    public async Task A_retry_with_another_payload_or_a_corrected_frame_never_gets_the_old_answer()
    {
        var (a, b) = Pair.Value;
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        await using var stream = await Open(server.Url, "client-1");

        var first = await Ask(stream, "r1", a);
        Assert.Equal(TinySplit.LocalTop1(a), first.Top[0].ClassIndex);
        // Hole 1: same id, different payload: a typed refusal, not a's answer.
        var changed = await Ask(stream, "r1", b);
        Assert.Equal(ErrorCode.IdempotencyMismatch, changed.Error?.Code);
        Assert.Empty(changed.Top);
        // The true retry is still a replay.
        var retry = await Ask(stream, "r1", a);
        Assert.True(retry.Replayed);
        Assert.Equal(first.Top[0].ClassIndex, retry.Top[0].ClassIndex);

        // Hole 4: a corrupted frame's error is not replayed to the corrected retry.
        var corrupted = (byte[])a.Clone();
        corrupted[^6] ^= 0x40;
        Assert.Equal(ErrorCode.MalformedFrame, (await Ask(stream, "r2", corrupted)).Error?.Code);
        var corrected = await Ask(stream, "r2", a);
        Assert.Null(corrected.Error);
        Assert.False(corrected.Replayed);
        Assert.Equal(TinySplit.LocalTop1(a), corrected.Top[0].ClassIndex);
        Assert.Equal(1, server.Metrics.ErrorCount(SplitErrorCode.IdempotencyMismatch));
    }

    [Fact]
    public async Task Another_connection_claiming_a_client_id_can_neither_read_nor_poison_its_answers()
    {
        var (a, b) = Pair.Value;
        string keyFile = Path.Combine(Path.GetTempPath(), $"cleave-keys-{Guid.NewGuid():N}");
        try
        {
            string alice = ApiKeyFile.Add(keyFile, "alice"), mallory = ApiKeyFile.Add(keyFile, "mallory");
            await using var server = await SplitServer.StartAsync(new SplitServerOptions
            {
                SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, Security = new ServerSecurityOptions { ApiKeyFile = keyFile },
            });
            await using var victim = await Open(server.Url, "alice-phone", alice);
            await using var thief = await Open(server.Url, "alice-phone", mallory);

            // Hole 2: Mallory claims Alice's client id and request id: her request runs as her own, on her own payload.
            var aliceAnswer = await Ask(victim, "7", a);
            var stolen = await Ask(thief, "7", b);
            Assert.False(stolen.Replayed);
            Assert.Equal(TinySplit.LocalTop1(b), stolen.Top[0].ClassIndex);
            Assert.Equal(TinySplit.LocalTop1(a), aliceAnswer.Top[0].ClassIndex);

            // Hole 3: Mallory plants an answer under an id Alice will use next; Alice still gets the answer to her payload.
            Assert.Null((await Ask(thief, "8", b)).Error);
            var planted = await Ask(victim, "8", a);
            Assert.False(planted.Replayed);
            Assert.Equal(TinySplit.LocalTop1(a), planted.Top[0].ClassIndex);
        }
        finally { File.Delete(keyFile); }
    }

    [Fact]
    public async Task Without_authentication_a_planted_request_is_refused_as_a_mismatch_not_replayed()
    {
        var (a, b) = Pair.Value;
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        await using var thief = await Open(server.Url, "bob-laptop");
        Assert.Null((await Ask(thief, "1", b)).Error);
        await using var victim = await Open(server.Url, "bob-laptop");
        // Same address, same ids: the server cannot tell them apart, but it will not hand b's answer to a.
        Assert.Equal(ErrorCode.IdempotencyMismatch, (await Ask(victim, "1", a)).Error?.Code);
    }

    [Fact]
    public void The_fingerprint_covers_payload_mode_and_the_options_that_change_the_answer()
    {
        var request = new InferRequest { RequestId = "1", Payload = ByteString.CopyFrom(1, 2, 3), TopK = 5 };
        var same = RequestFingerprint.Of("split", request.Clone());
        Assert.Equal(same, RequestFingerprint.Of("split", request));
        Assert.NotEqual(same, RequestFingerprint.Of("full", request));
        Assert.NotEqual(same, RequestFingerprint.Of("split", new InferRequest(request) { TopK = 6 }));
        Assert.NotEqual(same, RequestFingerprint.Of("split", new InferRequest(request) { ReturnTensor = true }));
        Assert.NotEqual(same, RequestFingerprint.Of("split", new InferRequest(request) { Payload = ByteString.CopyFrom(1, 2, 4) }));
        Assert.Equal(same, RequestFingerprint.Of("split", new InferRequest(request) { RequestId = "other" }));
    }
}
