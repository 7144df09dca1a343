using System.Text.Json;
using Cleave.Evaluation.Classification;
using Cleave.Evaluation.Datasets;
using Cleave.Evaluation.Reports;
using Cleave.Models.EarlyExit;
using Cleave.Models.Importers.TfLite;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Runtime;
using Cleave.Runtime.Client;

namespace Cleave.Evaluation.Tests;

/// <summary>An evaluation over real images of a real split folder with an early exit (exit.onnx run by ONNX Runtime).</summary>
public sealed class ExitEvaluationTests : IDisposable
{
    private const string Model = "vision/mobilenet_v1_0.25_128_quant.tflite";
    private const string Cut = "MobilenetV1/MobilenetV1/Conv2d_3_pointwise/Relu6";
    private const int Classes = 1001;
    private readonly string _dir = Directory.CreateTempSubdirectory("cleave-eval-exit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The model imported, split at <see cref="Cut"/> into a folder (no exit yet), and the first <paramref name="count"/> sample images.</summary>
    private (string Model, string Folder, List<LabelledImage> Images) ImportAndSplit(int count)
    {
        string onnx = Path.Combine(_dir, "m.onnx");
        TfLiteImporter.Import(TestAssets.Path(Model), onnx);
        string folder = Path.Combine(_dir, "split");
        ModelSplitter.Split(OnnxModel.Load(onnx), [Cut]).Save(folder);
        return (onnx, folder, ImageFolder.Load(TestAssets.Path("imagenet-sample"), TestAssets.Path("vision", "imagenet_wnids.txt")).Take(count).ToList());
    }

    [AssetFact(Model, "imagenet-sample", "vision/imagenet_wnids.txt")]
    public void An_exit_answers_some_images_on_the_device_sends_nothing_for_them_and_off_is_the_split_alone()
    {
        var (onnx, folder, images) = ImportAndSplit(4);
        SweepResult Run(ExitThresholdChoice exit) =>
            ClassificationSweep.Run(onnx, SweepGrid.Parse(null, "quant:bits=8,entropy=rans", null, folder) with { ExitThreshold = exit }, images);

        // Today's eval: the folder has no exit yet.
        var before = Run(ExitThresholdChoice.Default);
        Assert.All(before.Points, p => Assert.Null(p.Exit));
        var curve = ExitFixture.Curve(100, maxLoss: 0.01);
        // Scores class 7 by the pooled cut (about sigmoid of its mean): a confidence that differs from image to image.
        var manifest = ExitFixture.Write(folder, Classes, favoured: 7, gain: 1, bias: MathF.Log(Classes - 1), threshold: 0.75, curve);

        // Each image's confidence, as a device's exit computes it; the threshold between the second and third exits two.
        var split = SplitDirectory.Load(folder);
        using var head = SplitHead.Load(split);
        double[] confidences;
        using (var probe = DeviceExit.Load(split, ExitCalibration.Never)!)
            confidences = [.. images.Select(i =>
            {
                var (values, shape) = head.Run(RgbImage.Load(i.Path));
                return (double)probe.Decide(values, [.. Enumerable.Range(0, shape.Rank).Select(d => (long)shape[d])]).Confidence;
            }).Order()];
        Assert.True(confidences[1] < confidences[2], $"the fixture's confidences do not differ: {string.Join(", ", confidences)}");
        double threshold = (confidences[1] + confidences[2]) / 2;

        // Off: the exit is not run and the results are today's.
        var off = Run(ExitThresholdChoice.Parse("off"));
        Assert.Equal(before.Points.Select(p => (p.Codec, p.Top1, p.Top5, p.Agreement, p.MeanKl, p.BytesMean, p.BytesP95)),
            off.Points.Select(p => (p.Codec, p.Top1, p.Top5, p.Agreement, p.MeanKl, p.BytesMean, p.BytesP95)));
        Assert.All(off.Points, p => Assert.Null(p.Exit));

        var result = Run(ExitThresholdChoice.Parse(threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var raw = result.Points.Single(p => p.Codec == "raw");
        double rawFrame = off.Points.Single(p => p.Codec == "raw").BytesMean; // the same size for every image
        foreach (var p in result.Points)
        {
            var x = p.Exit!;
            Assert.Equal((2, 2, threshold, false), (x.Exited, x.Sent, x.Threshold, x.Calibrated));
            Assert.Equal(x.ExitCorrect + x.SentCorrect, (int)Math.Round(p.Top1 * images.Count));
            Assert.Equal(0, x.ExitCorrect); // class 7 is none of the first four sample images' classes
            Assert.InRange(x.TailMacs, 1, result.TotalMacs - 1);
            Assert.Equal(2 * x.TailMacs, x.TailMacsSaved);
            Assert.True(x.TailMsSaved > 0 && x.ExitMs > 0);
            Assert.Equal(curve.Points.Count, x.Curve!.Points.Count);
        }
        // An exited image sends nothing: bytes per request = sent images x frame bytes / images; the rest are saved.
        Assert.Equal(2 * rawFrame, raw.BytesMean * images.Count, 6);
        Assert.Equal(2 * rawFrame, raw.Exit!.BytesSaved);
        var quant = result.Points.Single(p => p.Codec != "raw");
        Assert.True(quant.BytesMean > 0 && quant.BytesMean < raw.BytesMean);

        // By default the calibrated threshold stored with the split runs, and says so.
        var calibrated = Run(ExitThresholdChoice.Default).Points[0].Exit!;
        Assert.Equal((manifest.Threshold, true), (calibrated.Threshold, calibrated.Calibrated));
        Assert.Equal(confidences.Count(c => c >= manifest.Threshold), calibrated.Exited);

        // The report draws the stored curve with the measured points, and results.json keeps the exit figures.
        string report = Path.Combine(_dir, "report");
        var files = SweepReport.Write(result, report, "cleave eval (test)");
        Assert.Contains(files, f => Path.GetFileName(f) == "exit_curve.png");
        Assert.True(new FileInfo(Path.Combine(report, "exit_curve.png")).Length > 1000);
        string html = File.ReadAllText(Path.Combine(report, "report.html"));
        Assert.Contains("Early exit", html);
        Assert.Equal(4, html.Split("src=\"data:image/png;base64,iVBORw0KGgo").Length - 1);
        var reread = SweepJson.Read(Path.Combine(report, "results.json"), out _);
        Assert.Equal(result.Points.Select(p => (p.Exit!.Exited, p.Exit.BytesSaved, p.Exit.TailMacsSaved, p.Exit.Curve!.Threshold)),
            reread.Points.Select(p => (p.Exit!.Exited, p.Exit.BytesSaved, p.Exit.TailMacsSaved, p.Exit.Curve!.Threshold)));
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(report, "results.json")));
        Assert.Equal(0.5, json.RootElement.GetProperty("points")[0].GetProperty("exit").GetProperty("exit_rate").GetDouble());
    }

    [AssetFact(Model, "imagenet-sample", "vision/imagenet_wnids.txt")]
    public void A_threshold_given_for_a_split_without_an_exit_is_refused()
    {
        var (onnx, folder, images) = ImportAndSplit(1);
        var grid = SweepGrid.Parse(null, null, null, folder) with { ExitThreshold = ExitThresholdChoice.Parse("0.5") };
        var e = Assert.Throws<InvalidOperationException>(() => ClassificationSweep.Run(onnx, grid, images));
        Assert.Contains("exit.json", e.Message);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("NaN")]
    [InlineData("often")]
    public void A_threshold_outside_zero_to_one_or_not_a_number_is_a_format_error(string text)
    {
        var e = Assert.Throws<FormatException>(() => ExitThresholdChoice.Parse(text));
        Assert.Contains("'calibrated' or 'off'", e.Message);
    }

    [Fact]
    public void Calibrated_off_and_a_number_parse()
    {
        Assert.Equal((null, false, true), (ExitThresholdChoice.Parse("calibrated").Value, ExitThresholdChoice.Parse("calibrated").Off, ExitThresholdChoice.Parse("calibrated").Given));
        Assert.True(ExitThresholdChoice.Parse("OFF").Off);
        Assert.Equal(0.25, ExitThresholdChoice.Parse("0.25").Value);
        Assert.False(ExitThresholdChoice.Parse(null).Given);
    }
}
