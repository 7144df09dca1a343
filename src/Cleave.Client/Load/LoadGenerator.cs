using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Cleave.Runtime.Client;
using Cleave.Runtime.Protocol;
using Cleave.Runtime.Serving;

namespace Cleave.Runtime.Load;

/// <summary>
/// Simulates many clients against one server (or several, which the clients fail over among): each client is its own <see cref="SplitClient"/> (its own stream),
/// sending precomputed payloads in a closed loop for the test's duration, then waiting for every answer. Reads the
/// server's <c>/metrics</c> before, every half second during, and after the test to report server CPU seconds,
/// executions and batch sizes per request, per server process (a restarted server is a new one), and times the
/// outages the clients saw.
/// </summary>
public static class LoadGenerator
{
    private static readonly TimeSpan MetricsInterval = TimeSpan.FromMilliseconds(500);

    public static async Task<LoadReport> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Payloads.Count == 0) throw new ArgumentException("the load test needs at least one payload");
        if (options.Clients < 1) throw new ArgumentException($"need at least one client, got {options.Clients}");
        if (options.AnsweredOnDevice.Count != 0 && options.AnsweredOnDevice.Count != options.Payloads.Count)
            throw new ArgumentException($"{options.AnsweredOnDevice.Count} exit verdicts for {options.Payloads.Count} payloads");
        // A closed loop over payloads that all exit would spin without ever sending: nothing to measure on the server.
        if (options.AnsweredOnDevice.Count != 0 && options.AnsweredOnDevice.All(e => e))
            throw new ArgumentException("every payload is answered by the device's exit: nothing would reach the server");

        var tally = new Tally();
        var outages = new OutageTracker(TimeProvider.System);
        var processes = new ServerProcessTracker();
        var clients = new SplitClient[options.Clients];
        using var stopPolling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task polling = Task.CompletedTask;
        try
        {
            Uri[] servers = [options.Server, .. options.FailoverServers];
            for (int i = 0; i < clients.Length; i++)
                clients[i] = await SplitClient.ConnectAsync(new SplitClientOptions
                {
                    // Client i starts at server i mod n, as a fleet given the list in different orders would: every
                    // client starting at the first address put the whole load on one silo and its failover target.
                    Servers = [.. servers.Skip(i % servers.Length), .. servers.Take(i % servers.Length)], ClientId = $"load-{i}-{Guid.NewGuid():N}", Mode = options.Mode,
                    ManifestHash = options.ManifestHash, Codecs = options.Codecs, Retry = options.Retry,
                    // Only the first client fails fast on a refused connection (no server there at all); once one has
                    // connected, the server exists, and a later client that meets it restarting waits as a reconnect would.
                    FirstConnectGrace = i == 0 ? SplitClientOptions.DefaultFirstConnectGrace : options.Retry.Deadline,
                    RequestTimeout = options.RequestTimeout, Link = options.Link, LinkSeed = i, BitErrors = options.BitErrors,
                    AcceptAnyServerCertificate = options.AcceptAnyServerCertificate, Credentials = options.Credentials,
                    OnTryFailed = failure =>
                    {
                        Interlocked.Increment(ref tally.FailedTries);
                        tally.FailedTriesByKind.AddOrUpdate(FailureKind(failure), 1, (_, v) => v + 1);
                        if (!failure.FromServer) outages.Failed();
                    },
                }, cancellationToken).ConfigureAwait(false);

            // Every server the clients may use is read: after a failover the answers come from another process.
            Uri[] metricsUrls = options.MetricsUrl is { } metricsUrl ? [metricsUrl] : [options.Server, .. options.FailoverServers];
            Func<CancellationToken, Task<MetricsSnapshot>> Reader(Uri url) => token =>
                MetricsSnapshot.FetchAsync(url, options.AcceptAnyServerCertificate, token, TimeSpan.FromSeconds(2));
            var clock = Stopwatch.StartNew();
            // A listed server that is down now (the clients failed over from it) has no baseline; if none answers, the
            // metrics address is wrong and the first failure says so.
            Exception? firstFailure = null;
            foreach (var url in metricsUrls)
            {
                try { processes.Add(await MetricsSnapshot.FetchAsync(url, options.AcceptAnyServerCertificate, cancellationToken).ConfigureAwait(false), 0, baseline: true); }
                catch (Exception e) when (e is HttpRequestException or IOException) { firstFailure ??= e; }
            }
            if (processes.Instances().Count == 0 && firstFailure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(firstFailure);
            polling = Task.WhenAll(metricsUrls.Select(url => processes.PollAsync(Reader(url), MetricsInterval, () => clock.Elapsed.TotalSeconds, stopPolling.Token)));
            long stopAt = Stopwatch.GetTimestamp() + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
            var loops = new List<Task>(options.Clients * options.InFlightPerClient);
            for (int c = 0; c < clients.Length; c++)
                for (int slot = 0; slot < options.InFlightPerClient; slot++)
                    loops.Add(ClientLoop(clients[c], options.Payloads, options.AnsweredOnDevice, c * 7919 + slot * 104729, stopAt, clock, tally, outages, cancellationToken));
            await Task.WhenAll(loops).ConfigureAwait(false);
            double seconds = clock.Elapsed.TotalSeconds;
            await stopPolling.CancelAsync().ConfigureAwait(false);
            await polling.ConfigureAwait(false);
            foreach (var url in metricsUrls)
                await ReadInto(processes, Reader(url), clock.Elapsed.TotalSeconds, baseline: false, cancellationToken).ConfigureAwait(false);

            return Report(options, tally, seconds, processes, outages.Outages(seconds), clients);
        }
        finally
        {
            await stopPolling.CancelAsync().ConfigureAwait(false);
            await polling.ConfigureAwait(false);
            foreach (var client in clients)
                if (client is not null) await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One /metrics reading, counted as failed when the server cannot be reached (killed, not started yet).</summary>
    private static async Task ReadInto(ServerProcessTracker processes, Func<CancellationToken, Task<MetricsSnapshot>> read, double atSeconds, bool baseline,
        CancellationToken cancellationToken)
    {
        try { processes.Add(await read(cancellationToken).ConfigureAwait(false), atSeconds, baseline); }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException) { processes.ReadingFailed(); }
    }

    private static async Task ClientLoop(SplitClient client, IReadOnlyList<byte[]> payloads, IReadOnlyList<bool> answeredOnDevice, int offset, long stopAt, Stopwatch clock, Tally tally, OutageTracker outages,
        CancellationToken cancellationToken)
    {
        await Task.Yield();
        for (long n = 0; Stopwatch.GetTimestamp() < stopAt && !cancellationToken.IsCancellationRequested; n++)
        {
            int index = (int)((offset + n) % payloads.Count);
            byte[] payload = payloads[index];
            if (answeredOnDevice.Count != 0 && answeredOnDevice[index])
            {
                // The device's exit answered: the request is counted, its frame stays on the device, the server never sees it.
                Interlocked.Increment(ref tally.Exited);
                Interlocked.Add(ref tally.BytesSaved, payload.Length);
                continue;
            }
            Interlocked.Increment(ref tally.Sent);
            Interlocked.Add(ref tally.PayloadBytes, payload.Length);
            try
            {
                var result = await client.InferAsync(payload, cancellationToken: cancellationToken).ConfigureAwait(false);
                outages.Answered();
                Interlocked.Increment(ref tally.Answered);
                if (result.Replayed) Interlocked.Increment(ref tally.Replayed);
                tally.Latencies.Add(result.TotalMs);
                tally.Answers.Add((clock.Elapsed.TotalSeconds, result.TotalMs));
                tally.AnsweredBy.AddOrUpdate(result.ServerId, 1, (_, v) => v + 1);
            }
            catch (SplitInferenceException e)
            {
                string kind = e.FromServer ? e.Code.ToString() : $"lost:{e.Code}";
                tally.Errors.AddOrUpdate(kind, 1, (_, v) => v + 1);
                if (e.Code == SplitErrorCode.ResourceExhausted && e.FromServer)
                {
                    // Refused: back off as told, as a real client would, instead of hammering a full queue.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, e.RetryAfterMs)), cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>"server:CODE" for a server's typed refusal, otherwise "lost:" and the failure's reason (its message up to the first colon) and cause.</summary>
    private static string FailureKind(SplitInferenceException failure)
    {
        if (failure.FromServer) return $"server:{failure.Code}";
        string message = failure.Message;
        int colon = message.IndexOf(':', StringComparison.Ordinal);
        string reason = colon > 0 ? message[..colon] : message;
        if (reason.StartsWith("no answer within", StringComparison.Ordinal)) reason = "no answer within the try's timeout";
        string cause = failure.InnerException switch
        {
            Grpc.Core.RpcException rpc => $" ({rpc.StatusCode})",
            { } inner => $" ({inner.GetType().Name})",
            null => "",
        };
        return $"lost:{reason}{cause}";
    }

    private static LoadReport Report(LoadOptions options, Tally tally, double seconds, ServerProcessTracker processes, IReadOnlyList<Outage> outages,
        SplitClient[] clients)
    {
        string mode = $"{{mode=\"{options.Mode}\"}}";
        var instances = processes.Instances();
        double Delta(string series) => instances.Sum(i => i.Delta(series));
        long executed = (long)Delta($"cleave_requests_executed_total{mode}");
        long batches = (long)Delta($"cleave_batch_size_count{mode}");
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        long below = 0;
        foreach (int bound in RuntimeInfo.BatchSizeBuckets.Append(int.MaxValue))
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
            Refused = tally.Errors.TryGetValue(nameof(SplitErrorCode.ResourceExhausted), out long refused) ? refused : 0,
            // Anything sent that ended neither answered nor with an error would be a request the books lost.
            Lost = lost + (tally.Sent - tally.Answered - errors),
            ErrorsByKind = new SortedDictionary<string, long>(tally.Errors, StringComparer.Ordinal),
            Duplicates = clients.Sum(c => c.DuplicateAnswers),
            Replayed = tally.Replayed,
            Retries = clients.Sum(c => c.Retries),
            Reconnects = clients.Sum(c => c.Reconnects),
            Failovers = clients.Sum(c => c.Failovers),
            FailBacks = clients.Sum(c => c.FailBacks),
            FailedTries = Interlocked.Read(ref tally.FailedTries),
            FailedTriesByKind = new SortedDictionary<string, long>(tally.FailedTriesByKind, StringComparer.Ordinal),
            Outages = outages,
            LatencyWindows = Windows(tally.Answers, seconds),
            ServerProcesses = [.. instances.Select(i => ProcessReport(i, mode, tally))],
            MetricsReadingsFailed = processes.FailedReadings,
            ThroughputPerSecond = tally.Answered / seconds,
            LatencyP50Ms = Percentile(latencies, 0.50),
            LatencyP95Ms = Percentile(latencies, 0.95),
            LatencyP99Ms = Percentile(latencies, 0.99),
            PayloadBytesMean = tally.Sent > 0 ? (double)tally.PayloadBytes / tally.Sent : 0,
            ServerExecuted = executed,
            Exited = tally.Exited,
            BytesSaved = tally.BytesSaved,
            ServerCpuSecondsPerDeviceRequest = tally.Answered + tally.Exited > 0 ? Delta("process_cpu_seconds_total") / (tally.Answered + tally.Exited) : 0,
            ServerCpuSecondsPerRequest = Delta("process_cpu_seconds_total") * perRequest,
            ServerAllocatedBytesPerRequest = Delta("dotnet_gc_allocated_bytes_total") * perRequest,
            ServerDecodeSecondsPerRequest = Delta($"cleave_decode_seconds_sum{mode}") / Math.Max(1, Delta($"cleave_decode_seconds_count{mode}")),
            ServerDecodeCpuSecondsPerRequest = Delta($"cleave_decode_cpu_seconds_sum{mode}") / Math.Max(1, Delta($"cleave_decode_cpu_seconds_count{mode}")),
            ServerTailSecondsPerRequest = Delta($"cleave_tail_seconds_sum{mode}") * perRequest,
            MeanBatchSize = batches > 0 ? Delta($"cleave_batch_size_sum{mode}") / batches : 0,
            BatchSizes = sizes,
        };
    }

    private static ServerProcessReport ProcessReport(ServerInstanceMetrics instance, string mode, Tally tally)
    {
        long executed = (long)instance.Delta($"cleave_requests_executed_total{mode}");
        double batches = instance.Delta($"cleave_batch_size_count{mode}");
        return new ServerProcessReport
        {
            ServerId = instance.ServerId,
            FirstSeenSeconds = instance.FirstSeenSeconds,
            LastSeenSeconds = instance.LastSeenSeconds,
            Answered = tally.AnsweredBy.TryGetValue(instance.ServerId, out long answered) ? answered : 0,
            Executed = executed,
            CpuSecondsPerRequest = executed > 0 ? instance.Delta("process_cpu_seconds_total") / executed : 0,
            MeanBatchSize = batches > 0 ? instance.Delta($"cleave_batch_size_sum{mode}") / batches : 0,
        };
    }

    /// <summary>Answers by answer time in windows of 10 s (wider for long tests: 100 windows at most).</summary>
    private static IReadOnlyList<LatencyWindow> Windows(IEnumerable<(double AtSeconds, double Ms)> answers, double seconds)
    {
        double width = Math.Max(10, seconds / 100);
        return [.. answers.GroupBy(a => (int)Math.Min(Math.Floor(a.AtSeconds / width), 100)).OrderBy(g => g.Key).Select(g =>
        {
            var sorted = g.Select(a => a.Ms).Order().ToArray();
            return new LatencyWindow(g.Key * width, (g.Key + 1) * width, sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99));
        })];
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private sealed class Tally
    {
        public long Sent, Answered, Replayed, PayloadBytes, FailedTries, Exited, BytesSaved;
        public readonly ConcurrentBag<double> Latencies = [];
        public readonly ConcurrentBag<(double AtSeconds, double Ms)> Answers = [];
        public readonly ConcurrentDictionary<string, long> AnsweredBy = new(StringComparer.Ordinal);
        public readonly ConcurrentDictionary<string, long> FailedTriesByKind = new(StringComparer.Ordinal);
        public readonly ConcurrentDictionary<string, long> Errors = new(StringComparer.Ordinal);
    }
}
