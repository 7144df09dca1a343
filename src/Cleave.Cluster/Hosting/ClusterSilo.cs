using System.Net;
using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Membership;
using Cleave.Cluster.Security;
using Cleave.Runtime.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Connections.Security;
using StackExchange.Redis;

namespace Cleave.Cluster.Hosting;

/// <summary>
/// A silo process's host: Orleans (development clustering on one machine, or Redis membership), the session grains,
/// and the gRPC front end. What <c>cleave serve --cluster</c> runs. Every failure to start is a
/// <see cref="ClusterStartException"/> with one sentence, and the start is bounded by <see cref="ClusterSiloOptions.StartDeadline"/>.
/// </summary>
public sealed class ClusterSilo : IAsyncDisposable
{
    /// <summary>The Orleans service id: every Cleave cluster is the same service; the cluster id tells clusters apart.</summary>
    public const string ServiceId = "cleave";

    private readonly IHost _host;

    private ClusterSilo(IHost host, SiloCertificateTrust? trust)
    {
        _host = host;
        Trust = trust;
        FrontEnd = host.Services.GetRequiredService<SiloFrontEnd>();
        SiloAddress = host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();
    }

    public SiloFrontEnd FrontEnd { get; }
    public Uri FrontEndUrl => FrontEnd.Url!;
    public string SiloAddress { get; }
    public IServiceProvider Services => _host.Services;

    /// <summary>The TLS trust between silos (null: cleartext): its counts show how many peers were accepted or refused.</summary>
    public SiloCertificateTrust? Trust { get; }

    public static async Task<ClusterSilo> StartAsync(ClusterSiloOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var address = IPAddress.Parse(options.FrontEnd.Host);
        // Silos tell each other where they are: a wildcard bind still needs an address the others can reach.
        var advertised = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? IPAddress.Loopback : address;
        StartChecks.PortFree("silo", "--silo-port", advertised, options.SiloPort);
        StartChecks.PortFree("gateway", "--gateway-port", advertised, options.GatewayPort);
        StartChecks.PortFree("front end", "--port", address, options.FrontEnd.Port);
        if (options.Redis is { } redis) await StartChecks.RedisServesClusterAsync(redis, options.ClusterId, TimeSpan.FromSeconds(5)).ConfigureAwait(false);

        var trust = options.Tls is { } tls ? SiloCertificateTrust.Load(tls) : null;
        try { return await StartAsync(options, advertised, trust, cancellationToken).ConfigureAwait(false); }
        catch
        {
            trust?.Dispose();
            throw;
        }
    }

    private static async Task<ClusterSilo> StartAsync(ClusterSiloOptions options, IPAddress advertised, SiloCertificateTrust? trust, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => { o.ClusterId = options.ClusterId; o.ServiceId = ServiceId; });
            silo.ConfigureEndpoints(advertised, options.SiloPort, options.GatewayPort);
            if (options.Redis is { } redis)
                silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(RedisAddress.Parse(redis)));
            else
                silo.UseDevelopmentClustering(new IPEndPoint(advertised, options.PrimarySiloPort ?? options.SiloPort));
            if (trust is not null) silo.UseTls(trust.Certificate, tls => UseTrust(tls, trust, options.Tls!));
        });
        builder.Services.AddCleaveSilo(options.FrontEnd, options.Generation);
        var host = builder.Build();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.StartDeadline);
        string? refused = null;
        try
        {
            var start = host.StartAsync(deadline.Token);
            if (trust is not null)
            {
                // A peer whose certificate this silo refuses is a member it cannot talk to: joining cannot succeed,
                // so fail now rather than at the join deadline.
                if (await Task.WhenAny(start, trust.FirstRejection).ConfigureAwait(false) != start)
                {
                    refused = await trust.FirstRejection.ConfigureAwait(false);
                    await deadline.CancelAsync().ConfigureAwait(false);
                }
            }
            await start.ConfigureAwait(false);
            if (refused is not null) throw new OperationCanceledException(refused);
            return new ClusterSilo(host, trust);
        }
        catch (Exception e)
        {
            await StopAsync(host).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) throw;
            if (refused is not null) throw new ClusterStartException($"TLS between silos failed, so this silo cannot join cluster '{options.ClusterId}': {refused}", e);
            throw e is OperationCanceledException
                ? new ClusterStartException($"the silo did not join cluster '{options.ClusterId}' within {options.StartDeadline.TotalSeconds:0} s " +
                    (options.Redis is null ? $"(is the primary silo listening on port {options.PrimarySiloPort ?? options.SiloPort}, with the same cluster id?)" : "(can the other silos be reached?)") +
                    (trust is null ? "" : " (with --silo-cert: do the other silos use TLS and trust this silo's certificate?)"), e)
                : new ClusterStartException($"the silo could not start: {e.GetBaseException().Message}", e);
        }
    }

    /// <summary>Mutual TLS on the silo and gateway ports: both ends present a certificate and both check the other's.</summary>
    private static void UseTrust(TlsOptions tls, SiloCertificateTrust trust, SiloTlsOptions options)
    {
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.RemoteCertificateValidation = trust.Validate;
        tls.HandshakeTimeout = options.HandshakeTimeout;
    }

    /// <summary>
    /// Stops the host within <see cref="StopDeadline"/> in all: Orleans' graceful leave gets most of it, the disposal
    /// the rest. Orleans does not always honour the stop token: with the Redis membership gone (the server died or the
    /// network is cut) its leave waits on Redis commands that StackExchange.Redis keeps retrying, and a SIGTERM'd silo
    /// then took about two minutes to exit. Past the deadline the wait is abandoned; the process may exit with work
    /// still pending there, which the other silos treat like a crash (membership declares it dead).
    /// </summary>
    private static async Task StopAsync(IHost host)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(StopDeadline * 0.7);
        try { await host.StopAsync(stop.Token).WaitAsync(StopDeadline * 0.7).ConfigureAwait(false); }
        // InvalidOperationException: a start cut short (a refused TLS peer) leaves the silo "Starting", which Orleans will not shut down.
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or OrleansException or InvalidOperationException) { /* leaving anyway */ }
        var left = StopDeadline - clock.Elapsed;
        if (left <= TimeSpan.Zero) return;
        try { await Task.Run(host.Dispose).WaitAsync(left).ConfigureAwait(false); }
        catch (TimeoutException) { /* abandoned: see above */ }
    }

    /// <summary>The most a silo spends leaving the cluster (graceful leave, then disposal).</summary>
    public static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(15);

    /// <summary>Leaves the cluster gracefully (sessions here are lost; their clients resume elsewhere).</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(_host).ConfigureAwait(false);
        Trust?.Dispose();
    }
}
