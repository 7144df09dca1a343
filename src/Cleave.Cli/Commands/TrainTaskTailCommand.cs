using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Training.Loop;
using Cleave.Training.Tasks;

namespace Cleave.Cli.Commands;

public sealed class TrainTaskTailCommand : ICommand
{
    public string Name => "train task-tail";
    public string Summary => "train another task's tail on the transmitted feature of a split's frozen head and add it to the split folder";
    public string Usage =>
        "usage: cleave train task-tail --split DIR --name TASK --data DIR [--wnids FILE] [--wordnet-depth N] [--eval DIR] [options] [--json]\n" +
        "  --split DIR         the split folder: its head makes the features; task-TASK.onnx and its labels are written\n" +
        "                      there and split.json lists the task (the manifest hash stays: clients keep working)\n" +
        "  --name TASK         the task's name (a-z, 0-9, '-', '_'); a task of that name is replaced\n" +
        "  --data DIR          labelled training images (labels.csv, or <wnid>_name.JPEG with --wnids)\n" +
        "  --wnids FILE        class list for wnid-named images\n" +
        "  --wordnet-depth N   the task is each image's coarse category: its class's WordNet hypernym at depth N (0 = entity;\n" +
        "                      6 gives ImageNet's 1000 classes 83 categories); needs --wnids and WordNet 3.0 (Debian wordnet-base)\n" +
        "  --wordnet FILE      WordNet's data.noun (default /usr/share/wordnet/data.noun)\n" +
        "  --eval DIR          images never trained on: the new tail's top-1 beside the default tail's answer mapped to the task\n" +
        "  --width C           channels of the tail's first conv (default 64; the second has 2C)\n" +
        "  --validation F      fraction of --data held out for validation (default 0.1)\n" +
        TrainCommand.TrainingOptionsHelp +
        "Progress goes to stderr; the summary to stdout (--json for scripts).\n";

    public int Run(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. TrainCommand.TrainingValueOptions, "split", "name", "data", "wnids", "wordnet-depth", "wordnet", "eval", "width", "validation"],
            ["augment", "resume", "json"]);
        if (cl.Has("augment")) throw new UsageException("--augment does not apply: the head's features are computed once and cached");
        var request = new TaskTailRequest
        {
            SplitDirectory = cl.Require("split"),
            TaskName = cl.Require("name"),
            Data = cl.Require("data"),
            WnidsFile = cl.Get("wnids"),
            WordNetDepth = cl.Get("wordnet-depth") is null ? null : cl.GetInt("wordnet-depth", 6),
            WordNetPath = cl.Get("wordnet") ?? Cleave.Evaluation.Datasets.WordNetNouns.DefaultPath,
            EvaluationData = cl.Get("eval"),
            Width = cl.GetInt("width", 64),
            ValidationFraction = cl.GetDouble("validation", 0.1),
            Options = TrainCommand.ParseTrainingOptions(cl),
        };
        TaskTailResult result;
        try
        {
            using var bar = new TrainingProgressBar();
            result = TaskTailTraining.Run(request, bar, Console.Error.WriteLine);
        }
        catch (Exception e) when (e is TrainingDivergedException or ArgumentException or InvalidDataException or NotSupportedException or FileNotFoundException)
        {
            Console.Error.WriteLine($"cleave train task-tail: {e.Message}");
            return 1;
        }
        var s = result.Summary;
        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("kind", "task-tail");
                w.WriteString("task", request.TaskName);
                w.WriteString("output", result.TaskFile);
                w.WriteNumber("classes", result.Classes);
                w.WriteNumber("parameters", result.Parameters);
                w.WriteNumber("cache_seconds", result.CacheSeconds);
                w.WriteNumber("evaluation_images", result.EvaluationImages);
                w.WriteNumberOrNull("evaluation_top1", result.EvaluationTop1 ?? double.NaN);
                w.WriteNumberOrNull("default_tail_top1", result.DefaultTailTop1 ?? double.NaN);
                w.WriteNumberOrNull("majority_top1", result.MajorityTop1 ?? double.NaN);
                TrainCommand.WriteSummary(w, s);
                w.WriteEndObject();
            });
        else
        {
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(inv, $"trained   {s.Steps} steps in {s.Seconds:F1} s on {s.TrainExamples} cached features (caching {result.CacheSeconds:F1} s)"));
            Console.WriteLine(string.Create(inv, $"loss      {s.FirstLoss:F4} -> {s.LastLoss:F4} (first and last tenth of the steps)"));
            if (s.ValidationAccuracy is double va) Console.WriteLine(string.Create(inv, $"validate  {va:P1} top-1 on {s.ValidationExamples} held-out training images"));
            Console.WriteLine($"task      '{request.TaskName}': {result.TaskFile} ({result.Parameters:N0} parameters, {result.Classes} classes)");
            if (result.EvaluationTop1 is double top1)
            {
                string fromDefault = result.DefaultTailTop1 is double d ? string.Create(inv, $", default tail's top class mapped to the task {d:P1}") : "";
                Console.WriteLine(string.Create(inv, $"evaluate  {result.EvaluationImages} images: new tail {top1:P1} top-1{fromDefault}, always the most frequent class {result.MajorityTop1:P1}"));
            }
        }
        return 0;
    }
}
