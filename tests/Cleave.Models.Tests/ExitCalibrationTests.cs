using Cleave.Models.EarlyExit;

namespace Cleave.Models.Tests;

/// <summary>The calibration curve's bookkeeping: counts add up, exit rate never rises with the threshold, the choice obeys the loss.</summary>
public sealed class ExitCalibrationTests
{
    private static List<ExitSample> Samples(int count, int seed)
    {
        var random = new Random(seed);
        var samples = new List<ExitSample>(count);
        for (int i = 0; i < count; i++)
        {
            int label = random.Next(10);
            float confidence = (float)random.NextDouble();
            // Confident exits are right more often, as a trained exit's are; the full model is right 90 % of the time.
            int exitTop1 = random.NextDouble() < confidence ? label : (label + 1) % 10;
            int fullTop1 = random.NextDouble() < 0.9 ? label : (label + 2) % 10;
            samples.Add(new ExitSample(confidence, exitTop1, fullTop1, label));
        }
        return samples;
    }

    [Fact]
    public void Counts_add_up_and_the_exit_rate_never_rises_with_the_threshold()
    {
        var samples = Samples(2000, 1);
        var curve = ExitCalibration.Compute(samples, maxLoss: 0.01);
        Assert.True(curve.Labelled);
        Assert.Equal(samples.Count(s => s.FullTop1 == s.Label) / 2000.0, curve.FullAccuracy, 12);
        for (int i = 0; i < curve.Points.Count; i++)
        {
            var p = curve.Points[i];
            Assert.Equal(samples.Count(s => s.Confidence >= p.Threshold), p.Exited);
            Assert.Equal(2000, p.Exited + p.Sent);
            Assert.Equal(samples.Count(s => s.Confidence >= p.Threshold && s.ExitTop1 == s.Label), p.ExitCorrect);
            Assert.Equal(samples.Count(s => s.Confidence < p.Threshold && s.FullTop1 == s.Label), p.SentCorrect);
            if (i > 0)
            {
                Assert.True(p.Threshold > curve.Points[i - 1].Threshold);
                Assert.True(p.Exited <= curve.Points[i - 1].Exited);
            }
        }
        // The last point never exits: exactly the full model.
        Assert.Equal(0, curve.Points[^1].Exited);
        Assert.Equal(curve.FullAccuracy, curve.Points[^1].Accuracy, 12);
    }

    [Fact]
    public void The_chosen_threshold_is_the_lowest_within_the_allowed_loss()
    {
        var curve = ExitCalibration.Compute(Samples(2000, 2), maxLoss: 0.01);
        var chosen = curve.Chosen;
        Assert.True(chosen.Accuracy >= curve.FullAccuracy - 0.01);
        Assert.All(curve.Points.Where(p => p.Threshold < curve.Threshold), p => Assert.True(p.Accuracy < curve.FullAccuracy - 0.01));
        Assert.True(chosen.ExitRate > 0);
        // Allowing no loss at all can only keep the threshold or raise it.
        Assert.True(ExitCalibration.Compute(Samples(2000, 2), maxLoss: 0).Threshold >= curve.Threshold);
    }

    [Fact]
    public void Without_labels_accuracy_is_agreement_with_the_full_model_and_the_manifest_round_trips()
    {
        var unlabelled = Samples(500, 3).Select(s => s with { Label = -1 }).ToList();
        var curve = ExitCalibration.Compute(unlabelled, maxLoss: 0.02);
        Assert.False(curve.Labelled);
        Assert.Equal(1.0, curve.FullAccuracy);
        Assert.All(curve.Points, p => Assert.Equal(p.Agreement, p.Accuracy, 12));

        var manifest = new ExitManifest { Input = "cut", Output = "exit_logits", Classes = 10, Threshold = curve.Threshold, Calibration = curve };
        var back = ExitManifest.FromJson(manifest.ToJson());
        Assert.Equal(curve.Threshold, back.Threshold);
        Assert.Equal(curve.Points.Select(p => p.Exited), back.Calibration.Points.Select(p => p.Exited));
        Assert.Throws<InvalidDataException>(() => ExitManifest.FromJson(manifest.ToJson().Replace("\"exit.onnx\"", "\"../x.onnx\"", StringComparison.Ordinal)));
        Assert.Throws<InvalidDataException>(() => ExitManifest.FromJson("{\"input\":\"\"}"));
    }
}
