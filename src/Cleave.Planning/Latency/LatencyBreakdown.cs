namespace Cleave.Planning.Latency;

/// <summary>Predicted end-to-end latency of one request, by stage, in milliseconds.</summary>
public sealed record LatencyBreakdown(double DeviceMs, double EncodeMs, double UplinkMs, double RttMs, double ServerDecodeMs, double ServerMs, double DownlinkMs)
{
    public double TotalMs => DeviceMs + EncodeMs + UplinkMs + RttMs + ServerDecodeMs + ServerMs + DownlinkMs;
    public double NetworkMs => UplinkMs + RttMs + DownlinkMs;
}
