using System.Diagnostics;
using System.Globalization;
using Cleave.Cli.Infrastructure;
using Cleave.Training.Loop;
using Cleave.Training.Tasks;

namespace Cleave.Cli.Commands;

public sealed class TrainCommand : ICommand
{
    public string Name => "train";
    public string Summary => "train on CPU with TorchSharp and write ONNX that the usual ONNX Runtime path runs (docs/training.md)";
    public string Usage =>
        "usage: cleave train <kind> [options]\n" +
        "kinds:\n" +
        "  classifier          a small CNN (conv/BN/ReLU stages, a residual block, pooling, linear) written as ONNX\n" +
        "  bottleneck          a learned encoder/decoder at a split's cut (`cleave train bottleneck --help`)\n" +
        "  adapter             a client-side adapter for one user's camera (`cleave train adapter --help`)\n" +
        "  task-tail           another task's tail on a split's transmitted feature (`cleave train task-tail --help`)\n" +
        "  exit                an early exit at a split's cut, distilled, with a calibrated threshold (`cleave train exit --help`)\n" +
        "  gate                a per-input gate among codec settings at a split's cut (`cleave train gate --help`)\n" +
        "  error-aware         a server-side adapter trained on frames damaged by bit errors (`cleave train error-aware --help`)\n" +
        "  exit-cnn            Fashion-MNIST CNN with predefined-sparse layers, a cut and an early exit (`cleave train exit-cnn --help`)\n" +
        "options (classifier):\n" +
        "  --data D            fashion-mnist (Debian's dataset-fashion-mnist), or a labelled image folder as `cleave eval`\n" +
        "                      reads it (labels.csv, or <wnid>_name.JPEG with --wnids)\n" +
        "  --wnids FILE        class list for wnid-named images        --size N        image side for folders (default 64)\n" +
        "  --limit N           first N examples only                   --width C       first conv's channels (default 16)\n" +
        "  --validation F      fraction of the data held out for validation (default 0.1; keep evaluation images elsewhere)\n" +
        "  -o, --output M.onnx where the trained model is written\n" +
        TrainingOptionsHelp +
        "Progress (loss, accuracy, learning rate, ETA) goes to stderr; the summary to stdout (--json for scripts).\n";

    internal const string TrainingOptionsHelp =
        "  --steps N           optimizer steps (default 500)           --batch B       batch size (default 32)\n" +
        "  --optimizer O       adamw (default) or sgd                  --lr R          peak learning rate (default 1e-3)\n" +
        "  --weight-decay W    (default 1e-4)                          --momentum M    SGD momentum (default 0.9)\n" +
        "  --warmup N          linear warm-up steps before the cosine decay (default 0)\n" +
        "  --seed S            seeds initialisation, shuffling, split and augmentation (default 0): runs repeat exactly\n" +
        "  --augment           random resized crop, horizontal flip, colour jitter (image folders)\n" +
        "  --checkpoint F      checkpoint file (written atomically)     --checkpoint-every N (default 100)\n" +
        "  --resume            continue from --checkpoint when it exists\n" +
        "  --json              print the summary as JSON\n";

    internal static readonly string[] TrainingValueOptions =
        ["steps", "batch", "optimizer", "lr", "weight-decay", "momentum", "warmup", "seed", "checkpoint", "checkpoint-every"];

    public int Run(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0].StartsWith('-')) throw new UsageException("name what to train: cleave train classifier ...");
        string kind = args[0];
        var rest = args.Skip(1).ToList();
        return kind switch
        {
            "classifier" => RunClassifier(rest),
            _ => throw new UsageException($"unknown training kind '{kind}' (known: classifier, bottleneck, adapter, task-tail, exit, gate, error-aware, exit-cnn, fmnist-grid)"),
        };
    }

    private static int RunClassifier(IReadOnlyList<string> args)
    {
        var cl = new CommandLine(args, [.. TrainingValueOptions, "data", "wnids", "size", "limit", "width", "validation", "output"], ["augment", "resume", "json"]);
        var request = new ClassifierTrainingRequest
        {
            Data = cl.Require("data"),
            WnidsFile = cl.Get("wnids"),
            ImageSize = cl.GetInt("size", 64),
            Limit = cl.GetInt("limit", 0),
            Width = cl.GetInt("width", 16),
            ValidationFraction = cl.GetDouble("validation", 0.1),
            Augment = cl.Has("augment"),
            Options = ParseTrainingOptions(cl),
            OutputPath = cl.Require("output"),
        };
        ClassifierTrainingResult result;
        try
        {
            using var bar = new TrainingProgressBar();
            result = ClassifierTraining.Run(request, bar);
        }
        catch (TrainingDivergedException e)
        {
            Console.Error.WriteLine($"cleave train: {e.Message}");
            return 1;
        }
        var s = result.Summary;
        if (cl.Has("json"))
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("kind", "classifier");
                w.WriteString("output", result.OutputPath);
                w.WriteNumber("output_bytes", result.OutputBytes);
                w.WriteNumber("classes", result.Classes);
                w.WriteNumber("parameters", result.Parameters);
                WriteSummary(w, s);
                w.WriteEndObject();
            });
        else
        {
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(inv, $"trained   {s.Steps} steps ({s.Steps - s.ResumedFromStep} this run) in {s.Seconds:F1} s on {s.TrainExamples} examples"));
            Console.WriteLine(string.Create(inv, $"loss      {s.FirstLoss:F4} -> {s.LastLoss:F4} (first and last tenth of the steps)"));
            if (s.TrainAccuracy is double ta) Console.WriteLine(string.Create(inv, $"train     {ta:P1} top-1 (running, augmented)"));
            if (s.ValidationAccuracy is double va) Console.WriteLine(string.Create(inv, $"validate  {va:P1} top-1, loss {s.ValidationLoss:F4} on {s.ValidationExamples} held-out examples"));
            Console.WriteLine($"model     {result.OutputPath} ({result.OutputBytes:N0} bytes, {result.Parameters:N0} parameters, {result.Classes} classes)");
        }
        return 0;
    }

    internal static TrainingOptions ParseTrainingOptions(CommandLine cl)
    {
        var options = new TrainingOptions
        {
            Steps = cl.GetInt("steps", 500),
            BatchSize = cl.GetInt("batch", 32),
            Optimizer = cl.Get("optimizer") switch
            {
                null or "adamw" => OptimizerKind.AdamW,
                "sgd" => OptimizerKind.Sgd,
                var other => throw new UsageException($"--optimizer must be adamw or sgd, not '{other}'"),
            },
            LearningRate = cl.GetDouble("lr", 1e-3),
            WeightDecay = cl.GetDouble("weight-decay", 1e-4),
            Momentum = cl.GetDouble("momentum", 0.9),
            WarmupSteps = cl.GetInt("warmup", 0),
            Seed = cl.GetInt("seed", 0),
            CheckpointPath = cl.Get("checkpoint"),
            CheckpointEvery = cl.GetInt("checkpoint-every", 100),
            Resume = cl.Has("resume"),
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        return options;
    }

    internal static void WriteSummary(System.Text.Json.Utf8JsonWriter w, TrainingSummary s)
    {
        w.WriteNumber("steps", s.Steps);
        w.WriteNumber("resumed_from_step", s.ResumedFromStep);
        w.WriteNumberOrNull("first_loss", s.FirstLoss);
        w.WriteNumberOrNull("last_loss", s.LastLoss);
        w.WriteNumberOrNull("train_accuracy", s.TrainAccuracy ?? double.NaN);
        w.WriteNumberOrNull("validation_loss", s.ValidationLoss ?? double.NaN);
        w.WriteNumberOrNull("validation_accuracy", s.ValidationAccuracy ?? double.NaN);
        w.WriteNumber("train_examples", s.TrainExamples);
        w.WriteNumber("validation_examples", s.ValidationExamples);
        w.WriteNumber("seconds", s.Seconds);
    }
}

/// <summary>Training progress on stderr: a redrawn bar on a terminal, a line every few seconds when redirected.</summary>
internal sealed class TrainingProgressBar : IProgress<TrainingProgress>, IDisposable
{
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private readonly Stopwatch _sinceLine = Stopwatch.StartNew();

    public void Report(TrainingProgress p)
    {
        bool last = p.Step == p.TotalSteps;
        if (!_terminal && !last && _sinceLine.Elapsed < TimeSpan.FromSeconds(5)) return;
        _sinceLine.Restart();
        int filled = (int)(20 * p.Step / Math.Max(1, p.TotalSteps));
        string accuracy = p.Accuracy is double a ? string.Create(CultureInfo.InvariantCulture, $" acc {a:P1}") : "";
        string eta = p.Remaining is { } r ? $" ETA {(int)r.TotalMinutes}m{r.Seconds:D2}s" : "";
        string line = string.Create(CultureInfo.InvariantCulture,
            $"train [{new string('#', filled)}{new string('.', 20 - filled)}] {p.Step}/{p.TotalSteps} loss {p.Loss:F4}{accuracy} lr {p.LearningRate:G3}{eta}");
        if (_terminal) Console.Error.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth - 1, 110)));
        else Console.Error.WriteLine(line);
    }

    public void Dispose()
    {
        if (_terminal) Console.Error.WriteLine();
    }
}
