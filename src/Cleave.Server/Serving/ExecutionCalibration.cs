namespace Cleave.Runtime.Serving;

/// <summary>What <see cref="ExecutionCalibrator"/> found: the plan it chose, every candidate's best rate, and how long it took.</summary>
public sealed record ExecutionCalibration(ExecutionPlan Chosen, IReadOnlyList<CalibrationTrial> Trials, TimeSpan Took);

/// <summary>One candidate plan and the most model samples per second it ran in any round.</summary>
public sealed record CalibrationTrial(ExecutionPlan Plan, double SamplesPerSecond);
