using System.Text.Json;
using Cleave.Codecs;

namespace Cleave.Cli.Tests;

public sealed class CalibrateCommandTests
{
    [AssetFact("vision/mobilenet_v1_0.25_128_quant.tflite", "imagenet-sample")]
    public void Calibrate_prints_a_weight_per_channel_and_a_spec_whose_gains_fit_the_cut()
    {
        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("import", TestAssets.Path("vision/mobilenet_v1_0.25_128_quant.tflite"), "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";

        (code, string stdout, stderr) = CliRunner.Run("calibrate", "--model", dir.File("m.onnx"), "--at", Cut,
            "--images", TestAssets.Path("imagenet-sample"), "--limit", "2", "--codec", "rans-ifc:bits=4,ctx=2d", "--json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        int channels = json.RootElement.GetProperty("sensitivity").GetArrayLength();
        Assert.Equal(channels, json.RootElement.GetProperty("gains").GetArrayLength());
        string spec = json.RootElement.GetProperty("spec").GetString()!;
        Assert.StartsWith("rans-ifc:bits=4,ctx=2d,gains=", spec);
        Assert.Equal(channels, ((RansIfcCodec)FeatureCodecs.Create(spec)).Gains!.Channels);

        (code, _, stderr) = CliRunner.Run("calibrate", "--model", dir.File("m.onnx"), "--at", Cut,
            "--images", TestAssets.Path("imagenet-sample"), "--codec", "quant:bits=8");
        Assert.NotEqual(0, code);
        Assert.Contains("rans-ifc", stderr);
    }
}
