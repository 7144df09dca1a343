using Cleave.Planning.Adaptation;
using Cleave.Planning.Latency;
using Cleave.Planning.Planner;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Tests;

public sealed class AdaptiveSelectorTests
{
    private static readonly Configuration Shallow = Configurations.Split("shallow", "quant:bits=8,entropy=rans", 30, 40_000, 8, 0);
    private static readonly Configuration Deep = Configurations.Split("deep", "rans-ifc:bits=4", 150, 2_500, 2, 0.5);

    /// <summary>Feeds the selector what a request of its current configuration would measure on <paramref name="link"/>.</summary>
    private static void Run(AdaptiveSelector selector, LinkProfile link, int requests)
    {
        for (int i = 0; i < requests; i++)
        {
            var c = selector.Current;
            var b = LatencyModel.Predict(c, link);
            selector.Estimator.ObserveRtt(link.RttMs);
            selector.Observe((long)c.BytesMean + LatencyModel.RequestOverheadBytes, b.UplinkMs + b.RttMs);
        }
    }

    [Fact]
    public void EstimatorRecoversTheUplinkRateFromRequestTimes()
    {
        var estimator = new LinkEstimator(initialUplinkKbps: 20_000, initialRttMs: 30);
        for (int i = 0; i < 12; i++) estimator.ObserveTransfer(10_000, 30 + 80); // 80 kbit in 80 ms: 1000 kbit/s
        Assert.InRange(estimator.UplinkKbps, 990, 1010);
        Assert.Equal(12, estimator.Samples);
    }

    [Fact]
    public void OneDelayedSmallRequestDoesNotCollapseTheRateEstimate()
    {
        var estimator = new LinkEstimator(initialUplinkKbps: 5_000, initialRttMs: 50);
        for (int i = 0; i < 3; i++) estimator.ObserveTransfer(60_000, 50 + 96); // 480 kbit in 96 ms: 5000 kbit/s
        estimator.ObserveTransfer(4_000, 50 + 6.4 + 20); // a 4 KB request held up 20 ms by a busy moment
        Assert.InRange(estimator.UplinkKbps, 4_000, 5_000); // per-sample averaging would say about 1,200 for that one
    }

    [Fact]
    public void SwitchesToTheDeepCutWhenTheLinkSlowsAndBackWhenItRecovers()
    {
        var wifi = LinkProfile.Preset("wifi");
        var ble = LinkProfile.Preset("ble");
        var selector = new AdaptiveSelector([Shallow, Deep], new LinkEstimator(wifi.UplinkKbps, wifi.RttMs));
        Run(selector, wifi, 10);
        Assert.Same(Shallow, selector.Current);
        Assert.Empty(selector.Switches);

        Run(selector, ble, 10);
        Assert.Same(Deep, selector.Current);
        var down = Assert.Single(selector.Switches);
        Assert.InRange(down.Request, 12, 17); // a few requests after the change (window, then two confirmations)
        Assert.True(down.ToPredictedMs < down.FromPredictedMs);

        Run(selector, wifi, 20);
        Assert.Same(Shallow, selector.Current);
        Assert.Equal(2, selector.Switches.Count);
    }

    [Fact]
    public void HysteresisKeepsALinkNearTheCrossoverFromFlapping()
    {
        // Shallow and deep cost the same where 37,500 bytes take 120 ms: about 2500 kbit/s with a 30 ms RTT.
        double crossover = (40_000 - 2_500) * 8 / 120.0;
        // Window 1: every sample moves the estimate, so only the hysteresis stands between the jitter and a switch.
        var selector = new AdaptiveSelector([Shallow, Deep], new LinkEstimator(crossover, 30, window: 1));
        var rng = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            double rate = crossover * (0.9 + 0.2 * rng.NextDouble()); // +-10% around the crossover
            Run(selector, new LinkProfile("jitter", rate, rate, 30, 0), 1);
        }
        Assert.Empty(selector.Switches);

        var eager = new AdaptiveSelector([Shallow, Deep], new LinkEstimator(crossover, 30, window: 1), margin: 0, confirmations: 1, minRequestsBetweenSwitches: 0);
        rng = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            double rate = crossover * (0.9 + 0.2 * rng.NextDouble());
            Run(eager, new LinkProfile("jitter", rate, rate, 30, 0), 1);
        }
        Assert.True(eager.Switches.Count > 10, $"without hysteresis it switched only {eager.Switches.Count} times");
    }

    [Fact]
    public void LocalNeedsNoNetworkSamples()
    {
        var local = Configurations.Local(100);
        var selector = new AdaptiveSelector([local, Shallow], new LinkEstimator(20, 1000));
        for (int i = 0; i < 5; i++) Assert.Same(local, selector.Observe(0, 0));
        Assert.Equal(0, selector.Estimator.Samples);
        Assert.Throws<ArgumentException>(() => new AdaptiveSelector([], new LinkEstimator(1, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinkEstimator(0, 1));
    }
}
