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

    public static async Task<ClusterStatus> ReadAsync(IGrainFactory grains)
    {
        ArgumentNullException.ThrowIfNull(grains);
        return new ClusterStatus { Silos = await grains.GetGrain<IClusterRegistryGrain>(0).List().ConfigureAwait(false) };
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
