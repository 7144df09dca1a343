using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cleave.Runtime.Protocol;

namespace Cleave.Runtime.Serving;

/// <summary>
/// The server's counters, written in the Prometheus text format at <c>/metrics</c>: requests, executions, replays,
/// errors by code, bytes in and out, queue depth, the batch-size histogram, decode and tail seconds, and the
/// process's CPU seconds (what a load test divides by requests to get server CPU per request). The main counters are
/// also recorded on a <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="MeterName"/> under the same names
/// (<see cref="ServerInstruments"/>), for OpenTelemetry collectors; <c>/metrics</c> stays this hand-written text
/// (docs/serving.md, "Metrics", says why).
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> every server's instruments are on.</summary>
    public const string MeterName = "Cleave.Server";

    /// <summary>Upper bounds of the batch-size histogram's buckets (the last, +Inf, is implicit).</summary>
    public static IReadOnlyList<int> BatchBuckets => RuntimeInfo.BatchSizeBuckets;

    /// <summary>Upper bounds (seconds) of the request-latency histogram's buckets (the last, +Inf, is implicit).</summary>
    public static IReadOnlyList<double> RequestSecondsBuckets { get; } = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly ConcurrentDictionary<string, ModeCounters> _modes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ErrorCode, long> _errors = new();
    private readonly ConcurrentDictionary<Grpc.Core.StatusCode, long> _streamsEnded = new();
    private long _bytesIn, _bytesOut, _streamsOpened, _streamsActive, _replayed, _pings;

    /// <summary>
    /// This server instance's id (also in its Welcome): random per start, so a client or load test sees a restart
    /// (whose counters begin again at zero) even when the new server has the old one's host, port and process.
    /// </summary>
    public string ServerId { get; } = Guid.NewGuid().ToString("N")[..16];

    private readonly ServerInstruments _instruments;

    public ServerMetrics() => _instruments = new ServerInstruments(ServerId, () => QueueDepths?.Invoke());

    public void Dispose() => _instruments.Dispose();

    /// <summary>
    /// The server's name within a cluster: when set, every sample carries a <c>silo</c> label, so a Prometheus that
    /// scrapes every silo keeps their series apart.
    /// </summary>
    public string? SiloLabel { get; set; }

    /// <summary>More samples from whoever hosts this server (a cluster's session counters), in the text format; labelled like the rest.</summary>
    public Func<string>? MoreMetrics { get; set; }

    /// <summary>The execution plan the models run with and how it was chosen ("auto", "given", "flags"): <c>cleave_execution_plan_info</c>.</summary>
    public (ExecutionPlan Plan, string ChosenBy)? ExecutionPlan { get; set; }

    /// <summary>Queue depth per mode, read when the metrics are written.</summary>
    public Func<IReadOnlyDictionary<string, int>>? QueueDepths { get; set; }

    /// <summary>More single-value series (name, type, help, value), read when the metrics are written: cache and security figures.</summary>
    public Func<IEnumerable<(string Name, string Type, string Help, double Value)>>? MoreSeries { get; set; }

    private ModeCounters For(string mode) => _modes.GetOrAdd(mode, _ => new ModeCounters());

    public void StreamOpened() { Interlocked.Increment(ref _streamsOpened); Interlocked.Increment(ref _streamsActive); _instruments.StreamOpened(); }
    public void StreamClosed() { Interlocked.Decrement(ref _streamsActive); _instruments.StreamClosed(); }

    /// <summary>The server ended a stream on its own initiative (deadline, client not reading), with this status.</summary>
    internal void StreamEnded(Grpc.Core.StatusCode status) { _streamsEnded.AddOrUpdate(status, 1, (_, n) => n + 1); _instruments.StreamEnded(status); }

    public long StreamsEndedCount(Grpc.Core.StatusCode status) => _streamsEnded.TryGetValue(status, out long n) ? n : 0;
    public void BytesReceived(long n) { Interlocked.Add(ref _bytesIn, n); _instruments.BytesReceived(n); }
    public void BytesSent(long n) { Interlocked.Add(ref _bytesOut, n); _instruments.BytesSent(n); }
    public void Replayed() { Interlocked.Increment(ref _replayed); _instruments.Replayed(); }
    public void Pinged() { Interlocked.Increment(ref _pings); _instruments.Pinged(); }
    public void Request(string mode) { Interlocked.Increment(ref For(mode).Requests); _instruments.Request(mode); }
    internal void Error(ErrorCode code) { _errors.AddOrUpdate(code, 1, (_, n) => n + 1); _instruments.Error(code); }
    public void Abandoned(string mode) { Interlocked.Increment(ref For(mode).Abandoned); _instruments.Abandoned(mode); }

    /// <summary>One payload decoded: wall seconds and the decoding thread's CPU seconds.</summary>
    public void Decoded(string mode, double seconds, double cpuSeconds)
    {
        var c = For(mode);
        lock (c) { c.DecodeSeconds += seconds; c.DecodeCpuSeconds += cpuSeconds; c.Decodes++; }
        _instruments.Decoded(mode, seconds, cpuSeconds);
    }

    public void RecordBatch(string mode, int size, double seconds)
    {
        var c = For(mode);
        lock (c)
        {
            c.Executed += size;
            c.Batches++;
            c.TailSeconds += seconds;
            c.BatchSizeSum += size;
            int bucket = 0;
            while (bucket < BatchBuckets.Count && size > BatchBuckets[bucket]) bucket++;
            c.BatchBuckets[bucket]++;
        }
        _instruments.Batch(mode, size, seconds);
    }

    /// <summary>
    /// One request answered (not refused): seconds from its arrival on the stream to its answer being handed to the
    /// stream's writer (quota, idempotency lookup, decode, queue, batch; a replay's lookup only).
    /// </summary>
    public void Answered(string mode, double seconds)
    {
        var c = For(mode);
        lock (c)
        {
            c.Answered++;
            c.RequestSeconds += seconds;
            int bucket = 0;
            while (bucket < RequestSecondsBuckets.Count && seconds > RequestSecondsBuckets[bucket]) bucket++;
            c.RequestBuckets[bucket]++;
        }
        _instruments.Answered(mode, seconds);
    }

    /// <summary>Requests of this mode the model actually ran (each id at most once).</summary>
    public long Executed(string mode) { var c = For(mode); lock (c) return c.Executed; }

    public long ErrorCount(SplitErrorCode code) => _errors.TryGetValue(code.ToWire(), out long n) ? n : 0;

    public long ReplayedCount => Interlocked.Read(ref _replayed);

    /// <summary>Requests received in every mode together.</summary>
    public long RequestCount
    {
        get
        {
            long total = 0;
            foreach (var (_, c) in _modes) total += Interlocked.Read(ref c.Requests);
            return total;
        }
    }

    public long PingCount => Interlocked.Read(ref _pings);

    public string ToPrometheusText()
    {
        var s = new StringBuilder(4096);
        var depths = QueueDepths?.Invoke() ?? new Dictionary<string, int>();
        Header(s, "cleave_server_info", "gauge", "1, labelled with this server instance's id (a new id after a restart)");
        Line(s, "cleave_server_info", 1, "server_id", ServerId);
        if (ExecutionPlan is var (plan, chosenBy))
        {
            Header(s, "cleave_execution_plan_info", "gauge", "1, labelled with the execution plan (sessions x intra-op threads x max batch x delay) and how it was chosen");
            s.Append("cleave_execution_plan_info{streams=\"").Append(plan.Streams.ToString(CultureInfo.InvariantCulture))
                .Append("\",threads=\"").Append(plan.Threads.ToString(CultureInfo.InvariantCulture))
                .Append("\",max_batch=\"").Append(plan.MaxBatch.ToString(CultureInfo.InvariantCulture))
                .Append("\",delay_ms=\"").Append(plan.MaxDelay.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture))
                .Append("\",chosen_by=\"").Append(chosenBy).Append("\"} 1\n");
            Header(s, "cleave_execution_streams", "gauge", "ONNX Runtime sessions running batches side by side (in each served mode)");
            Line(s, "cleave_execution_streams", plan.Streams);
        }
        Header(s, "cleave_requests_total", "counter", "inference requests received");
        foreach (var (mode, c) in Sorted()) Line(s, "cleave_requests_total", Interlocked.Read(ref c.Requests), "mode", mode);
        Header(s, "cleave_requests_executed_total", "counter", "requests the model ran (never twice for one id)");
        foreach (var (mode, c) in Sorted()) lock (c) Line(s, "cleave_requests_executed_total", c.Executed, "mode", mode);
        Header(s, "cleave_requests_abandoned_total", "counter", "queued requests skipped because their client had gone");
        foreach (var (mode, c) in Sorted()) Line(s, "cleave_requests_abandoned_total", Interlocked.Read(ref c.Abandoned), "mode", mode);
        Header(s, "cleave_requests_replayed_total", "counter", "retries answered from the idempotency cache");
        Line(s, "cleave_requests_replayed_total", ReplayedCount);
        Header(s, "cleave_pings_total", "counter", "round-trip probes answered (not requests)");
        Line(s, "cleave_pings_total", PingCount);
        Header(s, "cleave_errors_total", "counter", "requests answered with a typed error, by code");
        foreach (var (code, n) in _errors.OrderBy(e => e.Key)) Line(s, "cleave_errors_total", n, "code", code.ToString());
        Header(s, "cleave_bytes_received_total", "counter", "bytes of request messages received");
        Line(s, "cleave_bytes_received_total", Interlocked.Read(ref _bytesIn));
        Header(s, "cleave_bytes_sent_total", "counter", "bytes of response messages sent");
        Line(s, "cleave_bytes_sent_total", Interlocked.Read(ref _bytesOut));
        Header(s, "cleave_streams_active", "gauge", "client streams open now");
        Line(s, "cleave_streams_active", Interlocked.Read(ref _streamsActive));
        Header(s, "cleave_streams_total", "counter", "client streams opened");
        Line(s, "cleave_streams_total", Interlocked.Read(ref _streamsOpened));
        Header(s, "cleave_streams_ended_total", "counter", "streams the server ended itself (no Hello in time, idle, client not reading), by gRPC status");
        foreach (var (status, n) in _streamsEnded.OrderBy(e => e.Key)) Line(s, "cleave_streams_ended_total", n, "status", status.ToString());
        Header(s, "cleave_queue_depth", "gauge", "requests waiting for a batch");
        foreach (var (mode, depth) in depths.OrderBy(d => d.Key, StringComparer.Ordinal)) Line(s, "cleave_queue_depth", depth, "mode", mode);
        Header(s, "cleave_batch_size", "histogram", "requests per model run");
        foreach (var (mode, c) in Sorted())
            lock (c) Histogram(s, "cleave_batch_size", mode, [.. BatchBuckets.Select(b => (double)b)], c.BatchBuckets, c.BatchSizeSum, c.Batches);
        Header(s, "cleave_request_seconds", "histogram", "answered requests, arrival to answer (quota, idempotency, decode, queue, batch)");
        foreach (var (mode, c) in Sorted())
            lock (c) Histogram(s, "cleave_request_seconds", mode, RequestSecondsBuckets, c.RequestBuckets, c.RequestSeconds, c.Answered);
        Header(s, "cleave_decode_seconds", "summary", "payload decoding (frame decode, or image decode + preprocessing)");
        foreach (var (mode, c) in Sorted())
            lock (c) { Line(s, "cleave_decode_seconds_sum", c.DecodeSeconds, "mode", mode); Line(s, "cleave_decode_seconds_count", c.Decodes, "mode", mode); }
        Header(s, "cleave_decode_cpu_seconds", "summary", "CPU time of the threads decoding payloads (wall time minus preemption)");
        foreach (var (mode, c) in Sorted())
            lock (c) { Line(s, "cleave_decode_cpu_seconds_sum", c.DecodeCpuSeconds, "mode", mode); Line(s, "cleave_decode_cpu_seconds_count", c.Decodes, "mode", mode); }
        Header(s, "cleave_tail_seconds", "summary", "model runs (tail, or whole model in full mode), per batch");
        foreach (var (mode, c) in Sorted())
            lock (c) { Line(s, "cleave_tail_seconds_sum", c.TailSeconds, "mode", mode); Line(s, "cleave_tail_seconds_count", c.Batches, "mode", mode); }
        foreach (var (name, type, help, value) in MoreSeries?.Invoke() ?? [])
        {
            Header(s, name, type, help);
            Line(s, name, value);
        }
        Header(s, "process_cpu_seconds_total", "counter", "user and system CPU time of the server process");
        using (var process = Process.GetCurrentProcess()) Line(s, "process_cpu_seconds_total", process.TotalProcessorTime.TotalSeconds);
        if (MoreMetrics is { } more) s.Append(more());
        return SiloLabel is { } silo ? WithLabel(s.ToString(), "silo", silo) : s.ToString();
    }

    /// <summary>Adds <c>name="value"</c> as the first label of every sample line of a Prometheus text.</summary>
    public static string WithLabel(string text, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(text);
        string label = $"{name}=\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
        var s = new StringBuilder(text.Length + 64);
        foreach (string line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            if (line[0] == '#') s.Append(line);
            else
            {
                int brace = line.IndexOf('{', StringComparison.Ordinal), space = line.IndexOf(' ', StringComparison.Ordinal);
                if (brace >= 0 && (space < 0 || brace < space)) s.Append(line, 0, brace + 1).Append(label).Append(',').Append(line, brace + 1, line.Length - brace - 1);
                else if (space > 0) s.Append(line, 0, space).Append('{').Append(label).Append('}').Append(line, space, line.Length - space);
                else s.Append(line);
            }
            s.Append('\n');
        }
        return s.ToString();
    }

    private IEnumerable<KeyValuePair<string, ModeCounters>> Sorted() => _modes.OrderBy(m => m.Key, StringComparer.Ordinal);

    private static void Histogram(StringBuilder s, string name, string mode, IReadOnlyList<double> bounds, long[] counts, double sum, long count)
    {
        long cumulative = 0;
        for (int b = 0; b <= bounds.Count; b++)
        {
            cumulative += counts[b];
            string le = b < bounds.Count ? bounds[b].ToString("R", CultureInfo.InvariantCulture) : "+Inf";
            s.Append(name).Append("_bucket{mode=\"").Append(mode).Append("\",le=\"").Append(le).Append("\"} ")
                .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        Line(s, name + "_sum", sum, "mode", mode);
        Line(s, name + "_count", count, "mode", mode);
    }

    private static void Header(StringBuilder s, string name, string type, string help) =>
        s.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder s, string name, double value, string? label = null, string? labelValue = null)
    {
        s.Append(name);
        if (label is not null) s.Append('{').Append(label).Append("=\"").Append(labelValue).Append("\"}");
        s.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    private sealed class ModeCounters
    {
        public long Requests, Abandoned, Executed, Batches, Decodes, Answered;
        public double DecodeSeconds, DecodeCpuSeconds, TailSeconds, BatchSizeSum, RequestSeconds;
        public readonly long[] BatchBuckets = new long[ServerMetrics.BatchBuckets.Count + 1];
        public readonly long[] RequestBuckets = new long[RequestSecondsBuckets.Count + 1];
    }
}
