using Cleave.Runtime.Links;

namespace Cleave.Planning.Planner;

/// <summary>What the planner minimises among the configurations that meet the budgets.</summary>
public enum PlanObjective
{
    /// <summary>End-to-end latency of one request.</summary>
    Latency,

    /// <summary>Server compute per request (more clients per server); latency breaks ties.</summary>
    ServerTime,

    /// <summary>Uplink bytes per request (metered links, battery); latency breaks ties.</summary>
    Bytes,

    /// <summary>
    /// Top-1 on the calibration images (the smallest drop); latency breaks ties. With a latency SLO this is NASC's
    /// question, the most accurate configuration (across models, with <see cref="ModelSet"/>) that meets the threshold.
    /// </summary>
    Accuracy,
}

/// <summary>The budgets: the link, the largest acceptable top-1 drop in percentage points, an optional latency SLO.</summary>
public sealed record PlanRequest(LinkProfile Link, double MaxDropPoints, double? SloMs = null, PlanObjective Objective = PlanObjective.Latency)
{
    public static PlanObjective ParseObjective(string text) => text.ToLowerInvariant() switch
    {
        "latency" => PlanObjective.Latency,
        "server-time" => PlanObjective.ServerTime,
        "bytes" => PlanObjective.Bytes,
        "accuracy" => PlanObjective.Accuracy,
        _ => throw new ArgumentException($"unknown objective '{text}'; known: latency, server-time, bytes, accuracy"),
    };

    public static string Name(PlanObjective objective) => objective switch
    {
        PlanObjective.ServerTime => "server-time",
        PlanObjective.Bytes => "bytes",
        PlanObjective.Accuracy => "accuracy",
        _ => "latency",
    };
}
