using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

/// <summary>One server hosting two cuts of a model at once (what `cleave serve --plan` does): the Hello's manifest hash picks the cut.</summary>
public sealed class MultiSplitServingTests
{
    private const string DeeperCut = "r1";
    private const int DeeperWidth = 256;

    /// <summary>A second split folder: the tiny model's tail cut again after its first layer (cut r1, [N,256]).</summary>
    private static string DeeperSplit()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"cleave-runtime-tiny-r1-{Environment.ProcessId}");
        var tail = OnnxModel.Load(Path.Combine(TinySplit.SplitPath, "tail.onnx"));
        ModelSplitter.Split(tail, [DeeperCut], sourceName: "tiny-tail.onnx").Save(folder);
        return folder;
    }

    [Fact]
    public async Task Each_client_reaches_the_cut_its_manifest_names_and_an_unknown_manifest_is_refused()
    {
        string deeper = DeeperSplit();
        try
        {
            var first = TinySplit.Load();
            var second = SplitDirectory.Load(deeper);
            Assert.NotEqual(first.ManifestHash, second.ManifestHash);
            await using var server = await SplitServer.StartAsync(new SplitServerOptions
            {
                SplitDirectory = TinySplit.SplitPath, MoreSplitDirectories = [deeper], Port = 0, MaxBatch = 1, Threads = 1,
            });

            await using var shallow = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = first.ManifestHash });
            var frame = TinySplit.Frames(1, seed: 3)[0];
            Assert.Equal(TinySplit.LocalTop1(frame), (await shallow.InferAsync(frame)).Top1);

            var codec = FeatureCodecs.Create("quant:bits=8,entropy=rans");
            await using var deep = await SplitClient.ConnectAsync(new SplitClientOptions
            {
                Server = server.Url, ManifestHash = second.ManifestHash, Codecs = [codec.Spec],
            });
            Assert.Equal(second.ManifestHash, deep.Welcome.ManifestHash);
            Assert.Equal([codec.Spec], deep.Welcome.AcceptedCodecs);
            var values = new float[DeeperWidth];
            for (int i = 0; i < values.Length; i++) values[i] = i % 7 * 0.1f;
            var answer = await deep.InferAsync(codec.Encode(values, new TensorShape(1, DeeperWidth)));
            Assert.InRange(answer.Top1, 0, 9);
            // The shallow cut's frame is the wrong tensor for the deep cut's tail.
            var wrong = await Assert.ThrowsAsync<SplitInferenceException>(() => deep.InferAsync(frame));
            Assert.Equal(SplitErrorCode.WrongShape, wrong.Code);

            var refused = await Assert.ThrowsAsync<SplitInferenceException>(() =>
                SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = "not-a-hosted-split" }));
            Assert.Equal(SplitErrorCode.ManifestMismatch, refused.Code);
        }
        finally
        {
            Directory.Delete(deeper, recursive: true);
        }
    }

    [Fact]
    public void The_same_split_twice_is_rejected()
    {
        var state = Assert.Throws<ArgumentException>(() => new ServingState(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, MoreSplitDirectories = [TinySplit.SplitPath], Port = 0,
        }));
        Assert.Contains("already served", state.Message);
    }
}
