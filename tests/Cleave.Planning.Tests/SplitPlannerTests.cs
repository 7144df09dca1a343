using Cleave.Planning.Latency;
using Cleave.Planning.Planner;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Tests;

public sealed class SplitPlannerTests
{
    private static PlanDecision Decide(string link, double maxDrop = 1, double? slo = null, PlanObjective objective = PlanObjective.Latency) =>
        SplitPlanner.Decide(Configurations.Typical(), new PlanRequest(LinkProfile.Preset(link), maxDrop, slo, objective));

    [Fact]
    public void LatencyModelAddsComputeSerializationAndOneRoundTrip()
    {
        var c = Configurations.Split("t", "raw", headMs: 10, bytes: 10_000 - LatencyModel.RequestOverheadBytes, tailMs: 5, drop: 0);
        var link = new LinkProfile("test", UplinkKbps: 1000, DownlinkKbps: 512, RttMs: 40, Loss: 0);
        var b = LatencyModel.Predict(c, link);
        Assert.Equal(80, b.UplinkMs, 9); // 10,000 bytes = 80 kbit at 1000 kbit/s
        Assert.Equal(1, b.DownlinkMs, 9); // 64 bytes = 0.512 kbit at 512 kbit/s
        Assert.Equal(10 + 0.5 + 80 + 40 + 0.5 + 5 + 1, b.TotalMs, 9);
        Assert.Equal(200, LatencyModel.Predict(Configurations.Local(200), link).TotalMs);
    }

    [Fact]
    public void FastLinkOffloadsSlowLinkCutsDeepAndCompressesHard()
    {
        // Wi-Fi: 40 KB costs 17 ms; the shallow cut (30 ms on the device) wins (JPEG offload is faster but loses 3 points).
        Assert.Equal("split:shallow|quant:bits=8,entropy=rans", Decide("wifi").Chosen.Configuration.Id);
        // BLE: 40 KB costs 320 ms; the deep 4-bit cut (2.5 KB, 20 ms) is the fastest within the 1-point budget.
        Assert.Equal("split:deep|rans-ifc:bits=4", Decide("ble").Chosen.Configuration.Id);
        // LoRa (20 kbit/s, 1 s RTT): nothing beats staying on the device.
        Assert.Equal(Configuration.LocalId, Decide("lora").Chosen.Configuration.Id);
    }

    [Fact]
    public void PacketLossCostsEachSegmentItsExpectedRetransmissionsAndPushesTheChoiceToSmallFrames()
    {
        var wifi = LinkProfile.Preset("wifi");
        var lossy = wifi with { Loss = 0.05 };
        var shallow = Configurations.Typical().Single(c => c.Id == "split:shallow|quant:bits=8,entropy=rans");
        // 40,048 bytes = 28 segments of 1448; each is lost p / (1 - p) times on average, each loss one RTO (200 ms minimum).
        double expected = 28 * (0.05 / 0.95) * 200;
        Assert.Equal(LatencyModel.Predict(shallow, wifi).UplinkMs + expected, LatencyModel.Predict(shallow, lossy).UplinkMs, 3); // TimeSpan ticks
        // Without loss the shallow cut wins on Wi-Fi; with 5 % loss its 28 segments cost ~295 ms and the deep 4-bit cut
        // (2 segments) wins instead.
        Assert.Equal("split:shallow|quant:bits=8,entropy=rans", Decide("wifi").Chosen.Configuration.Id);
        var decision = SplitPlanner.Decide(Configurations.Typical(), new PlanRequest(lossy, 1));
        Assert.Equal("split:deep|rans-ifc:bits=4", decision.Chosen.Configuration.Id);
    }

    [Fact]
    public void AccuracyBudgetExcludesLossyCodecs()
    {
        var tight = Decide("ble", maxDrop: 0.1).Chosen.Configuration;
        Assert.True(tight.DropPoints <= 0.1);
        Assert.Equal("split:deep|quant:bits=8,entropy=rans", tight.Id);
        Assert.Equal("split:deep|rans-ifc:bits=2", Decide("ble", maxDrop: 50).Chosen.Configuration.Id);
    }

    [Fact]
    public void UnmeetableSloIsReportedWithTheBindingConstraint()
    {
        var d = Decide("lora", maxDrop: 1, slo: 50);
        Assert.False(d.Feasible);
        Assert.Equal(Configuration.LocalId, d.Chosen.Configuration.Id); // fastest within the accuracy budget
        Assert.Contains("SLO", d.Explanation);
        Assert.Contains("nothing meets the budget", d.Explanation);
    }

    [Fact]
    public void ObjectivesChangeTheChoice()
    {
        // Bytes: sending nothing is cheapest; once an SLO rules local out, the fewest bytes that meet it.
        Assert.Equal(Configuration.LocalId, Decide("wifi", objective: PlanObjective.Bytes).Chosen.Configuration.Id);
        Assert.Equal("split:deep|rans-ifc:bits=4", Decide("wifi", slo: 170, objective: PlanObjective.Bytes).Chosen.Configuration.Id);
        // Server time: local costs the server nothing.
        Assert.Equal(Configuration.LocalId, Decide("wifi", objective: PlanObjective.ServerTime).Chosen.Configuration.Id);
        // With an SLO that local cannot meet, the cheapest server work that can.
        var d = Decide("wifi", slo: 170, objective: PlanObjective.ServerTime);
        Assert.True(d.Feasible);
        Assert.Equal(ConfigurationKind.Split, d.Chosen.Configuration.Kind);
        Assert.True(d.Chosen.Latency.TotalMs <= 170);
        Assert.Equal(2.5, d.Chosen.Configuration.ServerTotalMs);
    }

    [Fact]
    public void ParetoFrontHoldsNoDominatedConfiguration()
    {
        var d = Decide("ble");
        var front = d.ParetoFront;
        Assert.NotEmpty(front);
        foreach (var a in front)
            foreach (var b in d.Candidates)
                Assert.False(b.Latency.TotalMs < a.Latency.TotalMs && b.Configuration.DropPoints < a.Configuration.DropPoints,
                    $"{b.Configuration.Id} dominates {a.Configuration.Id}");
        // The deep 8-bit cut is slower than the 4-bit one but loses nothing, so it stays on the front.
        Assert.Contains(front, e => e.Configuration.Id == "split:deep|quant:bits=8,entropy=rans");
        Assert.DoesNotContain(front, e => e.Configuration.Kind == ConfigurationKind.Offload); // 20 KB up and 3 points: dominated
    }

    [Fact]
    public void AdaptiveSetCoversTheLinksAChangingNetworkVisits()
    {
        var all = Configurations.Typical();
        var d = SplitPlanner.Decide(all, new PlanRequest(LinkProfile.Preset("wifi"), 1));
        var set = SplitPlanner.AdaptiveSet(all, d);
        Assert.Equal(d.Chosen.Configuration.Id, set[0].Id);
        Assert.Contains(set, c => c.Id == "split:deep|rans-ifc:bits=4");
        Assert.Contains(set, c => c.Id == Configuration.LocalId);
        Assert.All(set, c => Assert.True(c.DropPoints <= 1));
        Assert.Equal(set.Count, set.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void BadBudgetsAreRejected()
    {
        var all = Configurations.Typical();
        Assert.Throws<ArgumentOutOfRangeException>(() => SplitPlanner.Decide(all, new PlanRequest(LinkProfile.Preset("ble"), -1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SplitPlanner.Decide(all, new PlanRequest(LinkProfile.Preset("ble"), 1, SloMs: 0)));
        Assert.Throws<ArgumentException>(() => SplitPlanner.Decide([], new PlanRequest(LinkProfile.Preset("ble"), 1)));
        Assert.Throws<ArgumentException>(() => PlanRequest.ParseObjective("cheapest"));
    }
}
