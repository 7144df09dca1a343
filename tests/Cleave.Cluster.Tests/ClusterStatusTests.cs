using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Status;
using Cleave.Runtime.Serving;
using Cleave.Runtime.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace Cleave.Cluster.Tests;

/// <summary>
/// `/cluster` answers from the registry grain, and from the answering silo's own copy, marked stale, when the registry
/// does not answer in time (right after the silo holding it died it did not, and `/cluster` used to fail with 500).
/// </summary>
public sealed class ClusterStatusTests
{
    [Fact]
    public async Task The_status_falls_back_to_the_silos_own_copy_marked_stale_when_the_registry_is_late()
    {
        await using var cluster = await ClusterFixture.StartAsync(2, _ => new FrontEndOptions
        {
            Port = 0, Classification = new SplitServerOptions { SplitDirectory = TinySplit.SplitPath, Port = 0, MaxBatch = 1, Threads = 1 },
        }, generation: null);
        await ClusterFixture.WaitForRegistryAsync(cluster);
        var silo = cluster.Silos[0];
        var grains = silo.ServiceProvider.GetRequiredService<IGrainFactory>();
        var view = silo.ServiceProvider.GetRequiredService<ClusterView>();

        var fresh = await ClusterStatus.ReadAsync(grains, view, TimeSpan.FromSeconds(30));
        Assert.Null(fresh.Stale);
        Assert.Equal(2, fresh.Silos.Length);

        // A registry that cannot answer within the deadline (zero here: no grain call completes synchronously).
        var late = await ClusterStatus.ReadAsync(grains, view, TimeSpan.Zero);
        Assert.Contains("did not answer within", late.Stale, StringComparison.Ordinal);
        Assert.Equal(view.Silos.Select(s => s.Silo).Order(StringComparer.Ordinal), late.Silos.Select(s => s.Silo).Order(StringComparer.Ordinal));

        var overHttp = await ClusterStatus.FetchAsync(ClusterFixture.FrontEnd(silo), TimeSpan.FromSeconds(30));
        Assert.Null(overHttp.Stale);
        Assert.Equal(2, overHttp.Silos.Length);
    }
}
