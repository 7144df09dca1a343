using System.Diagnostics;
using Cleave.Cluster.FrontEnd;
using Cleave.Cluster.Sessions;
using Cleave.Runtime.Generation;
using Cleave.Runtime.Serving;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cleave.Cluster.Status;

/// <summary>Reports this silo's <see cref="SiloCard"/> to the registry every <see cref="Interval"/> and keeps <see cref="ClusterView"/> current.</summary>
internal sealed class SiloReporter(IGrainFactory grains, ILocalSiloDetails silo, SiloFrontEnd frontEnd, SessionCounters sessions,
    ClusterView view, IServiceProvider services, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private TimeSpan _lastCpu = Process.GetCurrentProcess().TotalProcessorTime;
    private long _lastAt = time.GetTimestamp();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            if (frontEnd.Url is null) continue;
            try
            {
                var registry = grains.GetGrain<IClusterRegistryGrain>(0);
                await registry.Report(Card()).ConfigureAwait(false);
                view.Self = silo.SiloAddress.ToParsableString();
                view.Update(await registry.List().ConfigureAwait(false));
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                // the registry's silo may be going away; the next report reaches its new activation
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    internal SiloCard Card()
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var elapsed = time.GetElapsedTime(_lastAt);
        double percent = elapsed > TimeSpan.Zero ? 100 * (cpu - _lastCpu).TotalSeconds / elapsed.TotalSeconds : 0;
        (_lastCpu, _lastAt) = (cpu, time.GetTimestamp());
        var cuts = new List<string>();
        long requests = 0;
        if (frontEnd.SplitServer?.State is { } state)
        {
            foreach (string mode in state.Modes)
            {
                var backend = state.Backend(mode);
                cuts.Add(mode.StartsWith(ServingModes.Split, StringComparison.Ordinal) ? backend.ModelHash : $"{ServingModes.Full}:{backend.ModelHash}");
            }
            requests = state.Metrics.RequestCount;
        }
        var engine = services.GetService<GenerationEngine>();
        return new SiloCard
        {
            Silo = silo.SiloAddress.ToParsableString(),
            FrontEnd = frontEnd.Url!.ToString(),
            Cuts = [.. cuts.Order(StringComparer.Ordinal)],
            LanguageModel = engine is null ? "" : $"{engine.Config.SourceSha256}@{engine.SplitLayer}",
            Sessions = sessions.Active, SessionsResumed = sessions.Resumed, ReplayedTokens = sessions.ReplayedTokens,
            Requests = requests, CpuPercent = percent, WorkingSetBytes = process.WorkingSet64,
        };
    }
}
