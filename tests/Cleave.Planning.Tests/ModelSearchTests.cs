using Cleave.Planning.Planner;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Tests;

/// <summary>
/// The joint model x cut x codec search on profiles with this machine's measured figures (<see cref="ModelProfiles"/>),
/// the device 50 times slower (x0.02): MobileNetV2 runs locally in 278 ms, MobileNetV1 0.5 in 80 ms, 0.25 in 28 ms.
/// </summary>
public sealed class ModelSearchTests
{
    private const string Conv1Q8 = "mnv2/split:expanded_conv_1/project|quant:bits=8,entropy=rans";
    private const string Conv6Q4 = "mnv2/split:expanded_conv_6/project|rans-ifc:bits=4,ctx=2d";

    private static ModelSet Models() => ModelSet.Create(
    [
        new ModelEntry("mnv2", "mnv2.onnx", ModelProfiles.Mnv2()),
        new ModelEntry("mnv1_050", "mnv1_050.onnx", ModelProfiles.Mnv1Half()),
        new ModelEntry("mnv1_025", "mnv1_025.onnx", ModelProfiles.Mnv1Quarter()),
    ]);

    private static string Choose(double thresholdMs, string link, double maxDrop = 50) =>
        ModelSearch.Decide(Models(), new Hardware(0.02), new PlanRequest(LinkProfile.Preset(link), maxDrop, thresholdMs, PlanObjective.Accuracy)).Chosen.Id;

    [Fact]
    public void TheMostAccurateModelUnderTheThresholdIsChosenAndTheChoiceMovesWithTheThreshold()
    {
        Assert.Equal("mnv1_025/local", Choose(50, "wifi"));   // only the smallest model fits 50 ms
        Assert.Equal("mnv1_050/local", Choose(100, "lora"));  // 80 ms locally, 22 points better
        // Over Wi-Fi the same model, cut, is as accurate and faster (66 ms): the tie goes to latency.
        Assert.Equal("mnv1_050/split:conv_pw_5|quant:bits=8,entropy=rans", Choose(100, "wifi"));
        Assert.Equal(Conv1Q8, Choose(150, "wifi"));            // the big model, cut early: 134 ms
        Assert.Equal("mnv2/local", Choose(300, "lora"));       // the big model whole: 278 ms
        var d = ModelSearch.Decide(Models(), new Hardware(0.02), new PlanRequest(LinkProfile.Preset("lora"), 50, 100, PlanObjective.Accuracy));
        Assert.Contains("mnv1_050/local has the highest accuracy", d.Decision.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void AtOneThresholdTheChoiceMovesWithTheLink()
    {
        Assert.Equal(Conv1Q8, Choose(150, "wifi"));            // 59 KB over Wi-Fi fits
        Assert.Equal("mnv1_050/local", Choose(150, "lte"));   // over LTE no MobileNetV2 configuration does
        Assert.Equal(Conv6Q4, Choose(300, "ble"));             // BLE: the deep cut at 4 bits (237 ms) beats local (278 ms)
        Assert.Equal("mnv2/local", Choose(300, "lora"));
    }

    [Fact]
    public void TheSweepCoversEveryThresholdAndPresetAndFindsTheSameChoices()
    {
        double[] thresholds = [50, 100, 150, 300];
        var cells = ModelSearch.Sweep(Models(), new Hardware(0.02), LinkProfile.Presets, thresholds, 50, PlanObjective.Accuracy);
        Assert.Equal(thresholds.Length * LinkProfile.Presets.Count, cells.Count);
        Assert.All(cells, c => Assert.Equal(Choose(c.ThresholdMs, c.Link), c.Chosen));
        Assert.All(cells.Where(c => c.Feasible), c => Assert.True(c.PredictedMs <= c.ThresholdMs, $"{c.Chosen} on {c.Link}: {c.PredictedMs} ms > {c.ThresholdMs}"));
        Assert.True(cells.Select(c => c.Chosen).Distinct().Count() >= 4);
        Assert.Equal(3, cells.Select(c => c.Model).Distinct().Count());
    }

    [Fact]
    public void AnAbsoluteFloorNoModelMeetsInTimeIsReportedNotHidden()
    {
        var models = Models();
        double budget = models.DropBudgetFor(80); // 80 % top-1: MobileNetV2 only
        var d = ModelSearch.Decide(models, new Hardware(0.02), new PlanRequest(LinkProfile.Preset("wifi"), budget, 50, PlanObjective.Accuracy));
        Assert.False(d.Decision.Feasible);
        Assert.Equal("mnv2", d.Chosen.Model);
        Assert.Contains("SLO of 50 ms binds", d.Decision.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void TheThreeObjectiveFrontHoldsExactlyTheUndominatedConfigurations()
    {
        var d = ModelSearch.Decide(Models(), new Hardware(0.02), new PlanRequest(LinkProfile.Preset("lte"), 50));
        static double Bytes(EvaluatedConfiguration e) => e.Configuration.UsesNetwork ? e.Configuration.BytesMean : 0;
        static bool Dominates(EvaluatedConfiguration b, EvaluatedConfiguration a) =>
            b.Latency.TotalMs <= a.Latency.TotalMs && b.Configuration.DropPoints <= a.Configuration.DropPoints && Bytes(b) <= Bytes(a)
            && (b.Latency.TotalMs < a.Latency.TotalMs || b.Configuration.DropPoints < a.Configuration.DropPoints || Bytes(b) < Bytes(a));
        foreach (var e in d.Decision.Candidates)
            Assert.Equal(!d.Decision.Candidates.Any(o => Dominates(o, e)), d.ParetoFront3.Contains(e));
        // Local configurations send nothing, so every model's local run is on the front unless a more accurate one is also faster.
        Assert.Contains(d.ParetoFront3, e => e.Configuration.Id == "mnv1_025/local");
        Assert.Contains(d.ParetoFront3, e => e.Configuration.Id == "mnv2/local");
        Assert.True(d.ParetoFront3.Zip(d.ParetoFront3.Skip(1)).All(p => p.First.Latency.TotalMs <= p.Second.Latency.TotalMs));
    }

    [Fact]
    public void TheChosenModelsPlanIsAnOrdinaryPlanOfThatModelWithTheSameChoice()
    {
        var hardware = new Hardware(0.02);
        var d = ModelSearch.Decide(Models(), hardware, new PlanRequest(LinkProfile.Preset("ble"), 50, 300, PlanObjective.Accuracy));
        Assert.Equal(Conv6Q4, d.Chosen.Id);
        var plan = ModelSearch.PlanForChosen(d, hardware);
        Assert.Equal("split:expanded_conv_6/project|rans-ifc:bits=4,ctx=2d", plan.Chosen);
        Assert.Equal("aa01", plan.ModelSha256);
        Assert.Equal(plan.Chosen, plan.Adaptive[0]);
        Assert.All(plan.Configurations, c => Assert.Null(c.Configuration.Model));
        Assert.Equal(d.Decision.Chosen.Latency.TotalMs, plan.Configurations.Single(c => c.Configuration.Id == plan.Chosen).PredictedMs, 9);
    }

    [Fact]
    public void AccuracyIsAnObjectiveByName()
    {
        Assert.Equal(PlanObjective.Accuracy, PlanRequest.ParseObjective("accuracy"));
        Assert.Equal("accuracy", PlanRequest.Name(PlanObjective.Accuracy));
    }
}
