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
    public static async Task<InProcessTestCluster> StartAsync(int silos, GenerationOptions generation)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSiloHost((_, host) => host.Services.AddCleaveSilo(new FrontEndOptions { Port = 0 }, generation));
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

    public static SessionCounters Counters(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<SessionCounters>();
}
