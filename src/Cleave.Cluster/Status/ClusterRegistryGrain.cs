namespace Cleave.Cluster.Status;

internal sealed class ClusterRegistryGrain(TimeProvider time) : Grain, IClusterRegistryGrain
{
    /// <summary>A card older than this (three missed reports) belongs to a silo that has gone.</summary>
    public static readonly TimeSpan Freshness = SiloReporter.Interval * 3;

    /// <summary>Bounded: a cluster of more silos than this is far past what one registry grain is meant for.</summary>
    private const int MaxSilos = 4096;

    private readonly Dictionary<string, SiloCard> _cards = new(StringComparer.Ordinal);

    public Task Report(SiloCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        Prune();
        if (_cards.Count < MaxSilos || _cards.ContainsKey(card.Silo)) _cards[card.Silo] = card with { Reported = time.GetUtcNow() };
        return Task.CompletedTask;
    }

    public Task<SiloCard[]> List()
    {
        Prune();
        return Task.FromResult(_cards.Values.OrderBy(c => c.Silo, StringComparer.Ordinal).ToArray());
    }

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (silo, card) in _cards.ToArray())
            if (now - card.Reported > Freshness) _cards.Remove(silo);
    }
}
