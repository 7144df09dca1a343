using System.Globalization;

namespace Cleave.Runtime.Load;

/// <summary>
/// Follows the server's <c>/metrics</c> through a load test, split by server instance (<c>cleave_server_info</c>'s
/// <c>server_id</c>, which changes when the server restarts and its counters begin again at zero): for each instance
/// its first and latest reading. A reading that fails (the server is down) is skipped. An instance first seen
/// during the test counts from zero; an instance killed counts up to its last reading before the kill.
/// </summary>
internal sealed class ServerProcessTracker
{
    public const string InfoSeries = "cleave_server_info";

    private readonly Lock _lock = new();
    private readonly List<Instance> _instances = [];
    private long _failedReadings;

    /// <summary>Readings that failed (server unreachable, or no answer in time).</summary>
    public long FailedReadings => Interlocked.Read(ref _failedReadings);

    /// <summary>The instance id a reading belongs to ("" for a server that does not write one).</summary>
    public static string ServerIdOf(MetricsSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        const string prefix = InfoSeries + "{server_id=\"";
        foreach (string series in snapshot.Samples.Keys)
            if (series.StartsWith(prefix, StringComparison.Ordinal) && series.EndsWith("\"}", StringComparison.Ordinal))
                return series[prefix.Length..^2];
        return "";
    }

    /// <summary>Adds a reading taken <paramref name="atSeconds"/> into the test; <paramref name="baseline"/> marks the reading before it began.</summary>
    public void Add(MetricsSnapshot snapshot, double atSeconds, bool baseline = false)
    {
        string id = ServerIdOf(snapshot);
        lock (_lock)
        {
            var instance = _instances.Find(i => i.ServerId == id);
            if (instance is null)
                _instances.Add(new Instance(id, baseline ? snapshot : MetricsSnapshot.Empty, snapshot, atSeconds));
            else
            {
                instance.Last = snapshot;
                instance.LastSeenSeconds = atSeconds;
            }
        }
    }

    public void ReadingFailed() => Interlocked.Increment(ref _failedReadings);

    /// <summary>Reads <c>/metrics</c> every <paramref name="interval"/> until cancelled (failures are counted, not thrown).</summary>
    public async Task PollAsync(Func<CancellationToken, Task<MetricsSnapshot>> read, TimeSpan interval, Func<double> now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(now);
        while (!cancellationToken.IsCancellationRequested)
        {
            try { await Task.Delay(interval, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            try { Add(await read(cancellationToken).ConfigureAwait(false), now()); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or TimeoutException) { ReadingFailed(); }
        }
    }

    /// <summary>Every instance seen, in order of first sighting, with its counters over the test.</summary>
    public IReadOnlyList<ServerInstanceMetrics> Instances()
    {
        lock (_lock) return [.. _instances.Select(i => new ServerInstanceMetrics(i.ServerId, i.FirstSeenSeconds, i.LastSeenSeconds, i.Baseline, i.Last))];
    }

    private sealed class Instance(string serverId, MetricsSnapshot baseline, MetricsSnapshot last, double seenSeconds)
    {
        public string ServerId { get; } = serverId;
        public MetricsSnapshot Baseline { get; } = baseline;
        public MetricsSnapshot Last { get; set; } = last;
        public double FirstSeenSeconds { get; } = seenSeconds;
        public double LastSeenSeconds { get; set; } = seenSeconds;
    }
}
