using System.Text.Json;
using Cleave.Evaluation.Tests;

namespace Cleave.Cli.Tests;

/// <summary>`eval` and `plan` with a split folder's early exit (exit.onnx run by ONNX Runtime on real images).</summary>
public sealed class ExitCommandTests
{
    private const string Model = "vision/mobilenet_v1_0.25_128_quant.tflite";
    private const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";

    [AssetFact(Model, "imagenet-sample")]
    public void Eval_counts_exits_and_plan_offers_exit_configurations()
    {
        string images = TestAssets.Path("imagenet-sample");
        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("import", TestAssets.Path(Model), "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run("split", dir.File("m.onnx"), "--at", Cut, "-o", dir.File("split"));
        Assert.True(code == 0, stderr);
        ExitFixture.Write(dir.File("split"), 1001, favoured: 7, gain: 1, bias: 0, threshold: 0.9, ExitFixture.Curve(20, 0.01));

        // Threshold 0: every image exits, nothing is sent.
        (code, var stdout, stderr) = CliRunner.Run("eval", "--model", dir.File("m.onnx"), "--data", images, "--split-dir", dir.File("split"),
            "--exit-threshold", "0", "--limit", "2", "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var raw = doc.RootElement[0];
            var exit = raw.GetProperty("exit");
            Assert.Equal((2, 0, 0.0), (exit.GetProperty("exited").GetInt32(), exit.GetProperty("sent").GetInt32(), raw.GetProperty("bytes_mean").GetDouble()));
            Assert.True(exit.GetProperty("bytes_saved").GetInt64() > 0 && exit.GetProperty("tail_macs_saved").GetInt64() > 0);
            Assert.False(exit.GetProperty("calibrated").GetBoolean());
        }
        // The default is the calibrated threshold, and the table says so.
        (code, stdout, stderr) = CliRunner.Run("eval", "--model", dir.File("m.onnx"), "--data", images, "--split-dir", dir.File("split"), "--limit", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("threshold 0.9 (calibrated, from exit.json)", stdout);

        (code, stdout, stderr) = CliRunner.Run("plan", "--model", dir.File("m.onnx"), "--data", images, "--images", "2", "--splits", Cut,
            "--codecs", "raw", "--jpeg", "50", "--link", "ble", "--exit", dir.File("split"), "--profile", dir.File("profile.json"), "--json");
        Assert.True(code is 0 or 3, stderr);
        using (var plan = JsonDocument.Parse(stdout))
        {
            var withExit = plan.RootElement.GetProperty("configurations").EnumerateArray().Select(c => c.GetProperty("configuration"))
                .Where(c => c.TryGetProperty("exit_threshold", out _)).ToList();
            Assert.NotEmpty(withExit);
            Assert.All(withExit, c => Assert.Equal((1 - c.GetProperty("exit_rate").GetDouble()) * c.GetProperty("bytes_mean").GetDouble(),
                c.GetProperty("expected_bytes").GetDouble(), 6));
        }
    }

    [Theory]
    [InlineData("2")]
    [InlineData("sometimes")]
    public void A_bad_exit_threshold_is_a_usage_error(string threshold)
    {
        var (code, _, stderr) = CliRunner.Run("eval", "--model", "m.onnx", "--data", "images", "--split-dir", "split", "--exit-threshold", threshold);
        Assert.Equal(2, code);
        Assert.Contains("--exit-threshold", stderr);
        Assert.Contains("[0, 1]", stderr);
    }

    [Fact]
    public void An_exit_threshold_without_a_split_folder_is_a_usage_error()
    {
        var (code, _, stderr) = CliRunner.Run("eval", "--model", "m.onnx", "--data", "images", "--split", "x", "--exit-threshold", "0.5");
        Assert.Equal(2, code);
        Assert.Contains("--split-dir", stderr);
    }
}
