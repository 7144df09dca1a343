using Cleave.Planning.Planner;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Latency;

/// <summary>
/// The additive latency model: device compute + encode + serialization of the request on the uplink + one round trip
/// + server decode + server compute + serialization of the reply on the downlink. Requests run one at a time (no
/// pipelining), so nothing overlaps. <see cref="RequestOverheadBytes"/> is what the transport adds to each payload
/// (gRPC message and HTTP/2 frame headers, request id, options). On a lossy link each direction also carries the
/// mean retransmission delay of its message (<see cref="LinkShaper.ExpectedLossDelay"/>: lost segments x RTO), so a
/// big frame on a lossy link pays for its many segments. A configuration with an early exit is the expectation over
/// its requests: the exited share stops after the device's head and exit, the rest takes the whole path.
/// </summary>
public static class LatencyModel
{
    public const int RequestOverheadBytes = 48;

    public static LatencyBreakdown Predict(Configuration c, LinkProfile link)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(link);
        if (!c.UsesNetwork) return new LatencyBreakdown(c.DeviceMs, 0, 0, 0, 0, 0, 0);
        long requestBytes = (long)Math.Ceiling(c.BytesMean) + RequestOverheadBytes;
        double uplink = 1000 * link.UplinkSeconds(requestBytes) + LinkShaper.ExpectedLossDelay(link, requestBytes).TotalMilliseconds;
        double downlink = 1000 * link.DownlinkSeconds(c.ResultBytes) + LinkShaper.ExpectedLossDelay(link, c.ResultBytes).TotalMilliseconds;
        // With an early exit every request pays the device side (head, exit, and the encode, which SplitHead.Encode
        // does even for an exited request) and only the sent share pays the network and the server: the expected
        // latency mixes the device-only and the full path.
        double sent = c.SendRate;
        return new LatencyBreakdown(c.DeviceMs + c.ExitMs, c.EncodeMs, sent * uplink, sent * link.RttMs, sent * c.ServerDecodeMs, sent * c.ServerMs, sent * downlink);
    }

    /// <summary>
    /// Predicted total for a link given only by its measured uplink rate and round-trip time (downlink as the uplink).
    /// No loss term: a rate measured from real transfers already contains the retransmissions.
    /// </summary>
    public static double PredictTotal(Configuration c, double uplinkKbps, double rttMs) =>
        Predict(c, new LinkProfile("measured", uplinkKbps, Math.Max(uplinkKbps, 1), rttMs, 0)).TotalMs;
}
