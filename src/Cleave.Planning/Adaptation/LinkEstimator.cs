namespace Cleave.Planning.Adaptation;

/// <summary>
/// Tracks the uplink rate and round-trip time a client sees, from its own requests. Each request gives the network
/// share of its latency (client total minus the server's reported compute); subtracting the RTT estimate leaves the
/// uplink serialization time of its bytes. The rate is the ratio of sums over the last <see cref="Window"/> requests
/// (bytes sent / serialization time), so big requests, whose timing says most about the rate, weigh most, and a
/// small request delayed by a busy moment cannot make the link look ten times slower. The serialization times are
/// recomputed from the raw samples whenever the RTT estimate moves, so a link change seen first by an RTT probe
/// corrects the whole window at once. RTT samples come from probes (requests with a negligible payload); the estimate
/// is the minimum of the last few (as TCP's min-RTT filter): scheduling noise on a busy machine only ever adds to a
/// probe's time, and an RTT estimate that is too high makes small frames look as if they took no time on the link
/// (measured: a 1.6 KB frame on a 1,000 kbit/s link read as 5,400 kbit/s with an averaged RTT of 65 ms instead of 30).
/// </summary>
public sealed class LinkEstimator
{
    private readonly int _rttWindow;
    private readonly double _initialUplinkKbps;
    private readonly Queue<(long Bytes, double NetworkMs)> _samples = new();
    private readonly Queue<double> _rttSamples = new();

    /// <param name="initialUplinkKbps">Uplink estimate until the first request (the planned link).</param>
    /// <param name="initialRttMs">RTT estimate until the first probe.</param>
    /// <param name="window">Requests the rate is estimated over.</param>
    /// <param name="rttWindow">RTT samples the minimum is taken over: a link whose RTT grows is seen after this many probes.</param>
    public LinkEstimator(double initialUplinkKbps, double initialRttMs, int window = 4, int rttWindow = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rttWindow, 1);
        if (!(initialUplinkKbps > 0)) throw new ArgumentOutOfRangeException(nameof(initialUplinkKbps), initialUplinkKbps, "the initial uplink rate must be positive");
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        _rttWindow = rttWindow;
        _initialUplinkKbps = initialUplinkKbps;
        Window = window;
        RttMs = Math.Max(0, initialRttMs);
    }

    public int Window { get; }
    public double RttMs { get; private set; }

    /// <summary>Requests observed so far (all of them, not only those in the window).</summary>
    public int Samples { get; private set; }

    /// <summary>Current uplink estimate in kbit/s.</summary>
    public double UplinkKbps
    {
        get
        {
            if (_samples.Count == 0) return _initialUplinkKbps;
            double bits = 0, ms = 0;
            foreach (var (bytes, networkMs) in _samples)
            {
                bits += bytes * 8.0;
                // Floor the serialization time: a request faster than the RTT estimate says the RTT fell, not that the link is infinitely fast.
                ms += Math.Max(networkMs - RttMs, 0.05 * networkMs + 0.01);
            }
            return bits / ms; // bits per ms = kbit/s
        }
    }

    /// <summary>A round-trip sample (a request with a negligible payload, or a probe).</summary>
    public void ObserveRtt(double rttMs)
    {
        if (!(rttMs >= 0) || double.IsInfinity(rttMs)) return;
        _rttSamples.Enqueue(rttMs);
        while (_rttSamples.Count > _rttWindow) _rttSamples.Dequeue();
        RttMs = _rttSamples.Min();
    }

    /// <summary>A request that sent <paramref name="bytes"/> and spent <paramref name="networkMs"/> on the network in all.</summary>
    public void ObserveTransfer(long bytes, double networkMs)
    {
        if (bytes <= 0 || !(networkMs >= 0) || double.IsInfinity(networkMs)) return;
        _samples.Enqueue((bytes, networkMs));
        while (_samples.Count > Window) _samples.Dequeue();
        Samples++;
    }
}
