namespace Cleave.Training.Loop;

/// <summary>Where a run is: reported after every step (the CLI draws its progress bar from it).</summary>
public sealed record TrainingProgress(long Step, long TotalSteps, double Loss, double? Accuracy, double LearningRate, TimeSpan Elapsed, TimeSpan? Remaining);

/// <summary>What a run did.</summary>
public sealed record TrainingSummary
{
    public long Steps { get; init; }
    public long ResumedFromStep { get; init; }
    /// <summary>Mean training loss over the first and the last tenth of the steps this run made.</summary>
    public double FirstLoss { get; init; }
    public double LastLoss { get; init; }
    public double? TrainAccuracy { get; init; }
    public double? ValidationLoss { get; init; }
    public double? ValidationAccuracy { get; init; }
    public int TrainExamples { get; init; }
    public int ValidationExamples { get; init; }
    public double Seconds { get; init; }
    public IReadOnlyList<double> LossHistory { get; init; } = [];
}
