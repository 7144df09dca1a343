using System.Net;
using System.Security.Cryptography.X509Certificates;
using Cleave.Runtime.Serving.Security;
using Cleave.Runtime.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cleave.Runtime.Generation;

/// <summary>
/// A stand-alone generation server: Kestrel, cleartext HTTP/2 (HTTP/1.1 cannot carry gRPC) or TLS with a certificate,
/// one address, callers optionally authenticated (API keys, client certificates: <see cref="ServerSecurityOptions"/>).
/// Port 0 lets the OS choose; <see cref="Address"/> says which it chose.
/// </summary>
public sealed class GenerationServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GenerationServer(WebApplication app, Uri address, MemoryBudget bufferedRequests)
    {
        _app = app;
        Address = address;
        Engine = app.Services.GetRequiredService<GenerationEngine>();
        BufferedRequests = bufferedRequests;
    }

    public Uri Address { get; }
    public GenerationEngine Engine { get; }

    /// <summary>Bytes of partly received Open/Step messages held across all calls (<see cref="ServerLimits.MaxBufferedRequestBytes"/>).</summary>
    public MemoryBudget BufferedRequests { get; }

    /// <param name="limits">Connection and HTTP/2 limits (<see cref="KestrelHardening"/>); the defaults when null.</param>
    /// <param name="security">API keys and client certificates (<see cref="ServerSecurityOptions"/>); none when null.</param>
    /// <param name="certificate">TLS certificate; cleartext HTTP/2 when null.</param>
    public static async Task<GenerationServer> StartAsync(GenerationOptions options, int port = 0, IPAddress? address = null, ServerLimits? limits = null,
        ServerSecurityOptions? security = null, X509Certificate2? certificate = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        security ??= new ServerSecurityOptions();
        security.Validate(certificate is not null);
        limits ??= new ServerLimits();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k =>
        {
            KestrelHardening.Apply(k, limits);
            k.Listen(address ?? IPAddress.Loopback, port, l =>
            {
                if (certificate is null) l.Protocols = HttpProtocols.Http2;
                else ServerSecurityHosting.UseTls(l, certificate, security);
            });
        });
        builder.Services.AddGeneration(options);
        builder.Services.AddServerSecurity(security, new ServerSecurityMetrics());
        builder.Services.AddGrpcHealth(Cleave.Runtime.Protocol.Generation.Descriptor.FullName);
        var app = builder.Build();
        // An Open with history may be up to 16 MiB and gRPC buffers a message whole: without a budget, many calls
        // that each trickle most of one would hold gigabytes (as for `serve`, docs/security.md).
        var bufferedRequests = new MemoryBudget(limits.MaxBufferedRequestBytes);
        app.UseBufferedBodyBudget(bufferedRequests);
        app.MapGeneration();
        app.MapGrpcHealth();
        app.MapGet("/healthz", () => Microsoft.AspNetCore.Http.Results.Text("ok generation\n"));
        _ = app.Services.GetRequiredService<GenerationEngine>(); // load the tail before the first client arrives
        await app.StartAsync().ConfigureAwait(false);
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GenerationServer(app, new Uri(bound), bufferedRequests);
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
