using System.Diagnostics.Metrics;

namespace Cleave.Runtime.Serving;

/// <summary>
/// The server's main counters as <see cref="System.Diagnostics.Metrics"/> instruments on a <see cref="Meter"/> named
/// <see cref="ServerMetrics.MeterName"/>, so an OpenTelemetry collector (<c>AddMeter("Cleave.Server")</c>),
/// <c>dotnet-counters</c> or any <see cref="MeterListener"/> reads them without scraping. Instrument names are the
/// <c>/metrics</c> names, so a Prometheus exporter that keeps names (OpenTelemetry's, with
/// <c>DisableTotalNameSuffixForCounters</c>) writes the same series. The meter carries the server's <c>server_id</c>
/// as a tag: several servers in one process (tests, silos) each have their own meter of the same name.
/// </summary>
internal sealed class ServerInstruments : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _requests, _executed, _abandoned, _replayed, _pings, _errors, _bytesIn, _bytesOut, _streams, _streamsEnded;
    private readonly UpDownCounter<long> _streamsActive;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _decodeSeconds, _decodeCpuSeconds, _tailSeconds, _requestSeconds;

    public ServerInstruments(string serverId, Func<IReadOnlyDictionary<string, int>?> queueDepths)
    {
        _meter = new Meter(new MeterOptions(ServerMetrics.MeterName) { Version = "1", Tags = [new("server_id", serverId)] });
        _requests = _meter.CreateCounter<long>("cleave_requests_total", description: "inference requests received");
        _executed = _meter.CreateCounter<long>("cleave_requests_executed_total", description: "requests the model ran (never twice for one id)");
        _abandoned = _meter.CreateCounter<long>("cleave_requests_abandoned_total", description: "queued requests skipped because their client had gone");
        _replayed = _meter.CreateCounter<long>("cleave_requests_replayed_total", description: "retries answered from the idempotency cache");
        _pings = _meter.CreateCounter<long>("cleave_pings_total", description: "round-trip probes answered (not requests)");
        _errors = _meter.CreateCounter<long>("cleave_errors_total", description: "requests answered with a typed error, by code");
        _bytesIn = _meter.CreateCounter<long>("cleave_bytes_received_total", description: "bytes of request messages received");
        _bytesOut = _meter.CreateCounter<long>("cleave_bytes_sent_total", description: "bytes of response messages sent");
        _streams = _meter.CreateCounter<long>("cleave_streams_total", description: "client streams opened");
        _streamsEnded = _meter.CreateCounter<long>("cleave_streams_ended_total", description: "streams the server ended itself, by gRPC status");
        _streamsActive = _meter.CreateUpDownCounter<long>("cleave_streams_active", description: "client streams open now");
        _batchSize = _meter.CreateHistogram<int>("cleave_batch_size", unit: null, description: "requests per model run", tags: null,
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = ServerMetrics.BatchBuckets });
        // Unit "s": the names already end in _seconds, so exporters that append units leave them as they are.
        _decodeSeconds = _meter.CreateHistogram<double>("cleave_decode_seconds", "s", "payload decoding (frame decode, or image decode + preprocessing)");
        _decodeCpuSeconds = _meter.CreateHistogram<double>("cleave_decode_cpu_seconds", "s", "CPU time of the threads decoding payloads");
        _tailSeconds = _meter.CreateHistogram<double>("cleave_tail_seconds", "s", "model runs (tail, or whole model in full mode), per batch");
        _requestSeconds = _meter.CreateHistogram<double>("cleave_request_seconds", "s", "answered requests, arrival to answer", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ServerMetrics.RequestSecondsBuckets });
        _meter.CreateObservableGauge("cleave_queue_depth", () => Depths(queueDepths()), description: "requests waiting for a batch");
    }

    private static IEnumerable<Measurement<int>> Depths(IReadOnlyDictionary<string, int>? depths)
    {
        foreach (var (mode, depth) in depths ?? new Dictionary<string, int>()) yield return new Measurement<int>(depth, Mode(mode));
    }

    private static KeyValuePair<string, object?> Mode(string mode) => new("mode", mode);

    public void StreamOpened() { _streams.Add(1); _streamsActive.Add(1); }
    public void StreamClosed() => _streamsActive.Add(-1);
    public void StreamEnded(Grpc.Core.StatusCode status) => _streamsEnded.Add(1, new KeyValuePair<string, object?>("status", status.ToString()));
    public void BytesReceived(long n) => _bytesIn.Add(n);
    public void BytesSent(long n) => _bytesOut.Add(n);
    public void Replayed() => _replayed.Add(1);
    public void Pinged() => _pings.Add(1);
    public void Request(string mode) => _requests.Add(1, Mode(mode));
    public void Error(Protocol.ErrorCode code) => _errors.Add(1, new KeyValuePair<string, object?>("code", code.ToString()));
    public void Abandoned(string mode) => _abandoned.Add(1, Mode(mode));

    public void Decoded(string mode, double seconds, double cpuSeconds)
    {
        _decodeSeconds.Record(seconds, Mode(mode));
        _decodeCpuSeconds.Record(cpuSeconds, Mode(mode));
    }

    public void Batch(string mode, int size, double seconds)
    {
        _executed.Add(size, Mode(mode));
        _batchSize.Record(size, Mode(mode));
        _tailSeconds.Record(seconds, Mode(mode));
    }

    public void Answered(string mode, double seconds) => _requestSeconds.Record(seconds, Mode(mode));

    public void Dispose() => _meter.Dispose();
}
