using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Sessions;
using Cleave.Runtime.Generation;
using Cleave.Cluster.Status;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cleave.Cluster.Hosting;

/// <summary>
/// What every silo of a Cleave cluster runs besides Orleans itself: the language-model engine its session grains
/// use, and the gRPC front end. Silos of one cluster are meant to be alike (the same model and split layer), since a
/// session grain may be placed on any of them.
/// </summary>
public static class ClusterSiloServices
{
    public static IServiceCollection AddCleaveSilo(this IServiceCollection services, FrontEndOptions frontEnd, GenerationOptions? generation)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(frontEnd);
        services.AddSingleton<SessionCounters>();
        services.AddSingleton<ClusterView>();
        if (generation is not null)
        {
            services.AddSingleton(generation);
            services.AddSingleton<GenerationEngine>();
        }
        services.AddSingleton(frontEnd);
        services.AddSingleton<SiloFrontEnd>();
        services.AddHostedService(provider => provider.GetRequiredService<SiloFrontEnd>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<SiloReporter>();
        return services;
    }
}
