using Cleave.Codecs.Npy;
using Cleave.Models;

namespace Cleave.Cli.Tests;

public sealed class DumpCommandTests
{
    [Fact]
    public void Image_dump_writes_the_cut_tensor_of_each_image_and_refuses_a_non_split_point()
    {
        string assets;
        try { assets = AssetLocator.Resolve(); } catch (DirectoryNotFoundException) { return; } // the Models tests report the skip
        string tflite = Path.Combine(assets, "vision", "mobilenet_v1_0.25_128_quant.tflite");
        if (!File.Exists(tflite)) return;

        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("import", tflite, "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run("inspect", dir.File("m.onnx"), "--json");
        Assert.True(code == 0, stderr);

        (code, _, stderr) = CliRunner.Run("dump", dir.File("m.onnx"), "--at", "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6",
            "--images", Path.Combine(assets, "imagenet-sample"), "--limit", "3", "-o", dir.File("f"));
        Assert.True(code == 0, stderr);
        var files = Directory.GetFiles(dir.File("f"), "*.npy").Order().ToArray();
        Assert.Equal(3, files.Length);
        var (values, shape) = NpyFile.ReadFloat32(files[0]);
        Assert.Equal(4, shape.Rank);
        Assert.Equal(1, shape[0]);
        Assert.All(values, v => Assert.InRange(v, 0f, 6f)); // a ReLU6 output
        Assert.Contains(values, v => v > 0);

        (code, _, stderr) = CliRunner.Run("dump", dir.File("m.onnx"), "--at", "no_such_tensor",
            "--images", Path.Combine(assets, "imagenet-sample"), "--limit", "1", "-o", dir.File("g"));
        Assert.NotEqual(0, code);
        Assert.Contains("no_such_tensor", stderr);
    }
}
