using Cleave.Codecs.Npy;

namespace Cleave.Cli.Tests;

public sealed class DumpCommandTests
{
    [AssetFact("vision/mobilenet_v1_0.25_128_quant.tflite", "imagenet-sample")]
    public void Image_dump_writes_the_cut_tensor_of_each_image_and_refuses_a_non_split_point()
    {
        string tflite = TestAssets.Path("vision/mobilenet_v1_0.25_128_quant.tflite");
        string images = TestAssets.Path("imagenet-sample");

        using var dir = new TempFolder();
        var (code, _, stderr) = CliRunner.Run("import", tflite, "-o", dir.File("m.onnx"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run("inspect", dir.File("m.onnx"), "--json");
        Assert.True(code == 0, stderr);

        (code, _, stderr) = CliRunner.Run("dump", dir.File("m.onnx"), "--at", "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6",
            "--images", images, "--limit", "3", "-o", dir.File("f"));
        Assert.True(code == 0, stderr);
        var files = Directory.GetFiles(dir.File("f"), "*.npy").Order().ToArray();
        Assert.Equal(3, files.Length);
        var (values, shape) = NpyFile.ReadFloat32(files[0]);
        Assert.Equal(4, shape.Rank);
        Assert.Equal(1, shape[0]);
        Assert.All(values, v => Assert.InRange(v, 0f, 6f)); // a ReLU6 output
        Assert.Contains(values, v => v > 0);

        (code, _, stderr) = CliRunner.Run("dump", dir.File("m.onnx"), "--at", "no_such_tensor",
            "--images", images, "--limit", "1", "-o", dir.File("g"));
        Assert.NotEqual(0, code);
        Assert.Contains("no_such_tensor", stderr);
    }
}
