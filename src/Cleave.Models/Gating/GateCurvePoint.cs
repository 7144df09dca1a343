namespace Cleave.Models.Gating;

/// <summary>
/// What a gate (or one static configuration, or the oracle) gives over a set of inputs: mean frame bytes per request,
/// top-1 against the labels and agreement with the full model (fractions), and how many inputs took each configuration.
/// </summary>
public sealed record GateCurvePoint
{
    /// <summary>The gate's threshold; NaN for a static configuration or the oracle.</summary>
    public double Threshold { get; init; } = double.NaN;
    public string Name { get; init; } = "";
    public int Inputs { get; init; }
    public double MeanBytes { get; init; }
    public double Top1 { get; init; }
    public double Agreement { get; init; }
    public IReadOnlyList<int> Chosen { get; init; } = [];
}
