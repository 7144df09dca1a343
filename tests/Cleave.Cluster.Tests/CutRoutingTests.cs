using Cleave.Cluster.FrontEnd;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Cleave.Runtime;
using Cleave.Runtime.Client;
using ErrorCode = Cleave.Runtime.Protocol.ErrorCode;
using Cleave.Runtime.Serving;
using Cleave.Runtime.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace Cleave.Cluster.Tests;

/// <summary>Two silos serving different cuts: a client that asks a silo for the other's cut is sent there; an unknown cut is refused.</summary>
public sealed class CutRoutingTests
{
    /// <summary>A second split folder: the tiny model's tail cut again after its first layer (another manifest hash).</summary>
    internal static string DeeperSplit()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"cleave-cluster-tiny-r1-{Environment.ProcessId}");
        if (!File.Exists(Path.Combine(folder, "split.json")))
            ModelSplitter.Split(OnnxModel.Load(Path.Combine(TinySplit.SplitPath, "tail.onnx")), ["r1"], sourceName: "tiny-tail.onnx").Save(folder);
        return folder;
    }

    [Fact]
    public async Task A_silo_without_the_cut_sends_the_client_to_one_with_it_and_a_cut_nobody_serves_is_refused()
    {
        string[] folders = [TinySplit.SplitPath, DeeperSplit()];
        await using var cluster = await ClusterFixture.StartAsync(2, index => new FrontEndOptions
        {
            Port = 0, Classification = new SplitServerOptions { SplitDirectory = folders[index], Port = 0, MaxBatch = 1, Threads = 1 },
        }, generation: null);
        await ClusterFixture.WaitForRegistryAsync(cluster);
        string shallowHash = TinySplit.Load().ManifestHash, deepHash = SplitDirectory.Load(folders[1]).ManifestHash;
        // Which silo got which folder depends on the order the test cluster builds them: ask each silo.
        Uri Serving(string folder) => ClusterFixture.FrontEnd(cluster.Silos.Single(s =>
            s.ServiceProvider.GetRequiredService<SiloFrontEnd>().SplitServer!.State.Options.SplitDirectory == folder));
        Uri first = Serving(folders[0]), second = Serving(folders[1]);

        // The bare handshake: the first silo names the second.
        await using (var raw = new RawStream(first))
        {
            await raw.HelloAsync(deepHash);
            var welcome = (await raw.ReadAsync())?.Welcome;
            Assert.Equal(ErrorCode.CutElsewhere, welcome?.Error?.Code);
            Assert.Equal(second, new Uri(welcome!.Error.Redirect));
        }

        // The client library follows it, and the request runs on the silo with the cut.
        await using (var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = second, ManifestHash = shallowHash }))
        {
            Assert.Equal(first, client.Options.Server);
            var frame = TinySplit.Frames(1, seed: 5)[0];
            Assert.Equal(TinySplit.LocalTop1(frame), (await client.InferAsync(frame)).Top1);
        }

        var refused = await Assert.ThrowsAsync<SplitInferenceException>(() =>
            SplitClient.ConnectAsync(new SplitClientOptions { Server = first, ManifestHash = "not-a-served-cut" }));
        Assert.Equal(SplitErrorCode.ManifestMismatch, refused.Code);
        Assert.Contains("no server of the cluster", refused.Message, StringComparison.Ordinal);
    }
}
