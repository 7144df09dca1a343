using Cleave.Models.Gating;

namespace Cleave.Models.Tests;

/// <summary>The per-input gate's decision rule and its bookkeeping: the margin trades bytes for accuracy, the ceiling caps the choice, curves count right.</summary>
public sealed class GateTests
{
    [Fact]
    public void The_threshold_picks_the_cheapest_configuration_whose_running_sum_reaches_it()
    {
        // Softmax of log(0.5), log(0.3), log(0.2) = 0.5, 0.3, 0.2: running sums 0.5, 0.8, 1.0.
        float[] scores = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        Assert.Equal(0, GatePolicy.Choose(scores, 0));
        Assert.Equal(0, GatePolicy.Choose(scores, 0.5));
        Assert.Equal(1, GatePolicy.Choose(scores, 0.51));
        Assert.Equal(1, GatePolicy.Choose(scores, 0.8));
        Assert.Equal(2, GatePolicy.Choose(scores, 0.81));
        Assert.Equal(2, GatePolicy.Choose(scores, GatePolicy.Never));
    }

    [Fact]
    public void The_ceiling_from_the_link_caps_the_choice_and_broken_scores_stay_defined()
    {
        float[] scores = [0f, 0f, 10f];
        Assert.Equal(2, GatePolicy.Choose(scores, 0.9));
        Assert.Equal(1, GatePolicy.Choose(scores, 0.9, ceiling: 1));
        Assert.Equal(0, GatePolicy.Choose(scores, GatePolicy.Never, ceiling: 0));
        Assert.Equal(2, GatePolicy.Choose([float.NaN, float.NaN, float.NaN], 0.5));
        Assert.Equal(1, GatePolicy.Choose([float.NaN, 3f, 0f], 0.5));
        Assert.Throws<ArgumentException>(() => GatePolicy.Choose([], 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => GatePolicy.Choose([1f], double.NaN));
    }

    private static (List<GateOutcome> Outcomes, List<float[]> Scores) Synthetic(int count, int seed)
    {
        var random = new Random(seed);
        var outcomes = new List<GateOutcome>();
        var scores = new List<float[]>();
        for (int i = 0; i < count; i++)
        {
            // Each input has a difficulty: configurations from it on agree (and are right 90 % of the time when they agree).
            int difficulty = random.Next(4);
            bool right = random.NextDouble() < 0.9;
            int[] bytes = [1000 + random.Next(100), 2000 + random.Next(100), 4000 + random.Next(100), 8000];
            bool[] agrees = [.. Enumerable.Range(0, 4).Select(k => k >= difficulty || (k == 3 && difficulty == 3))];
            bool[] correct = [.. agrees.Select(a => a && right)];
            outcomes.Add(new GateOutcome(bytes, agrees, correct));
            // A gate that is right about the difficulty 95 % of the time.
            int guess = random.NextDouble() < 0.95 ? difficulty : random.Next(4);
            scores.Add([.. Enumerable.Range(0, 4).Select(k => k == guess ? 3f : 0f)]);
        }
        return (outcomes, scores);
    }

    [Fact]
    public void Curves_count_bytes_and_answers_and_the_chosen_threshold_obeys_the_loss()
    {
        var (outcomes, scores) = Synthetic(1000, 3);
        var e = GateEvaluation.Compute(outcomes, scores, maxLoss: 0.03);
        Assert.Equal(4, e.Static.Count);
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(outcomes.Average(o => o.Bytes[k]), e.Static[k].MeanBytes, 9);
            Assert.Equal(outcomes.Count(o => o.Correct[k]) / 1000.0, e.Static[k].Top1, 12);
            Assert.Equal(1000, e.Static[k].Chosen[k]);
        }
        Assert.Equal(outcomes.Average(o => o.Bytes[o.CheapestAgreeing]), e.Oracle.MeanBytes, 9);
        Assert.Equal(1.0, e.Oracle.Agreement, 12);
        foreach (var p in e.Curve)
        {
            Assert.Equal(1000, p.Chosen.Sum());
            int agreed = outcomes.Where((o, i) => o.Agrees[GatePolicy.Choose(scores[i], p.Threshold)]).Count();
            Assert.Equal(agreed / 1000.0, p.Agreement, 12);
        }
        // A higher margin never sends fewer bytes.
        for (int i = 1; i < e.Curve.Count; i++) Assert.True(e.Curve[i].MeanBytes >= e.Curve[i - 1].MeanBytes - 1e-9);
        Assert.Equal(e.Static[3].MeanBytes, e.Curve[^1].MeanBytes, 9);
        var chosen = e.Chosen;
        Assert.True(chosen.Top1 >= e.BestStatic.Top1 - 0.03 - 1e-12);
        Assert.DoesNotContain(e.Curve, p => p.Top1 >= e.BestStatic.Top1 - 0.03 - 1e-12 && p.MeanBytes < chosen.MeanBytes);
        Assert.True(chosen.MeanBytes < e.BestStatic.MeanBytes, "a gate that knows the difficulty 95 % of the time should save bytes at 3 points");
    }

    [Fact]
    public void The_gate_manifest_round_trips_and_refuses_paths_outside_the_folder()
    {
        var (outcomes, scores) = Synthetic(200, 5);
        var manifest = new GateManifest
        {
            Input = "cut", Output = "gate_logits", Codecs = ["a", "b", "c", "d"], Threshold = 0.9, Parameters = 10, Macs = 20, GateSha256 = "ab",
            Calibration = GateEvaluation.Compute(outcomes, scores),
        };
        var back = GateManifest.FromJson(manifest.ToJson());
        Assert.Equal(manifest.Codecs, back.Codecs);
        Assert.Equal(0.9, back.Threshold);
        Assert.Equal(manifest.Calibration.Curve.Count, back.Calibration.Curve.Count);
        Assert.True(double.IsNaN(back.Calibration.Static[0].Threshold));
        Assert.Equal(manifest.Calibration.Chosen.MeanBytes, back.Calibration.Chosen.MeanBytes, 9);
        Assert.Throws<InvalidDataException>(() => GateManifest.FromJson(manifest.ToJson().Replace("\"gate.onnx\"", "\"../gate.onnx\"")));
        Assert.Throws<InvalidDataException>(() => GateManifest.FromJson((manifest with { Codecs = ["a"] }).ToJson()));
    }
}
