using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Runtime.Client;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

/// <summary>A real server on a loopback port driven by real clients: no transport is mocked.</summary>
public sealed class EndToEndTests
{
    private const string Codec = "quant:bits=8,entropy=rans";

    [AssetFact(MobileNetSplit.TfLite, "imagenet-sample")]
    public async Task Split_answers_match_the_in_process_split_and_full_mode_matches_the_whole_model()
    {
        var images = MobileNetSplit.Images(4);
        var split = SplitDirectory.Load(MobileNetSplit.SplitPath);
        var codec = FeatureCodecs.Create(Codec);
        using var head = SplitHead.Load(split);
        var frames = images.Select(p => head.Encode(p, codec).Frame).ToList();

        // In process: the same frames decoded and run through the tail here.
        var expected = new List<int>();
        using (var tail = new OrtModelRunner(File.ReadAllBytes(split.TailPath)))
            foreach (var frame in frames)
            {
                var values = FeatureFrame.Decode(frame, out var shape);
                long[] dims = [.. shape.Dimensions.ToArray().Select(d => (long)d)];
                var scores = (float[])tail.Run(new Dictionary<string, HostTensor> { [MobileNetSplit.Cut] = new(OnnxElementType.Float, dims, values) })[tail.OutputNames[0]].Data;
                expected.Add(ImageNetSample.TopK(scores, 1)[0]);
            }

        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = MobileNetSplit.SplitPath, FullModelPath = MobileNetSplit.ModelPath, Port = 0, MaxBatch = 4,
        });
        Assert.Equal("127.0.0.1", server.Url.Host);
        Assert.NotEqual(0, server.Url.Port);

        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions
        {
            Server = server.Url, ManifestHash = split.ManifestHash, Codecs = [Codec],
        });
        Assert.Equal([codec.Spec], client.Welcome.AcceptedCodecs);
        // All in flight at once, so the server may batch them.
        var answers = await Task.WhenAll(frames.Select(f => client.InferAsync(f)));
        Assert.Equal(expected, answers.Select(a => a.Top1));
        Assert.All(answers, a => Assert.Equal(1, a.Attempts));
        Assert.Equal(frames.Count, server.Metrics.Executed(ServingModes.Split));

        // Full mode on the same server: the JPEG goes up, the whole model runs there.
        using var whole = new ImageModelSession(MobileNetSplit.ModelPath);
        await using var fullClient = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, Mode = ServingModes.Full });
        foreach (string image in images.Take(2))
        {
            var answer = await fullClient.InferAsync(await File.ReadAllBytesAsync(image));
            Assert.Equal(ImageNetSample.TopK(whole.Run(RgbImage.Load(image)), 1)[0], answer.Top1);
        }
    }
}
