using Cleave.Codecs;
using Cleave.Runtime.Client;
using Cleave.Runtime.Links;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

/// <summary>
/// Resilient frames over a real server (127.0.0.1, port 0): a frame with a damaged group is answered from the
/// concealed tensor, where the same damage to a plain frame is refused as malformed.
/// </summary>
public sealed class ResilientServingTests
{
    private static float[] CutValues()
    {
        var random = new Random(3);
        return [.. Enumerable.Range(0, TinySplit.CutWidth).Select(_ => (float)Math.Max(0, random.NextDouble() * 2 - 0.5))];
    }

    [Fact]
    public async Task ADamagedResilientFrameIsAnsweredWhereADamagedPlainFrameIsRefused()
    {
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        // Shape [64] (the cut without its batch dimension): 8 row groups of 8 values each.
        var values = CutValues();
        byte[] resilient = FeatureCodecs.Create("resilient:planes=1,rows=8/raw").Encode(values, new TensorShape(TinySplit.CutWidth));
        byte[] plain = FeatureCodecs.Create("raw").Encode(values, new TensorShape(TinySplit.CutWidth));
        byte[] damagedResilient = (byte[])resilient.Clone();
        damagedResilient[^20] ^= 0x08; // two flips inside the last group's payload: beyond repair, so concealed
        damagedResilient[^30] ^= 0x01;
        byte[] damagedPlain = (byte[])plain.Clone();
        damagedPlain[^20] ^= 0x08;
        damagedPlain[^30] ^= 0x01;
        ResilientFrame.Decode(damagedResilient, out var local);
        Assert.Equal([7], local.ConcealedGroups);

        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash, Retry = RetryPolicy.None });
        var answer = await client.InferAsync(damagedResilient);
        Assert.Equal(TinySplit.LocalTop1(damagedResilient), answer.Top1);
        var refused = await Assert.ThrowsAsync<SplitInferenceException>(() => client.InferAsync(damagedPlain));
        Assert.Equal(SplitErrorCode.MalformedFrame, refused.Code);
        Assert.Equal(TinySplit.LocalTop1(plain), (await client.InferAsync(plain)).Top1);
    }

    [Fact]
    public async Task TheClientsBitErrorChannelDamagesOnlyThePayloadAndResilientFramesStillGetAnswers()
    {
        var split = TinySplit.Load();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1 });
        byte[] resilient = FeatureCodecs.Create("resilient:planes=1,rows=8/raw").Encode(CutValues(), new TensorShape(TinySplit.CutWidth));
        // BER 1e-3 over a 358-byte frame: about 2.9 flips a frame, so most frames arrive damaged.
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = server.Url, ManifestHash = split.ManifestHash, Retry = RetryPolicy.None, BitErrors = new BitErrorModel(1e-3), LinkSeed = 9,
        });
        int answered = 0, refused = 0;
        for (int i = 0; i < 20; i++)
        {
            try
            {
                var result = await client.InferAsync(resilient, requestId: $"r{i}");
                Assert.Equal($"r{i}", result.RequestId); // the envelope (ids) is never damaged
                answered++;
            }
            catch (SplitInferenceException e) when (e.Code == SplitErrorCode.MalformedFrame) { refused++; } // both header copies hit
        }
        Assert.True(answered >= 15, $"answered {answered}, refused {refused}");
    }
}
