using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models.EarlyExit;
using Cleave.Training.EarlyExit;

namespace Cleave.Cli.Commands;

public sealed class TrainExitCommand : ICommand
{
    public string Name => "train exit";
    public string Summary => "an early exit at a split's cut, distilled from the full model (no labels), with a calibrated threshold";
    public string Usage =>
        "usage: cleave train exit --split DIR --model M.onnx --data DIR [--eval-data DIR] [options] [--json]\n" +
        ClassificationDataOptions.Help + "\n" +
        "  --split DIR         the split folder: exit.onnx (reads the cut tensor) and exit.json (threshold, curve) are written into it\n" +
        "  --model M.onnx      the unsplit model the folder was cut from (preprocessing; the teacher)\n" +
        "  --eval-data DIR     images scored after training and calibration (never used for either): the exit-rate vs accuracy curve\n" +
        "  --hidden H          channels of the exit's 1x1 conv before pooling (default 256)\n" +
        "  --density D         connections kept in that conv: 1/G (predefined sparsity) or 1 (default)\n" +
        "  --epochs E          epochs over the cached features (default 30)   --batch N (default 32)   --lr X (AdamW, cosine; default 0.003)\n" +
        "  --temperature T     distillation temperature (default 2)\n" +
        "  --calibration F     share of --data held out to choose the threshold (default 0.2)\n" +
        "  --max-loss P        overall accuracy the threshold may cost on those images, in points (default 1)\n" +
        "  --no-flip           do not add mirrored copies of the training images\n" +
        "  --seed N            (default 1)";

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. ClassificationDataOptions.ValueOptions, "split", "eval-data", "hidden", "density", "epochs", "batch", "lr", "temperature",
            "calibration", "max-loss", "seed"], ["json", "no-flip"]);
        var (images, _) = ClassificationDataOptions.Load(cl);
        var evaluation = cl.Get("eval-data") is { } evalDir ? ClassificationDataOptions.LoadFolder(cl, evalDir) : null;
        var options = new SplitExitOptions
        {
            Hidden = cl.GetInt("hidden", 256),
            Density = TrainExitCnnCommand.ParseDensity(cl.Get("density") ?? "1"),
            Epochs = cl.GetInt("epochs", 30),
            BatchSize = cl.GetInt("batch", 32),
            LearningRate = cl.GetDouble("lr", 0.003),
            Temperature = cl.GetDouble("temperature", 2),
            CalibrationFraction = cl.GetDouble("calibration", 0.2),
            MaxLoss = cl.GetDouble("max-loss", 1) / 100,
            Flips = !cl.Has("no-flip"),
            Seed = cl.GetInt("seed", 1),
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var result = SplitExitTrainer.Train(cl.Require("model"), cl.Require("split"), images, evaluation, options, message => Console.Error.WriteLine(message));
        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("kind", "exit");
                w.WriteNumber("train_samples", result.TrainSamples);
                w.WriteNumber("first_kl", result.FirstLoss);
                w.WriteNumber("last_kl", result.LastLoss);
                w.WriteNumber("cache_seconds", result.CacheSeconds);
                w.WriteNumber("train_seconds", result.TrainSeconds);
                w.WritePropertyName("manifest");
                System.Text.Json.JsonSerializer.Serialize(w, result.Manifest, ExitManifest.JsonOptions);
                ExitCurveOutput.WriteJson(w, "evaluation", result.Evaluation, result.EvaluationAtThreshold);
                w.WriteEndObject();
            });
        else
        {
            var inv = CultureInfo.InvariantCulture;
            var c = result.Calibration;
            Console.WriteLine(string.Create(inv, $"exit      {result.Manifest.Parameters:N0} parameters, {result.Manifest.Macs:N0} MACs; KL {result.FirstLoss:F3} -> {result.LastLoss:F3} over {result.TrainSamples} samples"));
            Console.WriteLine(string.Create(inv, $"threshold {c.Threshold:0.####} on {c.Images} held-out images: exit rate {c.Chosen.ExitRate:P1}, accuracy {c.Chosen.Accuracy:P1} vs {c.FullAccuracy:P1} never exiting"));
            ExitCurveOutput.Print("evaluation images", result.Evaluation, result.EvaluationAtThreshold);
        }
        return 0;
    }
}
