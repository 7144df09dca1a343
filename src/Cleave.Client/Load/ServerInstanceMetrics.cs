namespace Cleave.Runtime.Load;

/// <summary>One server instance's readings during a load test: its baseline (zeros when it started during the test) and latest.</summary>
public sealed record ServerInstanceMetrics(string ServerId, double FirstSeenSeconds, double LastSeenSeconds, MetricsSnapshot Baseline, MetricsSnapshot Latest)
{
    /// <summary>How much a series grew on this instance during the test.</summary>
    public double Delta(string series) => Latest[series] - Baseline[series];
}
