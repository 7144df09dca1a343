using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cleave.Runtime.Serving;

/// <summary>
/// The standard gRPC health service (grpc.health.v1.Health) beside <c>/healthz</c>, so load balancers, Kubernetes
/// gRPC probes and <c>grpc_health_probe</c> can check a Cleave server without knowing Cleave's protocol. It reports
/// SERVING for the whole server ("") and for each Cleave service it hosts; like <c>/healthz</c> it needs no
/// credentials (<see cref="Security.AuthInterceptor"/> lets it through).
/// </summary>
internal static class GrpcHealth
{
    /// <summary>The gRPC method path prefix of the health service.</summary>
    public const string MethodPrefix = "/grpc.health.v1.Health/";

    /// <summary>Registers one health service (a singleton, so its statuses are those every call sees).</summary>
    public static IServiceCollection AddGrpcHealth(this IServiceCollection services, params string[] hostedServices)
    {
        var health = new HealthServiceImpl();
        health.SetStatus("", HealthCheckResponse.Types.ServingStatus.Serving);
        foreach (string service in hostedServices) health.SetStatus(service, HealthCheckResponse.Types.ServingStatus.Serving);
        services.AddSingleton(health);
        return services;
    }

    public static GrpcServiceEndpointConventionBuilder MapGrpcHealth(this IEndpointRouteBuilder endpoints) => endpoints.MapGrpcService<HealthServiceImpl>();
}
