using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cleave.Runtime.Generation;

/// <summary>Puts the generation service on any ASP.NET Core host: <c>services.AddGeneration(options)</c>, then <c>app.MapGeneration()</c>.</summary>
public static class GenerationHosting
{
    /// <summary>Registers gRPC and one <see cref="GenerationEngine"/> (created on first use, disposed with the host).</summary>
    public static IServiceCollection AddGeneration(this IServiceCollection services, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddGrpc(o => o.MaxReceiveMessageSize = 16 << 20);
        services.AddSingleton(options);
        services.AddSingleton<GenerationEngine>();
        return services;
    }

    public static GrpcServiceEndpointConventionBuilder MapGeneration(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGrpcService<GenerationService>();
    }
}
