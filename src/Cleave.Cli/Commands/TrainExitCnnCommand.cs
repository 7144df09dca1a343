using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Models.EarlyExit;
using Cleave.Training.Loop;
using Cleave.Training.Tasks;

namespace Cleave.Cli.Commands;

public sealed class TrainExitCnnCommand : ICommand
{
    public string Name => "train exit-cnn";
    public string Summary => "Fashion-MNIST CNN from scratch: predefined-sparse trunk, a cut inside it and a distilled early exit, as a split folder";
    public string Usage =>
        "usage: cleave train exit-cnn -o SPLIT_DIR [--density D[,D,D,D]] [--width W] [--teacher M.onnx] [--exit-steps N] [--max-loss P] [options] [--json]\n" +
        "  -o, --output DIR    split folder written: model.onnx, split.json, head.onnx, tail.onnx, exit.onnx, exit.json\n" +
        "  --density D         connections kept in the four sparse 3x3 layers and the exit's conv: 1/G (default 1/8);\n" +
        "                      1 trains the dense network of the same shape (the comparison); four comma-separated\n" +
        "                      values set the layers W->2W, 2W->2W, 2W->4W, 4W->4W one by one (the exit takes the third's)\n" +
        "  --teacher M.onnx    also learn from a trained classifier's softened outputs (knowledge distillation), e.g.\n" +
        "                      the dense network's model.onnx; loss = (1-A) cross-entropy + A T² KL(teacher || trunk)\n" +
        "  --teacher-weight A  the teacher's share of the loss (default 0.5)   --temperature T   softening (default 4)\n" +
        "  --width W           stem channels; the trunk uses 2W and 4W (default 32)\n" +
        "  --exit-steps N      distillation steps of the exit head (no labels; default 300)\n" +
        "  --max-loss P        overall accuracy the exit may cost on the held-out images, in points (default 1)\n" +
        "  --calibration F     share of the 60,000 training images held out to calibrate the threshold (default 0.1)\n" +
        "  --limit N           first N training images only      --no-test   skip scoring the 10,000 test images\n" +
        TrainCommand.TrainingOptionsHelp +
        "Prints parameters, MACs (the repo's MAC counter), ONNX Runtime latency at batch 1, the calibration curve and the\n" +
        "test images' accuracy and exit rate at the chosen threshold.\n";

    /// <summary>One density for all four trunk layers, or four comma-separated ones (null for the single-value case).</summary>
    internal static (double Density, double[]? Layers) ParseDensities(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 1) return (ParseDensity(parts[0]), null);
        if (parts.Length != 4) throw new UsageException($"--density takes one value or four (one per trunk layer), not {parts.Length}");
        var layers = parts.Select(ParseDensity).ToArray();
        return (layers.Min(), layers);
    }

    /// <summary>"1/G" or a decimal: "1/6" is exact where 0.1667 is not.</summary>
    internal static double ParseDensity(string text)
    {
        var inv = CultureInfo.InvariantCulture;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && double.TryParse(text[..slash], NumberStyles.Float, inv, out double num) && double.TryParse(text[(slash + 1)..], NumberStyles.Float, inv, out double den) && den > 0)
            return num / den;
        if (double.TryParse(text, NumberStyles.Float, inv, out double value)) return value;
        throw new UsageException($"--density takes 1/G or a number in (0, 1], not '{text}'");
    }

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. TrainCommand.TrainingValueOptions, "output", "density", "width", "teacher", "teacher-weight", "temperature", "exit-steps", "max-loss", "calibration", "limit"],
            ["json", "no-test", "resume", "augment"]);
        var (density, layerDensities) = ParseDensities(cl.Get("density") ?? "1/8");
        var request = new ExitCnnRequest
        {
            Density = density,
            LayerDensities = layerDensities,
            TeacherPath = cl.Get("teacher"),
            TeacherWeight = cl.GetDouble("teacher-weight", 0.5),
            Temperature = cl.GetDouble("temperature", 4),
            Width = cl.GetInt("width", 32),
            ExitSteps = cl.GetInt("exit-steps", 300),
            MaxLoss = cl.GetDouble("max-loss", 1) / 100,
            CalibrationFraction = cl.GetDouble("calibration", 0.1),
            Limit = cl.GetInt("limit", 0),
            Test = !cl.Has("no-test"),
            Options = TrainCommand.ParseTrainingOptions(cl),
            OutputDirectory = cl.Require("output"),
        };
        ExitCnnResult result;
        try
        {
            using var bar = new TrainingProgressBar();
            result = ExitCnnTraining.Run(request, bar, message => Console.Error.WriteLine(message));
        }
        catch (TrainingDivergedException e)
        {
            Console.Error.WriteLine($"cleave train: {e.Message}");
            return 1;
        }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var c = result.Cost;
        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("kind", "exit-cnn");
                w.WriteString("output", result.OutputDirectory);
                w.WriteNumber("density", request.Density);
                w.WriteStartArray("densities");
                foreach (double d in request.TrunkDensities()) w.WriteNumberValue(d);
                w.WriteEndArray();
                if (request.TeacherPath is not null)
                {
                    w.WriteString("teacher", request.TeacherPath);
                    w.WriteNumber("teacher_weight", request.TeacherWeight);
                    w.WriteNumber("temperature", request.Temperature);
                }
                w.WriteNumber("seconds", result.Seconds);
                w.WriteStartObject("trunk");
                TrainCommand.WriteSummary(w, result.Trunk);
                w.WriteEndObject();
                w.WriteStartObject("exit");
                TrainCommand.WriteSummary(w, result.Exit);
                w.WriteEndObject();
                w.WritePropertyName("cost");
                System.Text.Json.JsonSerializer.Serialize(w, c, JsonNames.SnakeCase);
                w.WritePropertyName("calibration");
                System.Text.Json.JsonSerializer.Serialize(w, result.Calibration, ExitManifest.JsonOptions);
                ExitCurveOutput.WriteJson(w, "test", result.Test, result.TestAtThreshold);
                w.WriteEndObject();
            });
        else
        {
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(inv, $"network   densities {string.Join(", ", request.TrunkDensities())}: {c.Parameters:N0} parameters, {c.Macs:N0} MACs ({c.HeadMacs:N0} on the device), ONNX {c.OnnxBytes:N0} B, ORT {c.OrtMilliseconds:F3} ms at batch 1"));
            Console.WriteLine(string.Create(inv, $"exit      {c.ExitParameters:N0} parameters, {c.ExitMacs:N0} MACs; threshold {result.Calibration.Threshold:0.####} (calibration: exit rate {result.Calibration.Chosen.ExitRate:P1}, accuracy {result.Calibration.Chosen.Accuracy:P2} vs {result.Calibration.FullAccuracy:P2})"));
            ExitCurveOutput.Print("test images", result.Test, result.TestAtThreshold);
            Console.WriteLine($"split     {result.OutputDirectory} in {result.Seconds:F0} s");
        }
        return 0;
    }
}
