using System.Net;
using System.Security.Cryptography.X509Certificates;
using Cleave.Runtime.Serving.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cleave.Runtime.Serving;

/// <summary>
/// A Kestrel host serving <c>cleave.v1.SplitInference</c> over gRPC (cleartext HTTP/2 by default, TLS with a
/// certificate), plus <c>/healthz</c> and Prometheus <c>/metrics</c> on the same port (or <c>/metrics</c> on a separate,
/// loopback-only port: <see cref="ServerSecurityOptions.MetricsPort"/>); callers authenticated per <see cref="SplitServerOptions.Security"/>. Other services can be added
/// to the same host through <see cref="SplitServerOptions.ConfigureServices"/> and <see cref="SplitServerOptions.ConfigureEndpoints"/>.
/// </summary>
public sealed class SplitServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SplitServer(WebApplication app, ServingState state, Uri url, Uri metricsUrl)
    {
        _app = app;
        State = state;
        Url = url;
        MetricsUrl = metricsUrl;
    }

    /// <summary>The bound address, e.g. http://127.0.0.1:7070 (the real port when 0 was asked for).</summary>
    public Uri Url { get; }

    /// <summary>Where <c>/metrics</c> is served: <see cref="Url"/>, or the separate metrics port (HTTP/1.1) when one was asked for.</summary>
    public Uri MetricsUrl { get; }

    public ServingState State { get; }

    public ServerMetrics Metrics => State.Metrics;

    /// <summary>Loads the models, binds the port and starts answering; the returned server runs until disposed.</summary>
    public static async Task<SplitServer> StartAsync(SplitServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var state = new ServingState(options);
        try
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrelHttpsConfiguration();
            var security = options.Security;
            ListenOptions? metricsListen = null;
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                KestrelHardening.Apply(kestrel, options.Limits);
                kestrel.Listen(IPAddress.Parse(options.Host), options.Port, listen =>
                {
                    if (options.CertificatePath is null)
                    {
                        // Cleartext gRPC must be HTTP/2 only: Http1AndHttp2 without TLS silently becomes HTTP/1.1.
                        listen.Protocols = HttpProtocols.Http2;
                    }
                    else
                    {
                        listen.Protocols = HttpProtocols.Http1AndHttp2;
                        ServerSecurityHosting.UseTls(listen, X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword), security);
                    }
                });
                // Plain HTTP/1.1 (what Prometheus and curl speak), loopback by default: not reachable by clients.
                if (security.MetricsPort is int metricsPort)
                    kestrel.Listen(IPAddress.Parse(security.MetricsHost), metricsPort, listen => { listen.Protocols = HttpProtocols.Http1; metricsListen = listen; });
            });
            builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, EmbeddedHostLifetime>();
            builder.Services.AddSingleton(state);
            // The caller's factory replaces the host's (which has no providers): its providers and levels decide.
            if (options.LoggerFactory is { } loggers) builder.Services.AddSingleton(loggers);
            builder.Services.AddGrpc(grpc =>
            {
                // Matched to what the served modes can need (split: the cut tensor's largest frame), a little above
                // it so a slightly oversized payload still gets a typed MESSAGE_TOO_LARGE; beyond it gRPC ends the
                // stream with RESOURCE_EXHAUSTED from the message's length prefix, before buffering it.
                grpc.MaxReceiveMessageSize = state.MaxReceiveMessageBytes;
                grpc.MaxSendMessageSize = null;
            });
            builder.Services.AddServerSecurity(security, state.SecurityMetrics, state.Quotas);
            builder.Services.AddGrpcHealth(Protocol.SplitInference.Descriptor.FullName);
            options.ConfigureServices?.Invoke(builder.Services);

            var app = builder.Build();
            app.UseBufferedBodyBudget(state.BufferedRequests);
            app.MapGrpcService<SplitInferenceService>();
            app.MapGrpcHealth();
            app.MapGet("/healthz", () => Results.Text($"ok {string.Join(",", state.Modes)}\n"));
            app.MapGet("/metrics", (HttpContext http) => metricsListen is null || http.Connection.LocalPort == metricsListen.IPEndPoint!.Port
                ? Results.Text(state.Metrics.ToPrometheusText(), "text/plain; version=0.0.4")
                : Results.NotFound());
            options.ConfigureEndpoints?.Invoke(app);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);

            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("the server bound no address");
            var url = new Uri(address);
            // Kestrel writes the port it bound (for port 0) back into the listen options.
            var metricsUrl = metricsListen is null ? url : new UriBuilder("http", security.MetricsHost, metricsListen.IPEndPoint!.Port).Uri;
            return new SplitServer(app, state, url, metricsUrl);
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var deadline = new CancellationTokenSource(State.Options.ShutdownTimeout);
        try { await _app.StopAsync(deadline.Token).ConfigureAwait(false); }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            State.Dispose();
        }
    }
}
