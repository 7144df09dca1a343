using System.Text.Json;

namespace Cleave.Cli.Tests;

public sealed class EvalCommandTests
{
    [AssetFact("vision/mobilenet_v1_0.25_128_quant.tflite", "imagenet-sample")]
    public void Raw_codec_at_a_cut_agrees_with_the_unsplit_model_and_coarse_quantization_costs_fewer_bytes()
    {
        string tflite = TestAssets.Path("vision/mobilenet_v1_0.25_128_quant.tflite");
        string images = TestAssets.Path("imagenet-sample");

        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("import", tflite, "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, var stdout, stderr) = CliRunner.Run("eval", "--model", dir.File("m.onnx"), "--data", images,
            "--split", "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6", "--codec", "raw;quant:bits=2,entropy=rans", "--limit", "6", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var raw = doc.RootElement[0];
        var coarse = doc.RootElement[1];
        Assert.Equal(6, raw.GetProperty("images").GetInt32());
        Assert.Equal(1.0, raw.GetProperty("agreement").GetDouble());
        Assert.Equal(raw.GetProperty("full_top1").GetDouble(), raw.GetProperty("top1").GetDouble());
        Assert.InRange(raw.GetProperty("mean_kl").GetDouble(), 0, 1e-9);
        Assert.True(raw.GetProperty("bytes_mean").GetDouble() > raw.GetProperty("fp32_bytes").GetDouble(), "raw frames carry a header");
        Assert.True(coarse.GetProperty("bytes_mean").GetDouble() * 10 < raw.GetProperty("bytes_mean").GetDouble());
        Assert.True(coarse.GetProperty("mean_kl").GetDouble() > 0);

        (code, _, stderr) = CliRunner.Run("eval", "--model", dir.File("m.onnx"), "--data", images, "--codec", "raw");
        Assert.Equal(2, code);
        Assert.Contains("--split", stderr);
    }
}
