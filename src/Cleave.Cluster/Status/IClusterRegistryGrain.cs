namespace Cleave.Cluster.Status;

/// <summary>
/// The cluster's list of silos as they describe themselves (key 0: one per cluster). It holds nothing that is not
/// re-reported every few seconds, so when its own silo dies a new activation is full again within one interval.
/// </summary>
public interface IClusterRegistryGrain : IGrainWithIntegerKey
{
    Task Report(SiloCard card);

    /// <summary>Cards reported within the freshness window, ordered by silo.</summary>
    Task<SiloCard[]> List();
}
