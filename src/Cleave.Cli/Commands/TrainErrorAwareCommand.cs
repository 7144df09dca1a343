using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Training.Resilience;

namespace Cleave.Cli.Commands;

public sealed class TrainErrorAwareCommand : ICommand
{
    public string Name => "train error-aware";
    public string Summary => "a server-side adapter before the tail, trained on resilient frames damaged by a bit-error channel (SemanticNN-style)";
    public string Usage =>
        "usage: cleave train error-aware --split DIR --model M.onnx --data DIR -o SPLIT_DIR [options] [--json]\n" +
        ClassificationDataOptions.Help + "\n" +
        "  --split DIR         the split folder (head.onnx and the bytes on the wire stay as they are)\n" +
        "  --model M.onnx      the unsplit model the folder was cut from (preprocessing; the teacher on the clean image)\n" +
        "  -o, --output DIR    the split folder written: tail.onnx = the error-aware adapter + the tail\n" +
        "  --ber P[,P...]      bit-error rates the training frames cross (default 1e-4,1e-3; copies take them in turn)\n" +
        "  --ber-burst L[,L]   also train on each rate as bursts of mean length L bits\n" +
        "  --codec SPEC        the plain codec inside the resilient frame (default rans-ifc:bits=3,levels=6,clip=3,ctx=2d)\n" +
        "  --resilient OPTS    the resilient layout (default planes=1,rows=14; concealment as the frame records it)\n" +
        "  --copies N          damaged copies of every sample (default 2)\n" +
        "  --rank R            adapter channels (1x1 down to R, 3x3, 1x1 up, zero-initialised; default 16)\n" +
        "  --epochs E          epochs (default 2)   --batch N (default 16)   --lr X (AdamW, cosine; default 0.001)\n" +
        "  --max-seconds S     stop training after S seconds (0: no limit)   --max-steps N  stop after N steps\n" +
        "  --val F             share of the images held out for validation (default 0.1)\n" +
        "  --no-flip           do not add mirrored copies of the training images\n" +
        "  --as-task NAME      also add the error-aware tail to --split as task NAME (task-NAME.onnx): a server then answers\n" +
        "                      `client --tasks NAME` requests from it; the training channels are recorded with the task, and\n" +
        "                      `client --ber P` names it by itself when P is bad enough (docs/resilience.md)\n" +
        "  --seed N            (default 1)";

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. ClassificationDataOptions.ValueOptions, "split", "output", "ber", "ber-burst", "codec", "resilient", "copies", "rank",
            "epochs", "batch", "lr", "max-seconds", "max-steps", "val", "seed", "as-task"], ["json", "no-flip"]);
        var options = new ErrorAwareOptions
        {
            Channels = EvalBitErrors.ParseChannels(cl.Get("ber") ?? "1e-4,1e-3", cl.Get("ber-burst")),
            Codec = cl.Get("codec") ?? "rans-ifc:bits=3,levels=6,clip=3,ctx=2d",
            Resilient = cl.Get("resilient") ?? "planes=1,rows=14",
            Copies = cl.GetInt("copies", 2),
            Rank = cl.GetInt("rank", 16),
            Epochs = cl.GetInt("epochs", 2),
            BatchSize = cl.GetInt("batch", 16),
            LearningRate = cl.GetDouble("lr", 1e-3),
            MaxSeconds = cl.GetDouble("max-seconds", 0),
            MaxSteps = cl.GetInt("max-steps", 0),
            ValidationFraction = cl.GetDouble("val", 0.1),
            Flips = !cl.Has("no-flip"),
            Seed = cl.GetInt("seed", 1),
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var (images, _) = ClassificationDataOptions.Load(cl);
        ErrorAwareResult r;
        try { r = ErrorAwareTrainer.Train(cl.Require("split"), cl.Require("model"), images, cl.Require("output"), options, m => Console.Error.WriteLine(m)); }
        catch (FormatException e) { throw new UsageException(e.Message); }
        string? task = cl.Get("as-task");
        if (task is not null)
        {
            try { ErrorAwareTask.Add(cl.Require("split"), Path.Combine(r.OutputDirectory, "tail.onnx"), task, options.Channels); }
            catch (InvalidDataException e) { throw new UsageException($"--as-task: {e.Message}"); }
            Console.Error.WriteLine($"added task '{task}' to {cl.Require("split")}");
        }
        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("kind", "error-aware");
                w.WriteString("output", r.OutputDirectory);
                w.WriteString("manifest_hash", r.ManifestHash);
                w.WriteNumber("parameters", r.TrainableParameters);
                w.WriteNumber("train_samples", r.TrainSamples);
                w.WriteNumber("damaged_samples", r.DamagedSamples);
                w.WriteNumber("groups_concealed_percent", r.ConcealedGroupsPercent);
                w.WriteNumber("validation_samples", r.ValidationSamples);
                w.WriteNumber("agreement_before", r.AgreementBefore);
                w.WriteNumber("agreement_after", r.AgreementAfter);
                w.WriteNumber("first_kl", r.FirstLoss);
                w.WriteNumber("last_kl", r.LastLoss);
                w.WriteNumber("steps", r.Steps);
                w.WriteNumber("cache_seconds", r.CacheSeconds);
                w.WriteNumber("train_seconds", r.TrainSeconds);
                w.WriteEndObject();
            });
        else
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.OutputDirectory}: error-aware adapter ({r.TrainableParameters:N0} parameters) before the tail; {r.Steps} steps on {r.DamagedSamples} damaged copies of {r.TrainSamples} samples " +
                $"({r.ConcealedGroupsPercent:F1} % of groups concealed), KL {r.FirstLoss:F3} -> {r.LastLoss:F3}; validation agreement {r.AgreementBefore:P1} -> {r.AgreementAfter:P1} " +
                $"({r.ValidationSamples} damaged samples); cache {r.CacheSeconds:F0} s, training {r.TrainSeconds:F0} s"));
        return 0;
    }
}
