using System.Text.Json;
using Cleave.Training.Tests;

namespace Cleave.Cli.Tests;

/// <summary><c>cleave plan --models</c>: bad model lists refused with a clear message; a tiny Fashion-MNIST grid trained, profiled and planned end to end.</summary>
public sealed class PlanModelsCommandTests
{
    [Fact]
    public void An_empty_or_repeated_model_list_is_refused_before_any_profiling()
    {
        var (code, _, stderr) = CliRunner.Run("plan", "--models", " ; ", "--link", "wifi");
        Assert.NotEqual(0, code);
        Assert.Contains("the model list is empty", stderr);

        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("a.onnx"), [1, 2, 3]);
        (code, _, stderr) = CliRunner.Run("plan", "--models", $"{dir.File("a.onnx")};{dir.File("a.onnx")}", "--link", "wifi");
        Assert.NotEqual(0, code);
        Assert.Contains("is listed twice", stderr);

        (code, _, stderr) = CliRunner.Run("plan", "--models", dir.File("a.onnx"), "--model", dir.File("a.onnx"), "--link", "wifi");
        Assert.Equal(2, code);
        Assert.Contains("not both", stderr);

        (code, _, stderr) = CliRunner.Run("plan", "--models", $"{dir.File("a.onnx")};{dir.File("b.onnx")}", "--profiles", "p.json", "--link", "wifi");
        Assert.Equal(2, code);
        Assert.Contains("--profiles lists 1 files for 2 models", stderr);
    }

    [FashionMnistFact]
    public void A_tiny_trained_grid_is_profiled_and_searched_over_models_cuts_and_codecs()
    {
        using var dir = new TempFolder();
        var (code, stdout, stderr) = CliRunner.Run("train", "fmnist-grid", "-o", dir.Path, "--widths", "4,8", "--depths", "2", "--steps", "6", "--batch", "16",
            "--lr", "0.01", "--seed", "1", "--limit", "400", "--images", "12", "--test-limit", "300", "--json");
        Assert.True(code == 0, stderr);
        using (var grid = JsonDocument.Parse(stdout))
        {
            var models = grid.RootElement.GetProperty("models");
            Assert.Equal(2, models.GetArrayLength());
            Assert.All(models.EnumerateArray(), m => Assert.InRange(m.GetProperty("test_top1").GetDouble(), 0, 1));
            Assert.Equal(300, models[0].GetProperty("test_images").GetInt32());
            Assert.Equal(12, grid.RootElement.GetProperty("test_images_written").GetInt32());
        }
        string a = Path.Combine(dir.Path, "fmnist-w4-d2.onnx"), b = Path.Combine(dir.Path, "fmnist-w8-d2.onnx");
        Assert.Equal(13, File.ReadAllLines(Path.Combine(dir.Path, "test", "labels.csv")).Length);

        // The grid's models read their test images as any classifier reads a labelled folder, and plan together.
        (code, stdout, stderr) = CliRunner.Run("plan", "--models", $"{a};{b}", "--data", Path.Combine(dir.Path, "test"), "--images", "12", "--max-splits", "1",
            "--codecs", "quant:bits=8,entropy=rans", "--jpeg", "90", "--link", "ble", "--device-speed", "0.05", "--max-drop", "100", "--objective", "accuracy", "--json");
        Assert.True(code == 0, stderr);
        using var plan = JsonDocument.Parse(stdout);
        var root = plan.RootElement;
        Assert.Equal(2, root.GetProperty("models").GetArrayLength());
        string chosen = root.GetProperty("chosen").GetString()!;
        Assert.True(chosen.StartsWith("fmnist-w4-d2/", StringComparison.Ordinal) || chosen.StartsWith("fmnist-w8-d2/", StringComparison.Ordinal), chosen);
        Assert.NotEqual(0, root.GetProperty("pareto").GetArrayLength());
        Assert.True(File.Exists(a + ".profile-12.json"));

        // The same images under other labels: b's profile from them does not compare with a's, and is refused by name.
        string relabelled = Path.Combine(dir.Path, "relabelled");
        Directory.CreateDirectory(relabelled);
        foreach (string png in Directory.GetFiles(Path.Combine(dir.Path, "test"), "*.png")) File.Copy(png, Path.Combine(relabelled, Path.GetFileName(png)));
        File.WriteAllLines(Path.Combine(relabelled, "labels.csv"), File.ReadAllLines(Path.Combine(dir.Path, "test", "labels.csv"))
            .Select((line, i) => i == 0 ? line : line[..line.IndexOf(',', StringComparison.Ordinal)] + ",3"));
        string[] calibration = ["--images", "12", "--max-splits", "1", "--codecs", "quant:bits=8,entropy=rans", "--jpeg", "90"];
        (code, _, stderr) = CliRunner.Run(["plan", "--model", b, "--data", relabelled, "--profile", dir.File("b-relabelled.json"), "--profile-only", .. calibration]);
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliRunner.Run(["plan", "--models", $"{a};{b}", "--profiles", $"{a}.profile-12.json;{dir.File("b-relabelled.json")}", "--link", "ble", .. calibration]);
        Assert.NotEqual(0, code);
        Assert.Contains("'fmnist-w8-d2' was calibrated on other images than 'fmnist-w4-d2' (12 vs 12 images, other files or labels)", stderr);
    }
}
