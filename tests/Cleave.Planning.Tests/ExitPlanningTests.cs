using Cleave.Evaluation.Tests;
using Cleave.Models.Importers.TfLite;
using Cleave.Models.Onnx;
using Cleave.Models.Splitting;
using Cleave.Models.Tests;
using Cleave.Planning.Latency;
using Cleave.Planning.Planner;
using Cleave.Runtime.Links;

namespace Cleave.Planning.Tests;

/// <summary>"Exit at threshold t" as a plan configuration: bytes and server work scaled by the sent share, accuracy from the stored curve.</summary>
public sealed class ExitPlanningTests
{
    private static PlanDecision Plan(ExitOption? exit, double maxDrop) =>
        SplitPlanner.Decide(exit is null ? Configurations.Typical() : ExitConfigurations.Add(Configurations.Typical(), [exit], new Hardware()),
            new PlanRequest(LinkProfile.Preset("ble"), maxDrop));

    [Fact]
    public void The_plan_takes_the_exit_where_the_curve_keeps_it_within_the_budget_and_not_where_it_does_not()
    {
        // Curve: at 0.5 half the held-out images exit, all of them right (no loss); at 0.45, 55 % exit and 5 are wrong.
        var good = new ExitOption("deep-folder", "deep", ExitFixture.Curve(100, maxLoss: 0.01), ExitMs: 1, ExitMacs: 1000);
        var decision = Plan(good, maxDrop: 1);
        var chosen = decision.Chosen.Configuration;
        Assert.Equal("split:deep|rans-ifc:bits=4|exit=0.5", chosen.Id);
        Assert.Equal((0.5, 0.5, 0.5), (chosen.ExitThreshold!.Value, chosen.ExitRate, chosen.DropPoints));
        Assert.Equal(2_500 * 0.5, chosen.ExpectedBytes);
        // The lower thresholds lose 5 points or more: listed, but outside the budget.
        var lower = decision.Candidates.Single(e => e.Configuration.Id == "split:deep|rans-ifc:bits=4|exit=0.45");
        Assert.False(lower.MeetsAccuracy);
        Assert.Equal(0.5 + 5, lower.Configuration.DropPoints, 9);

        // Expected latency mixes the device-only path (head + exit) and the full path, half each.
        var plain = Plan(null, maxDrop: 1);
        Assert.Equal("split:deep|rans-ifc:bits=4", plain.Chosen.Configuration.Id);
        var full = plain.Chosen.Latency;
        Assert.Equal(full.DeviceMs + full.EncodeMs + 1 + 0.5 * (full.TotalMs - full.DeviceMs - full.EncodeMs), decision.Chosen.Latency.TotalMs, 9);
        Assert.Equal(0.5 * plain.Chosen.Configuration.ServerTotalMs, chosen.ServerTotalMs, 9);

        // An exit that is wrong on every image it answers loses at least a point wherever anything exits: a 0.9-point
        // budget keeps the plan without it.
        var bad = good with { Curve = ExitFixture.Curve(100, maxLoss: 0.01, exitAlwaysWrong: true) };
        var without = Plan(bad, maxDrop: 0.9);
        Assert.Null(without.Chosen.Configuration.ExitThreshold);
        Assert.Equal(Plan(null, maxDrop: 0.9).Chosen.Configuration.Id, without.Chosen.Configuration.Id);
        Assert.Contains(without.Candidates, e => e.Configuration.ExitThreshold is not null && !e.MeetsAccuracy);
    }

    [Fact]
    public void An_exit_at_a_cut_the_profile_does_not_make_is_refused_by_name()
    {
        var exit = new ExitOption("elsewhere", "shallowest", ExitFixture.Curve(10, 0.01), 1, 1);
        var e = Assert.Throws<ArgumentException>(() => ExitConfigurations.Add(Configurations.Typical(), [exit], new Hardware()));
        Assert.Contains("'shallowest'", e.Message);
        Assert.Contains("--splits", e.Message);
    }

    [AssetFact("vision/mobilenet_v1_0.25_128_quant.tflite")]
    public void A_real_exit_folder_loads_with_its_curve_and_a_measured_time()
    {
        string dir = Directory.CreateTempSubdirectory("cleave-plan-exit-").FullName;
        try
        {
            string onnx = Path.Combine(dir, "m.onnx");
            TfLiteImporter.Import(TestAssets.Path("vision/mobilenet_v1_0.25_128_quant.tflite"), onnx);
            const string cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";
            string folder = Path.Combine(dir, "split");
            ModelSplitter.Split(OnnxModel.Load(onnx), [cut]).Save(folder);
            var curve = ExitFixture.Curve(20, 0.01);
            ExitFixture.Write(folder, 1001, favoured: 3, gain: 1, bias: 0, threshold: curve.Threshold, curve);
            var exit = ExitOption.Load(folder);
            Assert.Equal(cut, exit.Tensor);
            Assert.Equal(curve.Points.Count, exit.Curve.Points.Count);
            Assert.True(exit.ExitMs > 0);
            File.Delete(Path.Combine(folder, "exit.json"));
            Assert.Throws<FileNotFoundException>(() => ExitOption.Load(folder));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
