using System.Text.Json;

namespace Cleave.Cli.Tests;

public sealed class DemoCommandTests
{
    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void Demo_runs_a_real_server_and_reports_both_paths()
    {
        using var temp = new TempFolder();

        var (code, stdout, stderr) = CliRunner.Run("demo", "--out", temp.Path, "--images", "8", "--clients", "2", "--link", "wifi", "--json");

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(8, root.GetProperty("images").GetInt32());
        var split = root.GetProperty("split");
        var jpeg = root.GetProperty("jpeg");
        // 3-bit rans-ifc frames of a 32x28x28 tensor are far below float32 (100,386 B) and the JPEG of a 224x224 image.
        Assert.InRange(split.GetProperty("bytes_mean").GetDouble(), 1_000, 20_000);
        Assert.InRange(root.GetProperty("split_vs_float32").GetDouble(), 5, 100);
        Assert.InRange(jpeg.GetProperty("bytes_mean").GetDouble(), 2_000, 60_000);
        Assert.True(split.GetProperty("agreement").GetDouble() >= 0.75, "split answers should mostly agree with the unsplit model");
        Assert.True(split.GetProperty("latency_ms").GetProperty("uplink").GetDouble() > 0, "the link emulator adds uplink time");
        Assert.True(File.Exists(root.GetProperty("report").GetString()));
        Assert.Contains("verdict", File.ReadAllText(root.GetProperty("report").GetString()!));
        Assert.Contains("import: ", stderr, StringComparison.Ordinal);

        Assert.False(root.TryGetProperty("exit", out _), "the default split has no early exit");

        // A second run in the same folder says it reuses the imported model and the split instead of going quiet. An
        // exit trained into that split (here the test fixture, confident on every image) is used: nothing is sent.
        Cleave.Evaluation.Tests.ExitFixture.Write(temp.File("split-MobilenetV2_expanded_conv_5_add"), 1001, favoured: 7, gain: 0, bias: 20, threshold: 0.9);
        (code, stdout, stderr) = CliRunner.Run("demo", "--out", temp.Path, "--images", "2", "--clients", "1", "--link", "wifi", "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("import: reusing", stderr, StringComparison.Ordinal);
        Assert.Contains("split: reusing", stderr, StringComparison.Ordinal);
        using var withExit = JsonDocument.Parse(stdout);
        var exit = withExit.RootElement.GetProperty("exit");
        Assert.Equal((2, 0), (exit.GetProperty("exited").GetInt32(), exit.GetProperty("sent").GetInt32()));
        Assert.True(exit.GetProperty("bytes_saved").GetInt64() > 1_000);
        Assert.Equal(0, withExit.RootElement.GetProperty("split").GetProperty("bytes_mean").GetDouble());
    }

    [Fact]
    public void Demo_without_assets_says_where_it_looked_and_how_to_point_elsewhere()
    {
        using var temp = new TempFolder();

        var (code, _, stderr) = CliRunner.Run("demo", "--assets", temp.File("nowhere"), "--out", temp.Path);

        Assert.Equal(1, code);
        Assert.Contains("nowhere", stderr);
        Assert.Contains("CLEAVE_ASSETS", stderr);
    }
}
