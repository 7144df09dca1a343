using Cleave.Codecs;
using Cleave.Models.Text;
using Cleave.Runtime.Generation;

namespace Cleave.Runtime.Tests.Generation;

public sealed class SplitGenerationTests
{
    private static int[] Prompt(string text) => StoriesModel.Model.Tokenizer.Encode(text, bos: true);

    private static TokenStreamCodec Raw => TokenStreamCodec.ForSender("raw", StoriesModel.Model.Config.Dim, () => throw new InvalidOperationException("raw needs no calibration"));

    [StoriesFact]
    public async Task Raw_split_generation_over_loopback_equals_local_greedy_at_every_split_layer()
    {
        int[][] prompts = [Prompt(""), Prompt("Tim and his dog")];
        var expected = prompts.Select(p => StoriesModel.LocalGreedy(p, 48)).ToArray();
        Assert.StartsWith("Once upon a time", StoriesModel.Model.Tokenizer.Decode(expected[0]), StringComparison.Ordinal);
        for (int k = 1; k < StoriesModel.Model.Config.Layers; k++)
        {
            await using var server = await GenerationServer.StartAsync(StoriesModel.Options(k));
            using var client = new GenerationClient(server.Address);
            using var head = StoriesModel.Head(k);
            for (int p = 0; p < prompts.Length; p++)
            {
                var result = await new SplitGenerator(head, StoriesModel.Model.Config, k, Raw, client).GenerateAsync(prompts[p], 48);
                Assert.Equal(expected[p], result.GeneratedTokens);
                Assert.Equal(prompts[p].Length + 47, result.TokensSent);
                Assert.Equal(48, result.Steps);
                Assert.True(result.UplinkBitsPerToken >= 64 * 32, "raw sends at least 32 bits per value");
                Assert.True(result.ServerMs > 0 && result.ClientMs > 0);
            }
            Assert.Equal(0, server.Engine.OpenSessions); // closed at the end
        }
    }

    [StoriesFact]
    public async Task Client_side_sampling_draws_what_the_server_would_draw()
    {
        using var engine = new GenerationEngine(StoriesModel.Options(2));
        var transport = new InProcessGenerationTransport(engine);
        using var head = StoriesModel.Head(2);
        int[] prompt = Prompt("Lily saw a cat");
        var sampled = new SamplingSettings(Temperature: 0.8f, TopK: 20, Seed: 5);

        var server = await new SplitGenerator(head, StoriesModel.Model.Config, 2, Raw, transport).GenerateAsync(prompt, 40, sampled);
        var client = await new SplitGenerator(head, StoriesModel.Model.Config, 2, Raw, transport).GenerateAsync(prompt, 40, sampled, clientSamples: true);
        var greedy = await new SplitGenerator(head, StoriesModel.Model.Config, 2, Raw, transport).GenerateAsync(prompt, 40, clientSamples: true);
        var otherSeed = await new SplitGenerator(head, StoriesModel.Model.Config, 2, Raw, transport).GenerateAsync(prompt, 40, sampled with { Seed = 6 });

        Assert.Equal(server.GeneratedTokens, client.GeneratedTokens);
        Assert.Equal(StoriesModel.LocalGreedy(prompt, 40), greedy.GeneratedTokens);
        Assert.NotEqual(server.GeneratedTokens, otherSeed.GeneratedTokens);
        Assert.NotEqual(greedy.GeneratedTokens, server.GeneratedTokens);
    }

    [StoriesFact]
    public async Task Token_codec_sends_under_an_eighth_of_float32_per_token_and_keeps_the_story()
    {
        var model = StoriesModel.Model;
        using var engine = new GenerationEngine(StoriesModel.Options(2));
        using var head = StoriesModel.Head(2);
        var codec = TokenStreamCodec.ForSender("tq:levels=24,clip=5", model.Config.Dim, () => TokenCodecCalibration.SelfGenerated(model, 2, tokens: 512));
        Assert.True(codec.SessionState.Length is > 0 and < 300, $"session state {codec.SessionState.Length} bytes");

        var result = await new SplitGenerator(head, model.Config, 2, codec, new InProcessGenerationTransport(engine)).GenerateAsync(Prompt(""), 100);

        Assert.True(result.UplinkBitsPerToken < 32 * 64 / 8.0, $"{result.UplinkBitsPerToken:F1} bits per token, state included");
        Assert.Equal(result.SessionStateBytes, codec.SessionState.Length);
        Assert.StartsWith("Once upon a time", model.Tokenizer.Decode(result.GeneratedTokens), StringComparison.Ordinal);
    }

    [StoriesFact]
    public async Task Thirty_two_concurrent_sessions_complete_with_correct_outputs()
    {
        string[] texts = ["", "Tim and his dog", "The sun was hot", "Lily had a red ball"];
        var prompts = texts.Select(Prompt).ToArray();
        var expected = prompts.Select(p => StoriesModel.LocalGreedy(p, 24)).ToArray();
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(2) with { Workers = 2, BatchDecode = false }); // the per-step path (BatchDecodeTests covers the batched one)
        using var client = new GenerationClient(server.Address);
        using var head = StoriesModel.Head(2);

        var outcome = await GenerationLoad.RunAsync(32, i =>
            new SplitGenerator(head, StoriesModel.Model.Config, 2, Raw, client).GenerateAsync(prompts[i % prompts.Length], 24), concurrent: true);

        for (int i = 0; i < 32; i++) Assert.Equal(expected[i % prompts.Length], outcome.Sessions[i].GeneratedTokens);
        Assert.Equal(32 * 24, outcome.GeneratedTokens);
        Assert.True(server.Engine.PeakRunningSteps >= 2, "steps of different sessions ran at the same time");
        Assert.Equal(0, server.Engine.OpenSessions);
        Assert.Equal(0, server.Engine.ReservedCacheBytes);
    }
}
