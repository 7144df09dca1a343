namespace Cleave.Cluster.Status;

/// <summary>
/// This silo's latest copy of the registry (refreshed with every report), so the handshake path can answer "which
/// silo has this cut" from memory. At most one report interval old; a silo that died is dropped with its card.
/// </summary>
public sealed class ClusterView
{
    private volatile SiloCard[] _silos = [];

    /// <summary>This silo's own address, so it never sends a client to itself.</summary>
    internal string? Self { get; set; }

    public IReadOnlyList<SiloCard> Silos => _silos;

    internal void Update(SiloCard[] silos) => _silos = silos;

    /// <summary>The front end of another silo serving the cut (the one with the fewest requests so far), or null.</summary>
    public Uri? LocateCut(string manifestHash)
    {
        SiloCard? best = null;
        foreach (var card in _silos)
            if (card.Silo != Self && Array.IndexOf(card.Cuts, manifestHash) >= 0 && (best is null || card.Requests < best.Requests))
                best = card;
        return best is null ? null : new Uri(best.FrontEnd);
    }
}
