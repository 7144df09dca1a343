using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Load;

/// <summary>
/// Simulates many clients against one server: each client is its own <see cref="SplitClient"/> (its own stream),
/// sending precomputed payloads in a closed loop for the test's duration, then waiting for every answer. Reads the
/// server's <c>/metrics</c> before and after to report server CPU seconds, executions and batch sizes per request.
/// </summary>
public static class LoadGenerator
{
    public static async Task<LoadReport> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Payloads.Count == 0) throw new ArgumentException("the load test needs at least one payload");
        if (options.Clients < 1) throw new ArgumentException($"need at least one client, got {options.Clients}");

        var clients = new SplitClient[options.Clients];
        try
        {
            for (int i = 0; i < clients.Length; i++)
                clients[i] = await SplitClient.ConnectAsync(new SplitClientOptions
                {
                    Server = options.Server, ClientId = $"load-{i}-{Guid.NewGuid():N}", Mode = options.Mode,
                    ManifestHash = options.ManifestHash, Codecs = options.Codecs, Retry = options.Retry,
                    RequestTimeout = options.RequestTimeout, Link = options.Link, LinkSeed = i,
                    AcceptAnyServerCertificate = options.AcceptAnyServerCertificate, Credentials = options.Credentials,
                }, cancellationToken).ConfigureAwait(false);

            var before = await MetricsSnapshot.FetchAsync(options.MetricsUrl ?? options.Server, options.AcceptAnyServerCertificate, cancellationToken).ConfigureAwait(false);
            var tally = new Tally();
            var clock = Stopwatch.StartNew();
            long stopAt = Stopwatch.GetTimestamp() + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
            var loops = new List<Task>(options.Clients * options.InFlightPerClient);
            for (int c = 0; c < clients.Length; c++)
                for (int slot = 0; slot < options.InFlightPerClient; slot++)
                    loops.Add(ClientLoop(clients[c], options.Payloads, c * 7919 + slot * 104729, stopAt, tally, cancellationToken));
            await Task.WhenAll(loops).ConfigureAwait(false);
            double seconds = clock.Elapsed.TotalSeconds;
            var after = await MetricsSnapshot.FetchAsync(options.MetricsUrl ?? options.Server, options.AcceptAnyServerCertificate, cancellationToken).ConfigureAwait(false);

            long duplicates = tally.Replayed;
            foreach (var client in clients) duplicates += client.DuplicateAnswers;
            return Report(options, tally, seconds, before, after, duplicates);
        }
        finally
        {
            foreach (var client in clients)
                if (client is not null) await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task ClientLoop(SplitClient client, IReadOnlyList<byte[]> payloads, int offset, long stopAt, Tally tally, CancellationToken cancellationToken)
    {
        await Task.Yield();
        for (long n = 0; Stopwatch.GetTimestamp() < stopAt && !cancellationToken.IsCancellationRequested; n++)
        {
            byte[] payload = payloads[(int)((offset + n) % payloads.Count)];
            Interlocked.Increment(ref tally.Sent);
            Interlocked.Add(ref tally.PayloadBytes, payload.Length);
            try
            {
                var result = await client.InferAsync(payload, cancellationToken: cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref tally.Answered);
                if (result.Replayed) Interlocked.Increment(ref tally.Replayed);
                tally.Latencies.Add(result.TotalMs);
            }
            catch (SplitInferenceException e)
            {
                string kind = e.FromServer ? e.Code.ToString() : $"lost:{e.Code}";
                tally.Errors.AddOrUpdate(kind, 1, (_, v) => v + 1);
                if (e.Code == ErrorCode.ResourceExhausted && e.FromServer)
                {
                    // Refused: back off as told, as a real client would, instead of hammering a full queue.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, e.RetryAfterMs)), cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static LoadReport Report(LoadOptions options, Tally tally, double seconds, MetricsSnapshot before, MetricsSnapshot after, long duplicates)
    {
        string mode = $"{{mode=\"{options.Mode}\"}}";
        double Delta(string series) => after[series] - before[series];
        long executed = (long)Delta($"cleave_requests_executed_total{mode}");
        long batches = (long)Delta($"cleave_batch_size_count{mode}");
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        long below = 0;
        foreach (int bound in ServerMetrics.BatchBuckets.Append(int.MaxValue))
        {
            string le = bound == int.MaxValue ? "+Inf" : bound.ToString(CultureInfo.InvariantCulture);
            long cumulative = (long)Delta($"cleave_batch_size_bucket{{mode=\"{options.Mode}\",le=\"{le}\"}}");
            if (cumulative - below > 0) sizes[le] = cumulative - below;
            below = cumulative;
        }
        var latencies = tally.Latencies.ToArray();
        Array.Sort(latencies);
        long errors = tally.Errors.Values.Sum();
        long lost = tally.Errors.Where(e => e.Key.StartsWith("lost:", StringComparison.Ordinal)).Sum(e => e.Value);
        double perRequest = executed > 0 ? 1.0 / executed : 0;
        return new LoadReport
        {
            Mode = options.Mode,
            Clients = options.Clients,
            Seconds = seconds,
            Sent = tally.Sent,
            Answered = tally.Answered,
            Refused = tally.Errors.TryGetValue(nameof(ErrorCode.ResourceExhausted), out long refused) ? refused : 0,
            // Anything sent that ended neither answered nor with an error would be a request the books lost.
            Lost = lost + (tally.Sent - tally.Answered - errors),
            ErrorsByKind = new SortedDictionary<string, long>(tally.Errors, StringComparer.Ordinal),
            Duplicates = duplicates,
            ThroughputPerSecond = tally.Answered / seconds,
            LatencyP50Ms = Percentile(latencies, 0.50),
            LatencyP95Ms = Percentile(latencies, 0.95),
            LatencyP99Ms = Percentile(latencies, 0.99),
            PayloadBytesMean = tally.Sent > 0 ? (double)tally.PayloadBytes / tally.Sent : 0,
            ServerExecuted = executed,
            ServerCpuSecondsPerRequest = Delta("process_cpu_seconds_total") * perRequest,
            ServerDecodeSecondsPerRequest = Delta($"cleave_decode_seconds_sum{mode}") / Math.Max(1, Delta($"cleave_decode_seconds_count{mode}")),
            ServerDecodeCpuSecondsPerRequest = Delta($"cleave_decode_cpu_seconds_sum{mode}") / Math.Max(1, Delta($"cleave_decode_cpu_seconds_count{mode}")),
            ServerTailSecondsPerRequest = Delta($"cleave_tail_seconds_sum{mode}") * perRequest,
            MeanBatchSize = batches > 0 ? Delta($"cleave_batch_size_sum{mode}") / batches : 0,
            BatchSizes = sizes,
        };
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private sealed class Tally
    {
        public long Sent, Answered, Replayed, PayloadBytes;
        public readonly ConcurrentBag<double> Latencies = [];
        public readonly ConcurrentDictionary<string, long> Errors = new(StringComparer.Ordinal);
    }
}
