namespace Cleave.Planning.Adaptation;

/// <summary>
/// Tracks the uplink rate and round-trip time a client sees, from its own requests. Each request gives the network
/// share of its latency (client total minus device and server compute, which the client knows); subtracting the
/// current RTT estimate leaves the uplink serialization time of the request's bytes. RTT samples come from requests
/// whose payload is too small to take measurable uplink time (probes). Both are exponentially weighted so that a
/// link change shows within a few requests while one slow request does not.
/// </summary>
public sealed class LinkEstimator
{
    private readonly double _weight;

    /// <param name="initialUplinkKbps">Starting uplink estimate (the planned link).</param>
    /// <param name="initialRttMs">Starting RTT estimate.</param>
    /// <param name="weight">Weight of a new sample (0..1]; 0.5 follows a change within about three requests.</param>
    public LinkEstimator(double initialUplinkKbps, double initialRttMs, double weight = 0.5)
    {
        if (!(weight > 0 && weight <= 1)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "the sample weight must be in (0, 1]");
        if (!(initialUplinkKbps > 0)) throw new ArgumentOutOfRangeException(nameof(initialUplinkKbps), initialUplinkKbps, "the initial uplink rate must be positive");
        _weight = weight;
        UplinkKbps = initialUplinkKbps;
        RttMs = Math.Max(0, initialRttMs);
    }

    public double UplinkKbps { get; private set; }
    public double RttMs { get; private set; }
    public int Samples { get; private set; }

    /// <summary>A round-trip sample (a request with a negligible payload, or a probe).</summary>
    public void ObserveRtt(double rttMs)
    {
        if (!(rttMs >= 0) || double.IsInfinity(rttMs)) return;
        RttMs += _weight * (rttMs - RttMs);
    }

    /// <summary>A request that sent <paramref name="bytes"/> and spent <paramref name="networkMs"/> on the network in all.</summary>
    public void ObserveTransfer(long bytes, double networkMs)
    {
        if (bytes <= 0 || !(networkMs >= 0) || double.IsInfinity(networkMs)) return;
        // Floor the serialization time: a request faster than the RTT estimate says the RTT fell, not that the link is infinitely fast.
        double serializationMs = Math.Max(networkMs - RttMs, 0.05 * networkMs + 0.01);
        double kbps = bytes * 8 / serializationMs; // bits per ms = kbit/s
        // Average in the time domain (ms per kbit), so a few fast samples cannot swamp a slow link.
        double msPerKbit = 1 / UplinkKbps + _weight * (1 / kbps - 1 / UplinkKbps);
        UplinkKbps = 1 / msPerKbit;
        Samples++;
    }
}
