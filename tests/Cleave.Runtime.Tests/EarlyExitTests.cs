using Cleave.Codecs;
using Cleave.Evaluation.Tests;
using Cleave.Models.EarlyExit;
using Cleave.Runtime.Client;
using Cleave.Runtime.Load;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Tests;

/// <summary>The device's early exit against a real server on a loopback port: an exited request never reaches it.</summary>
public sealed class EarlyExitTests : IDisposable
{
    private const string Codec = "quant:bits=8,entropy=rans";
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-exit-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The MobileNetV2 split plus an exit that scores class <paramref name="favoured"/> by <paramref name="bias"/> alone (the shared fixture with no gain).</summary>
    private SplitDirectory SplitWithExit(int favoured, float bias, double threshold)
    {
        foreach (string file in new[] { "split.json", "head.onnx", "tail.onnx" })
            File.Copy(Path.Combine(MobileNetSplit.SplitPath, file), Path.Combine(_folder, file), overwrite: true);
        ExitFixture.Write(_folder, classes: 1001, favoured, gain: 0, bias, threshold);
        return SplitDirectory.Load(_folder);
    }

    [AssetFact(MobileNetSplit.TfLite, "imagenet-sample")]
    public async Task An_exit_answered_on_the_device_sends_nothing_and_one_below_the_threshold_is_served()
    {
        // Bias 20 on class 7: softmax confidence of about 1 against 1000 zeros, far above the calibrated 0.9.
        var split = SplitWithExit(favoured: 7, bias: 20, threshold: 0.9);
        var images = MobileNetSplit.Images(3);
        var codec = FeatureCodecs.Create(Codec);
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = _folder, Port = 0 });
        await using var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash, Codecs = [Codec] });
        using var head = SplitHead.Load(split);

        using (var exit = DeviceExit.Load(split)!)
        {
            Assert.Equal(0.9, exit.Threshold);
            var results = await ImageClassificationRun.RunAsync(client, images, p => head.Encode(p, codec, exit), inFlight: 2);
            Assert.All(results, r =>
            {
                Assert.True(r.AnsweredOnDevice);
                Assert.Equal(7, r.Top1);
                Assert.Equal(0, r.PayloadBytes);
                Assert.True(r.BytesSaved > 0);
                Assert.Null(r.Result);
            });
            var summary = ClientSummary.From(results);
            Assert.Equal((3, 3, 0), (summary.Exited, summary.Answered, summary.Failed));
            Assert.Equal(results.Sum(r => (long)r.BytesSaved), summary.BytesSaved);
        }
        // The server heard nothing: no request executed, no frame bytes received beyond the connection's own.
        var quiet = await MetricsSnapshot.FetchAsync(server.Url);
        Assert.Equal(0, server.Metrics.Executed(ServingModes.Split));
        Assert.Equal(0, quiet["cleave_requests_executed_total{mode=\"split\"}"]);

        // The same exit with a threshold no softmax reaches: every image goes to the server, which answers it.
        using (var never = DeviceExit.Load(split, threshold: ExitCalibration.Never)!)
        {
            var results = await ImageClassificationRun.RunAsync(client, images, p => head.Encode(p, codec, never), inFlight: 2);
            Assert.All(results, r =>
            {
                Assert.False(r.AnsweredOnDevice);
                Assert.NotNull(r.Result);
                Assert.True(r.PayloadBytes > 0);
                Assert.Equal(7, r.Exit!.Top1);
            });
        }
        Assert.Equal(images.Count, server.Metrics.Executed(ServingModes.Split));
    }

    [AssetFact(MobileNetSplit.TfLite, "imagenet-sample")]
    public async Task A_load_test_counts_exited_payloads_and_never_sends_them()
    {
        var split = SplitWithExit(favoured: 7, bias: 20, threshold: 0.9);
        var codec = FeatureCodecs.Create(Codec);
        using var head = SplitHead.Load(split);
        byte[] frame = head.Encode(MobileNetSplit.Images(1)[0], codec).Frame;
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = _folder, Port = 0 });
        var options = new LoadOptions
        {
            Server = server.Url, ManifestHash = split.ManifestHash, Codecs = [Codec], Clients = 2, Duration = TimeSpan.FromSeconds(1),
            // Payload 0 is answered on the device, payload 1 goes to the server.
            Payloads = [frame, frame], AnsweredOnDevice = [true, false],
        };
        var report = await LoadGenerator.RunAsync(options);
        Assert.True(report.Exited > 0 && report.Answered > 0);
        Assert.Equal(report.Sent, report.Answered);
        Assert.Equal(report.Answered, report.ServerExecuted);
        Assert.Equal(report.Exited * frame.Length, report.BytesSaved);
        // Each client alternates, so exits and sends differ by at most one per client.
        Assert.InRange(report.Exited - report.Sent, -2, 2);
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(options with { AnsweredOnDevice = [true, true] }));
        await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(options with { AnsweredOnDevice = [true] }));
    }

    [AssetFact(MobileNetSplit.TfLite, "imagenet-sample")]
    public void A_tampered_exit_model_or_a_wrong_cut_is_refused_when_loading()
    {
        var split = SplitWithExit(favoured: 3, bias: 5, threshold: 0.5);
        File.AppendAllText(Path.Combine(_folder, "exit.onnx"), "x");
        Assert.Throws<InvalidDataException>(() => DeviceExit.Load(split));
        split = SplitWithExit(favoured: 3, bias: 5, threshold: 0.5);
        string json = File.ReadAllText(Path.Combine(_folder, ExitManifest.FileName)).Replace(MobileNetSplit.Cut, "some/other/tensor", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_folder, ExitManifest.FileName), json);
        Assert.Throws<InvalidDataException>(() => DeviceExit.Load(split));
        File.Delete(Path.Combine(_folder, ExitManifest.FileName));
        Assert.Null(DeviceExit.Load(split));
    }

    [Fact]
    public void Softmax_confidence_is_stable_for_large_scores()
    {
        var (top1, confidence) = DeviceExit.SoftmaxTop1([1000f, 0f, 999f]);
        Assert.Equal(0, top1);
        Assert.Equal(1 / (1 + Math.Exp(-1) + Math.Exp(-1000)), confidence, 5);
    }
}
