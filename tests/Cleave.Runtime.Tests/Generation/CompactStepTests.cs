using Cleave.Codecs;
using Cleave.Models.Text;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Protocol;
using Google.Protobuf;

namespace Cleave.Runtime.Tests.Generation;

/// <summary>Compact one-token steps (<see cref="CompactStep"/>): the layout, the handshake, and hostile packed steps.</summary>
public sealed class CompactStepTests
{
    private const int K = 2;

    [Theory]
    [InlineData(1u, 0u, 1)]
    [InlineData(0xDEADBEEFu, 127u, 1)]
    [InlineData(7u, 128u, 2)]
    [InlineData(7u, 511u, 2)]
    [InlineData(uint.MaxValue, uint.MaxValue, 5)]
    public void Packed_steps_round_trip_with_a_varint_position(uint handle, uint position, int positionBytes)
    {
        byte[] payload = [1, 2, 3];
        byte[] packed = CompactStep.Pack(handle, position, payload);
        Assert.Equal(CompactStep.HandleBytes + positionBytes + payload.Length, packed.Length);
        Assert.True(CompactStep.TryUnpack(packed, out uint h, out uint p, out int offset, out string? error), error);
        Assert.Equal((handle, position), (h, p));
        Assert.Equal(payload, packed[offset..]);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 0, 0, 0 })]                         // no payload
    [InlineData(new byte[] { 1, 0, 0 })]                                // shorter than a handle
    [InlineData(new byte[] { 0, 0, 0, 0, 5, 9 })]                       // handle 0
    [InlineData(new byte[] { 1, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 9 })] // 6-byte varint
    [InlineData(new byte[] { 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 9 })]      // beyond 32 bits
    [InlineData(new byte[] { 1, 0, 0, 0, 0x80, 0x80 })]                 // varint runs into the end
    public void Malformed_packed_steps_are_refused(byte[] packed) =>
        Assert.False(CompactStep.TryUnpack(packed, out _, out _, out _, out _));

    [StoriesFact]
    public async Task Compact_steps_generate_the_same_tokens_with_eight_bytes_around_each_payload()
    {
        var model = StoriesModel.Model;
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K));
        using var client = new GenerationClient(server.Address);
        using var head = StoriesModel.Head(K);
        var codec = TokenStreamCodec.ForSender("tq:levels=16,clip=4", model.Config.Dim, () => TokenCodecCalibration.SelfGenerated(model, K, tokens: 512));
        int[] prompt = model.Tokenizer.Encode("Tim and his dog", bos: true);

        var full = await new SplitGenerator(head, model.Config, K, codec, client) { CompactSteps = false }.GenerateAsync(prompt, 40);
        var compact = await new SplitGenerator(head, model.Config, K, codec, client).GenerateAsync(prompt, 40);

        Assert.False(full.CompactSteps);
        Assert.True(compact.CompactSteps);
        Assert.Equal(full.GeneratedTokens, compact.GeneratedTokens);
        Assert.Equal(full.UplinkPayloadBytes, compact.UplinkPayloadBytes);
        // One prefill step in the full form, then one-token steps: at most 8 bytes around each payload (tag, length,
        // handle, position < 16384), where the full form spends 20 or more (18 at position 0, which proto3 leaves out).
        int oneTokenSteps = compact.Steps - 1;
        long fullEnvelope = full.UplinkMessageBytes - full.UplinkPayloadBytes;
        long compactEnvelope = compact.UplinkMessageBytes - compact.UplinkPayloadBytes;
        Assert.True(compactEnvelope <= fullEnvelope / full.Steps + 8L * oneTokenSteps, $"compact envelope {compactEnvelope} B over {oneTokenSteps} one-token steps");
        Assert.True(fullEnvelope >= 20L * (full.Steps - 1), $"full envelope {fullEnvelope} B over {full.Steps} steps");
        Assert.True(compact.UplinkMessageBytes <= full.UplinkMessageBytes - 12L * oneTokenSteps,
            $"{compact.UplinkMessageBitsPerToken:F1} vs {full.UplinkMessageBitsPerToken:F1} bits per token");
    }

    [StoriesFact]
    public async Task Hostile_packed_steps_get_typed_errors_and_hold_nothing()
    {
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K));
        using var client = new GenerationClient(server.Address);
        var old = await client.OpenAsync(StoriesModel.Open(K));
        Assert.Equal(0u, old.StepHandle); // a client that did not ask gets no handle
        var request = StoriesModel.Open(K);
        request.CompactSteps = true;
        var open = await client.OpenAsync(request);
        Assert.Null(open.Error);
        Assert.NotEqual(0u, open.StepHandle);

        using var headModel = StoriesModel.Head(K);
        using var head = new KvCacheSession(headModel);
        var chunk = StoriesModel.RawChunk(head, [1]);
        ByteString Packed(uint handle, uint position) => ByteString.CopyFrom(CompactStep.Pack(handle, position, chunk.Payload.Span));

        var withId = await client.StepAsync(new StepRequest { SessionId = open.SessionId, Packed = Packed(open.StepHandle, 0) });
        Assert.Equal(GenerationErrorCode.BadRequest, withId.Error?.Code);
        var truncated = await client.StepAsync(new StepRequest { Packed = ByteString.CopyFrom(Packed(open.StepHandle, 0).Span[..5]) });
        Assert.Equal(GenerationErrorCode.BadRequest, truncated.Error?.Code);
        var unknown = await client.StepAsync(new StepRequest { Packed = Packed(open.StepHandle ^ 0x5A5A5A5A, 0) });
        Assert.Equal(GenerationErrorCode.SessionNotFound, unknown.Error?.Code);
        var wrongPosition = await client.StepAsync(new StepRequest { Packed = Packed(open.StepHandle, 3) });
        Assert.Equal(GenerationErrorCode.BadRequest, wrongPosition.Error?.Code);
        var badPayload = await client.StepAsync(new StepRequest { Packed = ByteString.CopyFrom(CompactStep.Pack(open.StepHandle, 0, [1, 2, 3])) });
        Assert.Equal(GenerationErrorCode.BadPayload, badPayload.Error?.Code);

        var good = await client.StepAsync(new StepRequest { Packed = Packed(open.StepHandle, 0) });
        Assert.Null(good.Error);
        Assert.True((await client.CloseAsync(new CloseSessionRequest { SessionId = open.SessionId })).Closed);
        var closed = await client.StepAsync(new StepRequest { Packed = Packed(open.StepHandle, 1) });
        Assert.Equal(GenerationErrorCode.SessionNotFound, closed.Error?.Code);
        Assert.Equal(0, server.Engine.ReservedCacheBytes); // refused steps gave their reservations back, the closed session its cache
    }

    [StoriesFact]
    public async Task An_evicted_sessions_handle_answers_evicted_and_a_resume_grants_a_new_one()
    {
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K) with { MaxSessions = 1 });
        using var client = new GenerationClient(server.Address);
        var request = StoriesModel.Open(K);
        request.CompactSteps = true;
        var first = await client.OpenAsync(request);
        using var headModel = StoriesModel.Head(K);
        using var head = new KvCacheSession(headModel);
        var chunk = StoriesModel.RawChunk(head, [1]);
        Assert.Null((await client.StepAsync(new StepRequest { Packed = ByteString.CopyFrom(CompactStep.Pack(first.StepHandle, 0, chunk.Payload.Span)) })).Error);

        Assert.Null((await client.OpenAsync(request)).Error); // evicts the first (idle) session
        var next = StoriesModel.RawChunk(head, [400]);
        var evicted = await client.StepAsync(new StepRequest { Packed = ByteString.CopyFrom(CompactStep.Pack(first.StepHandle, 1, next.Payload.Span)) });
        Assert.Equal(GenerationErrorCode.SessionEvicted, evicted.Error?.Code);

        var resume = request.Clone();
        resume.ResumeSessionId = first.SessionId;
        resume.History.Add(chunk);
        var resumed = await client.OpenAsync(resume);
        Assert.Null(resumed.Error);
        Assert.NotEqual(0u, resumed.StepHandle);
        var after = await client.StepAsync(new StepRequest { Packed = ByteString.CopyFrom(CompactStep.Pack(resumed.StepHandle, 1, next.Payload.Span)) });
        Assert.Null(after.Error);
    }
}
