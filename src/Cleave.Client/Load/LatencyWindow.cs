namespace Cleave.Runtime.Load;

/// <summary>
/// Latency of the requests answered in one stretch of a load test (by answer time, seconds from the start of sending):
/// before, during and after an outage read apart, which one percentile over the whole test hides.
/// </summary>
public sealed record LatencyWindow(double StartSeconds, double EndSeconds, long Answered, double P50Ms, double P99Ms);
