using System.Text.Json;
using Cleave.Training.Tests;

namespace Cleave.Cli.Tests;

public sealed class TrainCommandTests
{
    [FashionMnistFact]
    public void Train_classifier_writes_an_ONNX_model_that_eval_style_readers_load_and_a_JSON_summary()
    {
        using var dir = new TempFolder();
        var (code, stdout, stderr) = CliRunner.Run("train", "classifier", "--data", "fashion-mnist", "--limit", "400", "--steps", "12",
            "--batch", "16", "--width", "8", "--lr", "0.01", "--seed", "3", "-o", dir.File("fm.onnx"), "--checkpoint", dir.File("fm.ckpt"), "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("train [", stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(12, root.GetProperty("steps").GetInt32());
        Assert.Equal(10, root.GetProperty("classes").GetInt32());
        Assert.Equal(360, root.GetProperty("train_examples").GetInt32());
        Assert.Equal(40, root.GetProperty("validation_examples").GetInt32());
        var model = Cleave.Models.Onnx.OnnxModel.Load(dir.File("fm.onnx"));
        Assert.Equal(["logits"], model.Graph.Outputs);
        Assert.True(File.Exists(dir.File("fm.ckpt")));

        // Resuming a finished run trains no more steps.
        (code, stdout, stderr) = CliRunner.Run("train", "classifier", "--data", "fashion-mnist", "--limit", "400", "--steps", "12",
            "--batch", "16", "--width", "8", "--seed", "3", "-o", dir.File("fm2.onnx"), "--checkpoint", dir.File("fm.ckpt"), "--resume", "--json");
        Assert.True(code == 0, stderr);
        using var resumed = JsonDocument.Parse(stdout);
        Assert.Equal(12, resumed.RootElement.GetProperty("resumed_from_step").GetInt32());
    }

    [Fact]
    public void Train_refuses_an_unknown_kind_and_bad_options_with_usage_errors()
    {
        var (code, _, stderr) = CliRunner.Run("train", "juggler");
        Assert.Equal(2, code);
        Assert.Contains("unknown training kind 'juggler'", stderr);
        (code, _, stderr) = CliRunner.Run("train", "classifier", "--data", "fashion-mnist", "-o", "x.onnx", "--optimizer", "lbfgs");
        Assert.Equal(2, code);
        Assert.Contains("adamw or sgd", stderr);
        (code, _, stderr) = CliRunner.Run("train", "classifier", "--data", "fashion-mnist", "-o", "x.onnx", "--steps", "0");
        Assert.Equal(2, code);
        Assert.Contains("steps", stderr);
    }

    [Fact]
    public void Train_bottleneck_refuses_a_mix_without_views_and_an_unknown_mix()
    {
        string[] common = ["train", "bottleneck", "--model", "absent.onnx", "--at", "t", "--data", "absent", "-o", "out"];
        var (code, _, stderr) = CliRunner.Run([.. common, "--mix", "mixup"]);
        Assert.Equal(2, code);
        Assert.Contains("--mix mixes the random views: give --views N", stderr);
        (code, _, stderr) = CliRunner.Run([.. common, "--views", "2", "--mix", "blend"]);
        Assert.Equal(2, code);
        Assert.Contains("unknown mix 'blend' (none, mixup or cutmix)", stderr);
    }

    [Fact]
    public void Train_adapter_refuses_a_mix_without_views_and_a_bad_ensemble()
    {
        string[] common = ["train", "adapter", "--split", "absent", "--model", "absent.onnx", "--data", "absent", "--shift", "gain=0.5", "-o", "out"];
        var (code, _, stderr) = CliRunner.Run([.. common, "--mix", "cutmix"]);
        Assert.Equal(2, code);
        Assert.Contains("--mix mixes the random views: give --views N", stderr);
        (code, _, stderr) = CliRunner.Run([.. common, "--views", "2", "--mix", "blend"]);
        Assert.Equal(2, code);
        Assert.Contains("--mix takes none, mixup or cutmix, not 'blend'", stderr);
        foreach (string k in new[] { "0", "17" })
        {
            (code, _, stderr) = CliRunner.Run([.. common, "--ensemble", k]);
            Assert.Equal(2, code);
            Assert.Contains("--ensemble must be in 1..16", stderr);
        }
        (code, _, stderr) = CliRunner.Run([.. common, "--ensemble", "2", "--mode", "head"]);
        Assert.Equal(2, code);
        Assert.Contains("--ensemble is for the adapter", stderr);
    }
}
