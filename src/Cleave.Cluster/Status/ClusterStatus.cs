using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cleave.Cluster.Status;

/// <summary>The cluster as its silos describe themselves: served by every front end at <see cref="Path"/>.</summary>
public sealed record ClusterStatus
{
    public const string Path = "/cluster";

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public required SiloCard[] Silos { get; init; }

    public long Sessions => Silos.Sum(s => s.Sessions);

    /// <summary>
    /// Set when the registry grain did not answer in time and <see cref="Silos"/> is this silo's own copy instead (at
    /// most one report interval older than the registry); says why.
    /// </summary>
    public string? Stale { get; init; }

    /// <summary>
    /// The registry's list, or, when the registry does not answer within <paramref name="timeout"/>, this silo's last
    /// copy of it marked <see cref="Stale"/>. The registry is one grain: right after the silo that held it dies, calls
    /// to it fail or wait until membership declares that silo dead and the grain re-activates elsewhere (tens of
    /// seconds), which is exactly when an operator asks for the status.
    /// </summary>
    public static async Task<ClusterStatus> ReadAsync(IGrainFactory grains, ClusterView fallback, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(fallback);
        try
        {
            return new ClusterStatus { Silos = await grains.GetGrain<IClusterRegistryGrain>(0).List().WaitAsync(timeout).ConfigureAwait(false) };
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or OperationCanceledException)
        {
            string reason = e is TimeoutException ? $"the cluster registry did not answer within {timeout.TotalSeconds:0.#} s" : $"the cluster registry failed: {e.Message}";
            return new ClusterStatus { Silos = [.. fallback.Silos], Stale = $"{reason}; this is the answering silo's last copy (a silo may have just died)" };
        }
    }

    /// <summary>Reads a silo front end's <see cref="Path"/> over cleartext HTTP/2 (the front end speaks nothing else without TLS).</summary>
    public static async Task<ClusterStatus> FetchAsync(Uri frontEnd, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frontEnd);
        using var http = new HttpClient { Timeout = timeout, DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await http.GetAsync(new Uri(frontEnd, Path), cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await JsonSerializer.DeserializeAsync<ClusterStatus>(body, JsonOptions, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"{frontEnd} answered an empty cluster status");
    }
}
