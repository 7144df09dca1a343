using System.Net;
using Cleave.Cluster.Sessions;
using Cleave.Cluster.Status;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Serving;
using Cleave.Runtime.Serving.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cleave.Cluster.FrontEnd;

/// <summary>
/// The gRPC front end inside a silo's host: gRPC is not an Orleans transport, so each silo runs its own Kestrel
/// server with the unchanged <c>cleave.v1</c> services, whose generation calls go to grains through this silo's
/// <see cref="IGrainFactory"/>. With classification options it is a full <see cref="SplitServer"/> (tails, batcher,
/// idempotency cache, /metrics) with the cluster's generation service added and cuts it lacks redirected to silos that
/// have them; without, a Kestrel host with generation only.
/// </summary>
public sealed class SiloFrontEnd(FrontEndOptions options, IGrainFactory grains, ILocalSiloDetails siloDetails, SessionCounters sessions, ClusterView view,
    IServiceProvider silo)
    : IHostedService, IAsyncDisposable
{
    private SplitServer? _splitServer;
    private WebApplication? _generationOnly;

    /// <summary>The bound address (set once started), e.g. http://127.0.0.1:7070.</summary>
    public Uri? Url { get; private set; }

    /// <summary>The classification server when this front end serves classification.</summary>
    public SplitServer? SplitServer => _splitServer;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        bool generation = silo.GetService<GenerationEngine>() is not null;
        void AddServices(IServiceCollection services)
        {
            services.AddSingleton(grains);
            services.AddSingleton(options);
        }
        void MapEndpoints(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder endpoints)
        {
            if (generation) endpoints.MapGrpcService<ClusterGenerationService>();
            // Any silo answers for the whole cluster (what `cleave cluster status` prints). It names silo addresses, cuts
            // and model hashes: where callers must authenticate, only this machine may read it (an HTTP endpoint is
            // outside the gRPC authentication interceptor).
            bool loopbackOnly = (options.Classification?.Security ?? options.Security).RequiresAuthentication;
            endpoints.MapGet(ClusterStatus.Path, async (HttpContext http) =>
                loopbackOnly && !(http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote))
                    ? Results.StatusCode(StatusCodes.Status403Forbidden)
                    : Results.Json(await ClusterStatus.ReadAsync(grains, view, TimeSpan.FromSeconds(2)).ConfigureAwait(false), ClusterStatus.JsonOptions));
        }
        string siloName = siloDetails.SiloAddress.ToParsableString();

        if (options.Classification is { } classification)
        {
            _splitServer = await SplitServer.StartAsync(classification with
            {
                Host = options.Host, Port = options.Port,
                // A cut this silo lacks is redirected to a silo that has it (or refused when none has).
                LocateCut = view.LocateCut,
                ConfigureServices = services => { classification.ConfigureServices?.Invoke(services); AddServices(services); },
                ConfigureEndpoints = endpoints => { classification.ConfigureEndpoints?.Invoke(endpoints); MapEndpoints(endpoints); },
            }, cancellationToken).ConfigureAwait(false);
            _splitServer.Metrics.SiloLabel = siloName;
            _splitServer.Metrics.MoreMetrics = sessions.ToPrometheusText;
            Url = _splitServer.Url;
            return;
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Cleartext gRPC must be HTTP/2 only: Http1AndHttp2 without TLS silently becomes HTTP/1.1.
        builder.WebHost.ConfigureKestrel(k =>
        {
            KestrelHardening.Apply(k, new ServerLimits()); // the same connection and HTTP/2 limits as every Cleave server
            k.Listen(IPAddress.Parse(options.Host), options.Port, l => l.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 << 20);
        AddServices(builder.Services);
        // The same API-key authentication and quotas as a classification front end or `serve-lm`.
        builder.Services.AddServerSecurity(options.Security, new ServerSecurityMetrics());
        var app = builder.Build();
        MapEndpoints(app);
        app.MapGet("/healthz", () => Results.Text("ok generation\n"));
        app.MapGet("/metrics", () => Results.Text(Runtime.Serving.ServerMetrics.WithLabel(sessions.ToPrometheusText(), "silo", siloName), "text/plain; version=0.0.4"));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _generationOnly = app;
        Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (_splitServer is { } server)
        {
            _splitServer = null;
            await server.DisposeAsync().ConfigureAwait(false);
        }
        if (_generationOnly is { } app)
        {
            _generationOnly = null;
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await app.StopAsync(deadline.Token).ConfigureAwait(false); }
            finally { await app.DisposeAsync().ConfigureAwait(false); }
        }
    }
}
