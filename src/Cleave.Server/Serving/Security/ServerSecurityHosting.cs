using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace Cleave.Runtime.Serving.Security;

/// <summary>Puts <see cref="ServerSecurityOptions"/> on a Kestrel gRPC host: TLS with optional client certificates, and the authentication interceptor.</summary>
public static class ServerSecurityHosting
{
    /// <summary>
    /// Registers the authenticator and, when callers must authenticate, <see cref="AuthInterceptor"/> on every gRPC
    /// service of the host, and the per-caller <see cref="ClientQuotas"/>: <paramref name="quotas"/> when the host already
    /// has them (so every service on it counts against one quota per caller), else new ones owned by the host.
    /// <paramref name="metrics"/> is shared with whoever exports it.
    /// </summary>
    public static IServiceCollection AddServerSecurity(this IServiceCollection services, ServerSecurityOptions options, ServerSecurityMetrics metrics,
        ClientQuotas? quotas = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        services.AddSingleton(metrics);
        if (quotas is null) services.AddSingleton(_ => new ClientQuotas(metrics)); // a factory: the host disposes it
        else services.AddSingleton(quotas);
        if (options.RequiresAuthentication)
        {
            // Built now, not on the first call: an unreadable key file or CA fails the start, not a client's request.
            services.AddSingleton(new ClientAuthenticator(options));
            services.AddGrpc(grpc => grpc.Interceptors.Add<AuthInterceptor>());
        }
        return services;
    }

    /// <summary>
    /// TLS on <paramref name="listen"/> with <paramref name="certificate"/>. With a client CA the TLS layer asks for a
    /// client certificate but accepts any: the chain is checked per call by <see cref="ClientAuthenticator"/>, so a
    /// certificate from another CA gets a typed UNAUTHENTICATED instead of a bare handshake failure.
    /// </summary>
    public static void UseTls(ListenOptions listen, X509Certificate2 certificate, ServerSecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(options);
        listen.UseHttps(https =>
        {
            https.ServerCertificate = certificate;
            if (options.ClientCaPath is not null)
            {
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.ClientCertificateValidation = (_, _, _) => true;
            }
        });
    }
}
