namespace Cleave.Evaluation.Classification;

/// <summary>Everything a sweep measured: the unsplit model's accuracy, its size and compute, and every operating point.</summary>
public sealed record SweepResult
{
    public required string Model { get; init; }
    public required int Images { get; init; }

    /// <summary>Top-1 / top-5 of the unsplit model on the float input (the reference every point is compared to).</summary>
    public double FullTop1 { get; init; }
    public double FullTop5 { get; init; }
    public long TotalMacs { get; init; }
    public long TotalParams { get; init; }
    public double ElapsedSeconds { get; init; }
    public DateTime StartedUtc { get; init; }
    public required IReadOnlyList<OperatingPoint> Points { get; init; }
}
