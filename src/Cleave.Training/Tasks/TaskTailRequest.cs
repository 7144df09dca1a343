using Cleave.Training.Loop;

namespace Cleave.Training.Tasks;

/// <summary>What <see cref="TaskTailTraining"/> trains: a new task tail on a split's cut, from a labelled image folder.</summary>
public sealed record TaskTailRequest
{
    /// <summary>The split folder: its frozen head makes the features, and the new tail is added to its manifest.</summary>
    public required string SplitDirectory { get; init; }

    /// <summary>The task's name (a-z, 0-9, '-', '_'); a task of that name already in the folder is replaced.</summary>
    public required string TaskName { get; init; }

    /// <summary>Labelled training images (labels.csv, or wnid file names with <see cref="WnidsFile"/>).</summary>
    public required string Data { get; init; }

    public string? WnidsFile { get; init; }

    /// <summary>
    /// When set, the task is each image's coarse category, its class's WordNet hypernym at this depth (needs
    /// <see cref="WnidsFile"/>); otherwise the folder's own labels.
    /// </summary>
    public int? WordNetDepth { get; init; }

    public string WordNetPath { get; init; } = Cleave.Evaluation.Datasets.WordNetNouns.DefaultPath;

    /// <summary>Images never used in training, labelled like <see cref="Data"/>: the new tail and the default tail's answers are measured on them.</summary>
    public string? EvaluationData { get; init; }

    /// <summary>Channels of the tail's first convolution (the second has twice as many).</summary>
    public int Width { get; init; } = 64;

    public double ValidationFraction { get; init; } = 0.1;

    public required TrainingOptions Options { get; init; }
}
