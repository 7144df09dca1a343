using System.Text.Json;

namespace Cleave.Cli.Tests;

public sealed class SweepCommandTests
{
    private const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";

    [AssetFact("vision/mobilenet_v1_0.25_128_quant.tflite", "imagenet-sample")]
    public void Sweep_writes_a_report_and_json_and_eval_measures_baselines_with_head_compute()
    {
        string tflite = TestAssets.Path("vision/mobilenet_v1_0.25_128_quant.tflite");
        string images = TestAssets.Path("imagenet-sample");

        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("import", tflite, "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, var stdout, stderr) = CliRunner.Run("sweep", "--model", dir.File("m.onnx"), "--data", images, "--limit", "4",
            "--splits", Cut, "--codecs", "quant:bits={2,4},entropy=rans", "--baselines", "jpeg:q=90;local", "--report", dir.File("r"), "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var points = doc.RootElement.GetProperty("points");
            Assert.Equal(5, points.GetArrayLength()); // raw + 2 codecs + jpeg + local
            Assert.Equal("raw", points[0].GetProperty("codec").GetString());
            Assert.Equal(4, doc.RootElement.GetProperty("images").GetInt32());
        }
        Assert.Contains("sweep: 4/4 in ", stderr);
        Assert.Contains("data:image/png;base64,", File.ReadAllText(dir.File("r/report.html")));
        Assert.True(File.Exists(dir.File("r/results.csv")) && File.Exists(dir.File("r/pareto_front.png")));

        (code, stdout, stderr) = CliRunner.Run("eval", "--model", dir.File("m.onnx"), "--data", images, "--limit", "3",
            "--split", Cut, "--codec", "quant:bits=4,entropy=rans", "--baseline", "webp:q=80", "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var rows = doc.RootElement;
            Assert.Equal(3, rows.GetArrayLength());
            foreach (string key in new[] { "top1", "top5", "agreement", "bytes_mean", "bytes_p95", "head_macs", "head_params", "encode_ms", "decode_ms", "mean_kl" })
                Assert.True(rows[1].TryGetProperty(key, out _), key);
            Assert.True(rows[1].GetProperty("head_macs").GetInt64() > 0);
            Assert.Equal("webp", rows[2].GetProperty("kind").GetString());
            Assert.Equal(0, rows[2].GetProperty("head_macs").GetInt64());
            Assert.True(rows[2].GetProperty("bytes_mean").GetDouble() > 0);
        }
    }

    [AssetFact("vision/mobilenet_v1_0.25_128_quant.tflite")]
    public void A_bad_labels_csv_row_is_a_clear_error()
    {
        string tflite = TestAssets.Path("vision/mobilenet_v1_0.25_128_quant.tflite");
        using var dir = new TempFolder();
        Assert.Equal(0, CliRunner.Run("import", tflite, "-o", dir.File("m.onnx")).ExitCode);
        string data = Directory.CreateDirectory(dir.File("data")).FullName;
        File.WriteAllText(Path.Combine(data, "labels.csv"), "file,label\nmissing.jpg,5\n");
        var (code, _, stderr) = CliRunner.Run("eval", "--model", dir.File("m.onnx"), "--data", data);
        Assert.Equal(1, code);
        Assert.Contains("line 2: image 'missing.jpg' does not exist", stderr);

        (code, _, stderr) = CliRunner.Run("sweep", "--model", dir.File("m.onnx"), "--data", data, "--codecs", "raw");
        Assert.Equal(2, code);
        Assert.Contains("split", stderr);
    }
}
