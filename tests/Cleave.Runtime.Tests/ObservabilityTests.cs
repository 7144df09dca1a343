using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Cleave.Runtime.Client;
using Cleave.Runtime.Load;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Cleave.Runtime.Tests;

/// <summary>
/// What an operator sees of a real server: <c>/metrics</c> with today's names, the same counts on the
/// <c>Cleave.Server</c> meter, and structured log events for streams and refusals.
/// </summary>
public sealed class ObservabilityTests
{
    /// <summary>Every metric family <c>/metrics</c> writes for a split server (docs/serving.md lists the same names).</summary>
    public static readonly string[] MetricNames =
    [
        "cleave_server_info", "cleave_execution_plan_info", "cleave_execution_streams", "cleave_requests_total",
        "cleave_requests_executed_total", "cleave_requests_abandoned_total", "cleave_requests_replayed_total", "cleave_pings_total",
        "cleave_errors_total", "cleave_bytes_received_total", "cleave_bytes_sent_total", "cleave_streams_active", "cleave_streams_total",
        "cleave_streams_ended_total", "cleave_queue_depth", "cleave_batch_size", "cleave_request_seconds", "cleave_decode_seconds", "cleave_decode_cpu_seconds",
        "cleave_tail_seconds", "cleave_idempotency_entries", "cleave_idempotency_bytes", "cleave_unauthenticated_total",
        "cleave_over_quota_total", "dotnet_gc_heap_bytes", "process_resident_memory_bytes", "dotnet_gc_allocated_bytes_total",
        "process_cpu_seconds_total",
    ];

    /// <summary>The metric families declared in a Prometheus text (its <c># TYPE</c> lines).</summary>
    public static IReadOnlyList<string> Families(string text) =>
        [.. text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2])];

    [Fact]
    public async Task Metrics_keep_their_names_and_the_meter_counts_what_metrics_says_and_a_refusal_is_a_logged_event()
    {
        var split = TinySplit.Load();
        using var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, LoggerFactory = loggers,
        });
        using var meter = new MeterTotals(server.Metrics.ServerId);

        await using (var client = await SplitClient.ConnectAsync(new SplitClientOptions { Server = server.Url, ManifestHash = split.ManifestHash }))
        {
            foreach (var frame in TinySplit.Frames(3, seed: 5)) await client.InferAsync(frame);
            var refused = await Assert.ThrowsAsync<SplitInferenceException>(() => client.InferAsync(new byte[] { 1, 2, 3, 4 }, "not-a-frame"));
            Assert.Equal(SplitErrorCode.MalformedFrame, refused.Code);
        }

        // The server closes its side of the stream a moment after the client's: its close event comes after its counters.
        var closing = System.Diagnostics.Stopwatch.StartNew();
        while (!logs.Collector.GetSnapshot().Any(r => r.Id.Id == ServerLog.StreamClosedId) && closing.Elapsed < TimeSpan.FromSeconds(20))
            await Task.Delay(20);
        string text;
        using (var http = new HttpClient(new SocketsHttpHandler()) { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact })
            text = await http.GetStringAsync(new Uri(server.Url, "/metrics"));
        Assert.Equal(MetricNames.Order(StringComparer.Ordinal), Families(text).Order(StringComparer.Ordinal));
        var scraped = MetricsSnapshot.Parse(text);
        Assert.Equal(4, scraped["cleave_requests_total{mode=\"split\"}"]);
        Assert.Equal(1, scraped["cleave_errors_total{code=\"MalformedFrame\"}"]);
        Assert.Equal(3, scraped["cleave_request_seconds_count{mode=\"split\"}"]); // answered ones only
        Assert.Equal(3, scraped["cleave_request_seconds_bucket{mode=\"split\",le=\"+Inf\"}"]);

        // The meter saw the same events under the same names (the stream has closed, so nothing is still moving).
        meter.Listener.RecordObservableInstruments();
        foreach (string series in new[]
        {
            "cleave_requests_total{mode=\"split\"}", "cleave_requests_executed_total{mode=\"split\"}", "cleave_errors_total{code=\"MalformedFrame\"}",
            "cleave_streams_total", "cleave_streams_active", "cleave_bytes_received_total", "cleave_batch_size_count{mode=\"split\"}",
            "cleave_batch_size_sum{mode=\"split\"}", "cleave_decode_seconds_count{mode=\"split\"}", "cleave_tail_seconds_count{mode=\"split\"}",
            "cleave_queue_depth{mode=\"split\"}", "cleave_request_seconds_count{mode=\"split\"}",
        })
            Assert.True(scraped[series] == meter[series], $"{series}: /metrics {scraped[series]}, meter {meter[series]}");

        // Structured events: the stream's open and close, and the refusal with its code and request id as properties.
        var records = logs.Collector.GetSnapshot();
        Assert.Contains(records, r => r.Id.Id == ServerLog.StreamOpenedId);
        Assert.Contains(records, r => r.Id.Id == ServerLog.StreamClosedId && r.GetStructuredStateValue("Requests") == "4");
        var refusal = Assert.Single(records, r => r.Id.Id == ServerLog.RequestRefusedId);
        Assert.Equal(LogLevel.Information, refusal.Level);
        Assert.Equal("RequestRefused", refusal.Id.Name);
        Assert.Equal("not-a-frame", refusal.GetStructuredStateValue("RequestId"));
        Assert.Equal("MalformedFrame", refusal.GetStructuredStateValue("Code"));
        Assert.Equal("split", refusal.GetStructuredStateValue("Mode"));
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Error);
    }

    /// <summary>Sums what one server's meter records, by the series name <c>/metrics</c> gives the same figure.</summary>
    private sealed class MeterTotals : IDisposable
    {
        private readonly ConcurrentDictionary<string, double> _totals = new(StringComparer.Ordinal);

        public MeterListener Listener { get; } = new();

        public MeterTotals(string serverId)
        {
            Listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ServerMetrics.MeterName && instrument.Meter.Tags?.Any(t => t.Key == "server_id" && (string?)t.Value == serverId) == true)
                    listener.EnableMeasurementEvents(instrument);
            };
            Listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            Listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
            Listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            Listener.Start();
        }

        public double this[string series] => _totals.TryGetValue(series, out double v) ? v : 0;

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string labels = tags.Length == 0 ? "" : "{" + string.Join(",", tags.ToArray().Select(t => $"{t.Key}=\"{t.Value}\"")) + "}";
            if (instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal))
            {
                _totals.AddOrUpdate(instrument.Name + "_sum" + labels, value, (_, s) => s + value);
                _totals.AddOrUpdate(instrument.Name + "_count" + labels, 1, (_, s) => s + 1);
            }
            else if (instrument.GetType().Name.StartsWith("ObservableGauge", StringComparison.Ordinal)) _totals[instrument.Name + labels] = value;
            else _totals.AddOrUpdate(instrument.Name + labels, value, (_, s) => s + value);
        }

        public void Dispose() => Listener.Dispose();
    }
}
