using System.Net;
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
/// A stand-alone generation server: Kestrel, cleartext HTTP/2 (HTTP/1.1 cannot carry gRPC), one address. Port 0 lets
/// the OS choose; <see cref="Address"/> says which it chose.
/// </summary>
public sealed class GenerationServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GenerationServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Engine = app.Services.GetRequiredService<GenerationEngine>();
    }

    public Uri Address { get; }
    public GenerationEngine Engine { get; }

    /// <param name="limits">Connection and HTTP/2 limits (<see cref="KestrelHardening"/>); the defaults when null.</param>
    public static async Task<GenerationServer> StartAsync(GenerationOptions options, int port = 0, IPAddress? address = null, ServerLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            KestrelHardening.Apply(k, limits ?? new ServerLimits());
            k.Listen(address ?? IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGeneration(options);
        var app = builder.Build();
        app.MapGeneration();
        _ = app.Services.GetRequiredService<GenerationEngine>(); // load the tail before the first client arrives
        await app.StartAsync().ConfigureAwait(false);
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GenerationServer(app, new Uri(bound));
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
