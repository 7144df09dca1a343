using Cleave.Codecs;
using Cleave.Models.Text;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Protocol;
using Google.Protobuf;

namespace Cleave.Runtime.Tests.Generation;

/// <summary>
/// Issue 13, item 2: token counts in Open and Step are checked in 64 bits against the session's positions and against
/// what the payload could hold before anything is allocated, against a real server on 127.0.0.1.
/// </summary>
public sealed class HostileHistoryTests
{
    private const int K = 2;

    /// <summary>
    /// The probe of issue 13: 683 bytes, two history chunks claiming 16,777,216 and 0xFF000004 tokens, whose sum wraps
    /// a signed 32-bit total to 4; the server then allocated [16,777,216 x 64] floats (4 GiB) before decoding a payload.
    /// </summary>
    private static OpenSessionRequest WrappingHistoryProbe()
    {
        var open = StoriesModel.Open(K);
        open.ResumeSessionId = "hostile-resume";
        byte[] frame = FeatureCodecs.Create("raw").Encode(new float[StoriesModel.Model.Config.Dim], new TensorShape(1, StoriesModel.Model.Config.Dim));
        open.History.Add(new HistoryChunk { Tokens = 16_777_216, Payload = ByteString.CopyFrom(frame) });
        open.History.Add(new HistoryChunk { Tokens = 0xFF000004, Payload = ByteString.Empty });
        int missing = 683 - open.CalculateSize();
        open.History[1].Payload = ByteString.CopyFrom(new byte[missing - 4]); // its tag and 2-byte length, and one more byte of the chunk's length
        Assert.Equal(683, open.CalculateSize());
        return open;
    }

    [StoriesFact]
    public async Task The_wrapping_history_probe_gets_a_typed_error_and_allocates_nothing_big()
    {
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K));
        using var client = new GenerationClient(server.Address);
        var warm = await client.OpenAsync(StoriesModel.Open(K)); // JIT and gRPC warm-up outside the measurement
        Assert.Null(warm.Error);

        var probe = WrappingHistoryProbe();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var refused = await client.OpenAsync(probe);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(GenerationErrorCode.SessionLimit, refused.Error?.Code);
        Assert.Contains("16777216", refused.Error!.Message);
        // Everything in this process counts (client, server, gRPC); the bug allocated 4 GiB, the bound is generous.
        Assert.True(allocated < 32L << 20, $"the refused Open allocated {allocated:N0} bytes in the process");
        Assert.True(GC.GetGCMemoryInfo().HeapSizeBytes < 1L << 30, "the heap should not hold a gigabyte after the probe");
        Assert.Equal(1, server.Engine.OpenSessions); // only the warm-up session

        // The server carries on: a well-behaved session still opens and steps.
        using var headModel = StoriesModel.Head(K);
        using var head = new KvCacheSession(headModel);
        int[] prompt = StoriesModel.Model.Tokenizer.Encode("Once upon a time", bos: true);
        var step = await client.StepAsync(StoriesModel.Step(warm.SessionId, 0, StoriesModel.RawChunk(head, prompt)));
        Assert.Null(step.Error);
        Assert.Equal(StoriesModel.LocalGreedy(prompt, 1)[0], step.Token);
    }

    [StoriesFact]
    public async Task A_history_chunk_claiming_more_tokens_than_its_payload_holds_is_a_bad_payload()
    {
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K));
        using var client = new GenerationClient(server.Address);
        using var headModel = StoriesModel.Head(K);
        using var head = new KvCacheSession(headModel);
        var chunk = StoriesModel.RawChunk(head, StoriesModel.Model.Tokenizer.Encode("Once", bos: true)); // 2 tokens
        chunk.Tokens = 200; // within the 512 positions, but the frame holds [2 x 64]
        var open = StoriesModel.Open(K);
        open.ResumeSessionId = "short-payload";
        open.History.Add(chunk);
        var refused = await client.OpenAsync(open);
        Assert.Equal(GenerationErrorCode.BadPayload, refused.Error?.Code);
        Assert.Equal(0, server.Engine.OpenSessions);
        Assert.Equal(0, server.Engine.ReservedCacheBytes);

        // The same check for the per-session tq codec: at least one bit a value.
        var calibration = head.Run(StoriesModel.Model.Tokenizer.Encode("Once upon a time there was a cat", bos: true));
        var tq = TokenStreamCodec.ForSender("tq:levels=16,clip=4", StoriesModel.Model.Config.Dim, () => calibration);
        var tqOpen = StoriesModel.Open(K, tq.Spec);
        tqOpen.CodecState = ByteString.CopyFrom(tq.SessionState);
        tqOpen.ResumeSessionId = "short-tq";
        tqOpen.History.Add(new HistoryChunk { Tokens = 100, Payload = ByteString.CopyFrom(new byte[100 * 64 / 8 - 1]) });
        Assert.Equal(GenerationErrorCode.BadPayload, (await client.OpenAsync(tqOpen)).Error?.Code);
    }

    [StoriesFact]
    public async Task Steps_with_hostile_token_counts_and_positions_get_typed_errors()
    {
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(K));
        using var client = new GenerationClient(server.Address);
        var open = await client.OpenAsync(StoriesModel.Open(K));
        Assert.Null(open.Error);
        var payload = ByteString.CopyFrom(new byte[16]);

        var huge = await client.StepAsync(new StepRequest { SessionId = open.SessionId, Tokens = uint.MaxValue, Payload = payload });
        Assert.Equal(GenerationErrorCode.SessionLimit, huge.Error?.Code);
        var wrapped = await client.StepAsync(new StepRequest { SessionId = open.SessionId, Tokens = 0x8000_0001, Payload = payload });
        Assert.Equal(GenerationErrorCode.SessionLimit, wrapped.Error?.Code);
        var far = await client.StepAsync(new StepRequest { SessionId = open.SessionId, Position = uint.MaxValue, Tokens = 1, Payload = payload });
        Assert.Equal(GenerationErrorCode.BadRequest, far.Error?.Code);
        var shortPayload = await client.StepAsync(new StepRequest { SessionId = open.SessionId, Position = 0, Tokens = 300, Payload = payload });
        Assert.Equal(GenerationErrorCode.BadPayload, shortPayload.Error?.Code);
        Assert.Equal(0, server.Engine.ReservedCacheBytes); // every refused step gave its reservation back
    }
}
