namespace Cleave.Cli.Tests;

/// <summary>MobileNetV1 0.25 (128 px) imported with `cleave import` and cut with `cleave split` at an early cut, in a test's folder.</summary>
internal static class MobileNetV1Fixture
{
    public const string TfLite = "vision/mobilenet_v1_0.25_128_quant.tflite";
    public const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";

    /// <summary>Writes dir/m.onnx and the split folder dir/split; returns the split folder.</summary>
    public static string Split(TempFolder dir)
    {
        var (code, _, stderr) = CliRunner.Run("import", TestAssets.Path(TfLite), "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run("split", dir.File("m.onnx"), "--at", Cut, "-o", dir.File("split"));
        Assert.True(code == 0, stderr);
        return dir.File("split");
    }
}
