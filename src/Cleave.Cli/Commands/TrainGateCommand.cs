using System.Globalization;
using System.Text.Json;
using Cleave.Cli.Infrastructure;
using Cleave.Models.Gating;
using Cleave.Training.Gating;

namespace Cleave.Cli.Commands;

public sealed class TrainGateCommand : ICommand
{
    public string Name => "train gate";
    public string Summary => "a per-input gate that picks, on the device, the cheapest codec setting of a ladder whose answer agrees with the full model";
    public string Usage =>
        "usage: cleave train gate --split DIR --model M.onnx --data DIR --codecs \"A;B;C\" [--eval-data DIR] [options] [--json]\n" +
        ClassificationDataOptions.Help + "\n" +
        "  --split DIR         the split folder: gate.onnx (reads the cut tensor) and gate.json (ladder, threshold, curve) are written into it\n" +
        "  --model M.onnx      the unsplit model the folder was cut from (preprocessing; the reference answers)\n" +
        "  --codecs \"A;B;...\"  the ladder: codec specs at the cut, cheapest first (at least two)\n" +
        "  --eval-data DIR     images scored after training and calibration (never used for either): the gate vs every static setting\n" +
        "  --hidden H          channels of the gate's 1x1 conv before pooling (default 32)\n" +
        "  --epochs E          epochs over the cached features (default 40)   --batch N (default 32)   --lr X (AdamW, cosine; default 0.003)\n" +
        "  --calibration F     share of --data held out to choose the threshold (default 0.2)\n" +
        "  --max-loss P        top-1 the threshold may lose against the best static setting on those images, in points (default 0)\n" +
        "  --no-flip           do not add mirrored copies of the training images\n" +
        "  --latency-runs N    timed runs of the gate (one ONNX Runtime thread) for its device cost (default 50; the head gets N/5)\n" +
        "  --seed N            (default 1)";

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. ClassificationDataOptions.ValueOptions, "split", "eval-data", "codecs", "hidden", "epochs", "batch", "lr",
            "calibration", "max-loss", "latency-runs", "seed"], ["json", "no-flip"]);
        var (images, _) = ClassificationDataOptions.Load(cl);
        var evaluation = cl.Get("eval-data") is { } evalDir ? ClassificationDataOptions.LoadFolder(cl, evalDir) : null;
        var options = new GateOptions
        {
            Codecs = [.. cl.Require("codecs").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            Hidden = cl.GetInt("hidden", 32),
            Epochs = cl.GetInt("epochs", 40),
            BatchSize = cl.GetInt("batch", 32),
            LearningRate = cl.GetDouble("lr", 0.003),
            CalibrationFraction = cl.GetDouble("calibration", 0.2),
            MaxLoss = cl.GetDouble("max-loss", 0) / 100,
            Flips = !cl.Has("no-flip"),
            LatencyRuns = cl.GetInt("latency-runs", 50),
            Seed = cl.GetInt("seed", 1),
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        GateTrainingResult result;
        try { result = GateTrainer.Train(cl.Require("model"), cl.Require("split"), images, evaluation, options, message => Console.Error.WriteLine(message)); }
        catch (FormatException e) { throw new UsageException(e.Message); }
        if (cl.Has("json")) PrintJson(result);
        else Print(result);
        return 0;
    }

    private static void PrintJson(GateTrainingResult r) => Json.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("kind", "gate");
        w.WriteNumber("train_samples", r.TrainSamples);
        w.WritePropertyName("label_counts");
        JsonSerializer.Serialize(w, r.LabelCounts);
        w.WriteNumber("first_loss", r.FirstLoss);
        w.WriteNumber("last_loss", r.LastLoss);
        w.WriteNumber("cache_seconds", r.CacheSeconds);
        w.WriteNumber("train_seconds", r.TrainSeconds);
        w.WriteNumber("head_macs", r.HeadMacs);
        w.WriteNumber("head_ms", r.HeadMilliseconds);
        w.WriteNumber("gate_ms", r.GateMilliseconds);
        w.WritePropertyName("manifest");
        JsonSerializer.Serialize(w, r.Manifest, GateManifest.JsonOptions);
        if (r.Evaluation is { } e)
        {
            w.WritePropertyName("evaluation");
            JsonSerializer.Serialize(w, e, GateManifest.JsonOptions);
            w.WritePropertyName("evaluation_at_threshold");
            JsonSerializer.Serialize(w, e.Chosen, GateManifest.JsonOptions);
        }
        w.WriteEndObject();
    });

    private static void Print(GateTrainingResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var m = r.Manifest;
        Console.WriteLine(string.Create(inv, $"gate      {m.Parameters:N0} parameters, {m.Macs:N0} MACs ({100.0 * m.Macs / Math.Max(1, r.HeadMacs):F2} % of the head's {r.HeadMacs:N0}); " +
            $"{r.GateMilliseconds:F3} ms vs the head's {r.HeadMilliseconds:F1} ms (ONNX Runtime, one thread)"));
        Console.WriteLine(string.Create(inv, $"training  {r.TrainSamples} samples, labels (cheapest agreeing) {string.Join(" / ", r.LabelCounts)}; cross-entropy {r.FirstLoss:F3} -> {r.LastLoss:F3}"));
        Console.WriteLine(string.Create(inv, $"threshold {m.Threshold:0.###} on {m.Calibration.Inputs} held-out images"));
        for (int k = 0; k < m.Codecs.Count; k++) Console.WriteLine($"  {k}: {m.Codecs[k]}");
        if (r.Evaluation is { } e) PrintEvaluation(e);
    }

    private static void PrintEvaluation(GateEvaluation e)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"evaluation images: {e.Inputs}");
        Console.WriteLine("| configuration | threshold | bytes/request | top-1 % | agreement % | chosen per setting |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var p in e.Static.Append(e.Oracle).Concat(e.Curve))
            Console.WriteLine(string.Create(inv, $"| {(p == e.Chosen ? "**gate (calibrated)**" : p.Name)} | {(double.IsNaN(p.Threshold) ? "" : p.Threshold.ToString("0.###", inv))} | {p.MeanBytes:F0} | {100 * p.Top1:F1} | {100 * p.Agreement:F1} | {string.Join(" / ", p.Chosen)} |"));
        var best = e.BestStatic;
        var equal = e.CheapestReaching(best.Top1);
        Console.WriteLine(string.Create(inv, $"best static: {best.Name} {best.MeanBytes:F0} B at {100 * best.Top1:F1} %; calibrated gate {e.Chosen.MeanBytes:F0} B at {100 * e.Chosen.Top1:F1} % " +
            $"({100 * (e.Chosen.MeanBytes / best.MeanBytes - 1):+0.0;-0.0} % bytes)"));
        if (equal is not null)
            Console.WriteLine(string.Create(inv, $"cheapest gate threshold reaching the best static top-1 on these images: {equal.Threshold:0.###}, {equal.MeanBytes:F0} B ({100 * (equal.MeanBytes / best.MeanBytes - 1):+0.0;-0.0} %)"));
    }
}
