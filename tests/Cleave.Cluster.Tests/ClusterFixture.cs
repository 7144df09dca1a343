using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Hosting;
using Cleave.Cluster.Sessions;
using Cleave.Runtime.Generation;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Cleave.Cluster.Tests;

/// <summary>
/// Orleans' in-process test cluster with silos that each co-host a real gRPC front end on 127.0.0.1 (port chosen by
/// the OS) and a stories260K generation engine. Failure detection is tightened so a killed silo is declared dead in
/// a few seconds rather than the production default of about a minute.
/// </summary>
internal static class ClusterFixture
{
    public static Task<InProcessTestCluster> StartAsync(int silos, GenerationOptions generation) =>
        StartAsync(silos, _ => new FrontEndOptions { Port = 0 }, generation);

    /// <param name="frontEnd">The front end of the n-th silo configured (the test cluster's order, not necessarily <c>Silos</c>' order).</param>
    public static async Task<InProcessTestCluster> StartAsync(int silos, Func<int, FrontEndOptions> frontEnd, GenerationOptions? generation)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        // Silos are configured concurrently: number them under a lock (GetOrAdd(name, _ => Count) gave two silos index 0).
        var indices = new Dictionary<string, int>();
        int IndexOf(string silo)
        {
            lock (indices)
            {
                if (!indices.TryGetValue(silo, out int index)) indices[silo] = index = indices.Count;
                return index;
            }
        }
        builder.ConfigureSiloHost((silo, host) => host.Services.AddCleaveSilo(frontEnd(IndexOf(silo.SiloName)), generation));
        builder.ConfigureSilo((_, silo) => silo.Configure<ClusterMembershipOptions>(membership =>
        {
            membership.ProbeTimeout = TimeSpan.FromSeconds(1);
            membership.NumMissedProbesLimit = 2;
            membership.NumVotesForDeathDeclaration = 1;
        }));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public static Uri FrontEnd(InProcessSiloHandle silo) =>
        silo.ServiceProvider.GetRequiredService<SiloFrontEnd>().Url ?? throw new InvalidOperationException("the front end has not started");

    /// <summary>Waits until every silo's view of the registry lists all of them (silos report every 2 s).</summary>
    public static async Task WaitForRegistryAsync(InProcessTestCluster cluster)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!cluster.Silos.All(s => s.ServiceProvider.GetRequiredService<Status.ClusterView>().Silos.Count == cluster.Silos.Count))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("the silos did not all report within 30 s");
            await Task.Delay(100);
        }
    }

    public static SessionCounters Counters(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<SessionCounters>();
}
