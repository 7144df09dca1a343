using System.Security.Cryptography;
using System.Text.Json;
using Cleave.Codecs;
using Cleave.Runtime;
using Cleave.Runtime.Client;
using Cleave.Runtime.Serving;

namespace Cleave.Cli.Tests;

/// <summary>
/// The device half published for linux-arm64 and run under qemu-user against a real x64 server on a loopback port:
/// its answers must be the x64 client's, and its frames must decode to the x64 frames' values give or take a rare
/// single quantization step (ONNX Runtime's arm64 kernels round differently; docs/platforms.md measures it).
/// </summary>
public sealed class Arm64ClientTests
{
    private const string TfLite = "vision/mobilenet_v2_1.0_224_quant.tflite";
    private const string Cut = "MobilenetV2/expanded_conv_5/add";
    private const string Codec = "quant:bits=8,entropy=rans";
    private const int Images = 3;

    /// <summary>What the comparison rests on: the hash the client prints is the hash of the frame the head makes.</summary>
    [AssetFact(TfLite, "imagenet-sample")]
    public async Task Client_json_gives_each_request_the_sha256_of_its_frame()
    {
        using var dir = new TempFolder();
        string split = MakeSplit(dir);
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = split, Port = 0, Threads = 1 });
        var (code, stdout, stderr) = CliRunner.Run(ClientArgs(server, split));
        Assert.True(code == 0, stderr);

        using var head = SplitHead.Load(SplitDirectory.Load(split));
        var codec = FeatureCodecs.Create(Codec);
        var requests = Requests(stdout);
        Assert.Equal(Images, requests.Count);
        foreach (var r in requests)
        {
            byte[] frame = head.Encode(TestAssets.Path("imagenet-sample", r.Image), codec).Frame;
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(frame)), r.Sha256);
            Assert.Equal(frame.Length, r.Bytes);
        }
    }

    [Arm64ClientFact(TfLite, "imagenet-sample")]
    public async Task The_linux_arm64_client_under_qemu_gets_the_x64_answers_from_frames_within_one_quantization_step()
    {
        using var dir = new TempFolder();
        string split = MakeSplit(dir);
        await using var server = await SplitServer.StartAsync(new SplitServerOptions { SplitDirectory = split, Port = 0, Threads = 1 });
        var (code, stdout, stderr) = CliRunner.Run([.. ClientArgs(server, split), "--frames", dir.File("x64")]);
        Assert.True(code == 0, stderr);
        var x64 = Requests(stdout);

        var started = DateTime.UtcNow;
        (code, stdout, stderr) = await Arm64Cleave.RunAsync([.. ClientArgs(server, split), "--frames", dir.File("arm64")], TimeSpan.FromMinutes(6));
        Assert.True(code == 0, $"arm64 cleave client exited {code}: {stderr}");
        var arm64 = Requests(stdout);
        Console.WriteLine($"arm64 client under qemu: {(DateTime.UtcNow - started).TotalSeconds:F1} s for {Images} images");

        Assert.Equal(Images, x64.Count);
        Assert.Equal(x64.Select(r => r.Image), arm64.Select(r => r.Image));
        for (int i = 0; i < x64.Count; i++)
        {
            byte[] ours = File.ReadAllBytes(Path.Combine(dir.File("x64"), x64[i].Image + ".clv"));
            byte[] theirs = File.ReadAllBytes(Path.Combine(dir.File("arm64"), arm64[i].Image + ".clv"));
            // The frames on disk are the ones that were sent.
            Assert.Equal(x64[i].Sha256, Convert.ToHexStringLower(SHA256.HashData(ours)));
            Assert.Equal(arm64[i].Sha256, Convert.ToHexStringLower(SHA256.HashData(theirs)));
            var comparison = FrameComparison.Of(ours, theirs, levels: 255);
            Console.WriteLine($"{x64[i].Image}: top-1 {x64[i].Top1} / {arm64[i].Top1}, {comparison}");

            // ONNX Runtime's arm64 kernels round differently from its x64 ones (docs/platforms.md measures by how
            // much), so a value near a quantization boundary may land one step away: bounded, rare, same answer.
            Assert.Equal(x64[i].Top1, arm64[i].Top1);
            Assert.True(comparison.SameLayout, $"{x64[i].Image}: {comparison}");
            Assert.True(comparison.MaxDifference <= 1.01 * comparison.Step, $"{x64[i].Image}: {comparison}");
            Assert.True(comparison.ValuesOffByAStep <= comparison.Values / 100, $"{x64[i].Image}: {comparison}");
        }
    }

    private sealed record Request(string Image, int Bytes, string Sha256, int Top1);

    private static string MakeSplit(TempFolder dir)
    {
        var (code, _, stderr) = CliRunner.Run("import", TestAssets.Path(TfLite), "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run("split", dir.File("m.onnx"), "--at", Cut, "-o", dir.File("split"));
        Assert.True(code == 0, stderr);
        return dir.File("split");
    }

    private static string[] ClientArgs(SplitServer server, string split) =>
        ["client", "--server", server.Url.ToString(), "--split", split, "--images", TestAssets.Path("imagenet-sample"),
            "--limit", $"{Images}", "--codec", Codec, "--in-flight", "1", "--json"];

    private static List<Request> Requests(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("requests").EnumerateArray().Select(r => new Request(
            r.GetProperty("image").GetString()!, r.GetProperty("bytes").GetInt32(), r.GetProperty("payload_sha256").GetString()!,
            r.GetProperty("top1").GetInt32()))];
    }
}
