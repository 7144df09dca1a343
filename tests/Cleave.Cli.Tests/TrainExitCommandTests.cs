using System.Text.Json;
using Cleave.Training.Tests;

namespace Cleave.Cli.Tests;

public sealed class TrainExitCommandTests
{
    [FashionMnistFact]
    public void Train_exit_cnn_writes_a_split_with_an_exit_and_a_JSON_summary()
    {
        using var dir = new TempFolder();
        var (code, stdout, stderr) = CliRunner.Run("train", "exit-cnn", "--limit", "400", "--steps", "6", "--exit-steps", "4", "--batch", "16",
            "--width", "8", "--density", "1/4", "--no-test", "-o", dir.File("fm"), "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(0.25, root.GetProperty("density").GetDouble());
        Assert.Equal(40, root.GetProperty("calibration").GetProperty("images").GetInt32());
        Assert.True(root.GetProperty("cost").GetProperty("macs").GetInt64() > 0);
        Assert.False(root.TryGetProperty("test", out _));
        foreach (string file in new[] { "split.json", "head.onnx", "tail.onnx", "exit.onnx", "exit.json", "model.onnx" })
            Assert.True(File.Exists(Path.Combine(dir.File("fm"), file)), file);
    }

    [Fact]
    public void A_density_that_is_not_one_over_a_whole_number_is_a_usage_error()
    {
        var (code, _, stderr) = CliRunner.Run("train", "exit-cnn", "-o", "x", "--density", "0.3");
        Assert.Equal(2, code);
        Assert.Contains("density", stderr);
        (code, _, stderr) = CliRunner.Run("train", "exit-cnn", "-o", "x", "--density", "one");
        Assert.Equal(2, code);
        Assert.Contains("--density", stderr);
    }
}
