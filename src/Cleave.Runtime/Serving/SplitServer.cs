using System.Net;
using System.Security.Cryptography.X509Certificates;
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
/// certificate), plus <c>/healthz</c> and Prometheus <c>/metrics</c> on the same port. Other services can be added
/// to the same host through <see cref="SplitServerOptions.ConfigureServices"/> and <see cref="SplitServerOptions.ConfigureEndpoints"/>.
/// </summary>
public sealed class SplitServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SplitServer(WebApplication app, ServingState state, Uri url)
    {
        _app = app;
        State = state;
        Url = url;
    }

    /// <summary>The bound address, e.g. http://127.0.0.1:7070 (the real port when 0 was asked for).</summary>
    public Uri Url { get; }

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
                        listen.UseHttps(X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword));
                    }
                });
            });
            builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, EmbeddedHostLifetime>();
            builder.Services.AddSingleton(state);
            builder.Services.AddGrpc(grpc =>
            {
                // Matched to what the served modes can need (split: the cut tensor's largest frame), a little above
                // it so a slightly oversized payload still gets a typed MESSAGE_TOO_LARGE; beyond it gRPC ends the
                // stream with RESOURCE_EXHAUSTED from the message's length prefix, before buffering it.
                grpc.MaxReceiveMessageSize = state.MaxReceiveMessageBytes;
                grpc.MaxSendMessageSize = null;
            });
            options.ConfigureServices?.Invoke(builder.Services);

            var app = builder.Build();
            app.UseBufferedBodyBudget(state.BufferedRequests);
            app.MapGrpcService<SplitInferenceService>();
            app.MapGet("/healthz", () => Results.Text($"ok {string.Join(",", state.Modes)}\n"));
            app.MapGet("/metrics", () => Results.Text(state.Metrics.ToPrometheusText(), "text/plain; version=0.0.4"));
            options.ConfigureEndpoints?.Invoke(app);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);

            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("the server bound no address");
            return new SplitServer(app, state, new Uri(address));
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(deadline.Token).ConfigureAwait(false); }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            State.Dispose();
        }
    }
}
