using Cleave.Cli.Infrastructure;
using Cleave.Evaluation.Classification;
using Cleave.Evaluation.Reports;
using Cleave.Models.Preprocessing;

namespace Cleave.Cli.Commands;

public sealed class EvalCommand : ICommand
{
    public string Name => "eval";
    public string Summary => "accuracy, bytes and device compute of a split image classifier with codecs at the cut, and of the image baselines";
    public string Usage => "usage: cleave eval --model M.onnx --data DIR [--split T | --split-dir DIR] [--codec \"SPEC[;SPEC...]\"] [--baseline \"B[;B...]\"]\n" +
        "                  [--exit-threshold T|calibrated|off] [--report DIR] [--json]\n" +
        ClassificationDataOptions.Help + "\n" +
        "  --split T           cut tensor (see `cleave inspect`); the float32 tensor (raw) is always measured there\n" +
        "  --split-dir DIRS    split folder(s) (head.onnx, tail.onnx, split.json: from `cleave split`, or trained with\n" +
        "                      `cleave train`), ';'-separated, measured against the unsplit M like a --split\n" +
        "  --exit-threshold T  a split folder's early exit (exit.json, from `cleave train exit`) runs on the device side for\n" +
        "                      each image at confidence T in [0, 1], 'calibrated' (the threshold stored with the split) or 'off'.\n" +
        "                      Default: the calibrated threshold wherever a --split-dir has an exit. An exited image sends 0 bytes;\n" +
        "                      the output adds the exit rate, top-1 of exited and sent images, bytes and tail work saved.\n" +
        "  --report DIR        also write DIR/report.html (as `cleave sweep --report`; with an exit: its stored exit-rate vs\n" +
        "                      accuracy curve and the measured point), results.json, results.csv and the PNG plots\n" +
        "  --codec SPECS       codec(s) for the cut tensor, ';'-separated, {a,b} expands (default raw)\n" +
        "  --baseline B        local (whole model on the device, 0 bytes), jpeg:q=Q, webp:q=Q (input image cropped and resized to\n" +
        "                      the model input, encoded at quality Q, whole model on the server); ';'-separated, {a,b} expands.\n" +
        "                      Without --split and --baseline: local.\n" +
        "  --shift SPEC        a different camera applied to every image before preprocessing: blur=S,noise=N,gain=G[,seed=K]\n" +
        "                      (Gaussian blur S px, gain G, Gaussian noise N levels after the gain; docs/training.md)\n" +
        "Reports top-1, top-5, agreement with the unsplit model's top-1, mean KL divergence to the unsplit output, bytes per\n" +
        "sample (mean, p95; frame headers included), head parameters and MACs (device side) and head / encode / decode / tail ms.\n" +
        EvalBitErrors.Help + "\n" +
        EvalTasks.Usage;

    public int Run(IReadOnlyList<string> args)
    {
        (string task, args) = EvalTasks.Take(args);
        if (task != "classification") return EvalTasks.Run(task, args);
        var cl = new CommandLine(args, [.. ClassificationDataOptions.ValueOptions, "split", "split-dir", "codec", "baseline", "shift", "exit-threshold", "report", .. EvalBitErrors.ValueOptions], ["json"]);
        if (cl.Get("model") is { } model && File.Exists(Path.Combine(model, "split.json")))
            throw new UsageException($"--model '{model}' is a split folder: pass it with --split-dir (and --model the unsplit .onnx it was cut from)");
        string? split = cl.Get("split"), splitDirs = cl.Get("split-dir");
        if (cl.Has("ber")) return EvalBitErrors.Run(cl, split);
        bool anyCut = split is not null || splitDirs is not null;
        if (!anyCut && cl.Has("codec")) throw new UsageException("--codec applies at a cut: give --split or --split-dir too");
        string? baselines = cl.Get("baseline") ?? (anyCut ? null : "local");
        ExitThresholdChoice exitThreshold;
        try { exitThreshold = ExitThresholdChoice.Parse(cl.Get("exit-threshold")); }
        catch (FormatException e) { throw new UsageException($"--exit-threshold: {e.Message}"); }
        if (exitThreshold.Given && !exitThreshold.Off && splitDirs is null)
            throw new UsageException("--exit-threshold applies to a split folder with an exit: give --split-dir");
        SweepGrid grid;
        try { grid = SweepGrid.Parse(split, anyCut ? cl.Get("codec") ?? "raw" : null, baselines, splitDirs) with { ExitThreshold = exitThreshold }; }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var (images, spec) = ClassificationDataOptions.Load(cl);
        CameraShift? shift;
        try { shift = cl.Get("shift") is { } shiftText ? CameraShift.Parse(shiftText) : null; }
        catch (FormatException e) { throw new UsageException($"--shift: {e.Message}"); }

        SweepResult result;
        using (var progress = new Progress("eval", images.Count))
            result = ClassificationSweep.Run(cl.Require("model"), grid, images, spec, progress.Report, shift);

        if (cl.Get("report") is { } report)
        {
            var files = SweepReport.Write(result, report, "cleave eval " + string.Join(' ', args.Select(SweepCommand.Quote)));
            Console.Error.WriteLine($"wrote {files.Count} files to {report} (open {Path.Combine(report, "report.html")})");
        }
        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartArray();
                // One object per point; the unsplit reference repeats in each so a row stands alone.
                foreach (var p in result.Points)
                    SweepJson.WritePoint(w, p, extra: x =>
                    {
                        x.WriteNumber("full_top1", result.FullTop1);
                        x.WriteNumber("total_macs", result.TotalMacs);
                    });
                w.WriteEndArray();
            });
        else
            SweepTable.Print(result);
        return 0;
    }
}
