using Cleave.Codecs;
using Cleave.Runtime.Client;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests.Generation;

/// <summary>One server, one port, both services: image clients and text-generation clients side by side.</summary>
public sealed class SharedHostTests
{
    // Both models and an image: skipped with the reason shown when any of them is missing.
    [AssetFact("llm/stories260K.bin", "llm/tok512.bin", MobileNetSplit.TfLite, "imagenet-sample")]
    public async Task Split_server_also_hosts_generation_on_the_same_port()
    {
        var generation = StoriesModel.Options(2);
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = MobileNetSplit.SplitPath, Port = 0,
            ConfigureServices = services => services.AddGeneration(generation),
            ConfigureEndpoints = endpoints => endpoints.MapGeneration(),
        });

        // Text: raw split generation through the shared host equals local greedy decoding.
        using var client = new GenerationClient(server.Url);
        using var head = StoriesModel.Head(2);
        var raw = TokenStreamCodec.ForSender("raw", StoriesModel.Model.Config.Dim, () => throw new InvalidOperationException("raw needs no calibration"));
        int[] prompt = StoriesModel.Model.Tokenizer.Encode("Tim and his dog", bos: true);
        var result = await new SplitGenerator(head, StoriesModel.Model.Config, 2, raw, client).GenerateAsync(prompt, 16);
        Assert.Equal(StoriesModel.LocalGreedy(prompt, 16), result.GeneratedTokens);

        // Images: the split service on the same port still answers.
        var split = SplitDirectory.Load(MobileNetSplit.SplitPath);
        var codec = FeatureCodecs.Create("quant:bits=8,entropy=rans");
        using var imageHead = SplitHead.Load(split);
        await using var imageClient = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash, Codecs = [codec.Spec] });
        var answer = await imageClient.InferAsync(imageHead.Encode(MobileNetSplit.Images(1)[0], codec).Frame);
        Assert.InRange(answer.Top1, 0, 1000);
    }
}
