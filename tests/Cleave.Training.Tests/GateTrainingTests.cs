using Cleave.Models.Gating;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;
using Cleave.Models.Tests;
using Cleave.Training.Gating;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>
/// The per-input gate on a handful of real images: calibration runs over a two-setting ladder, a few epochs, and the
/// gate.onnx written into the split folder computes in ONNX Runtime what the TorchSharp module computes.
/// </summary>
public sealed class GateTrainingTests : IDisposable
{
    private const string Cut = "MobilenetV2/expanded_conv_5/add";
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-gate-").FullName;

    public GateTrainingTests() => TorchRuntime.Initialise();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [AssetFact("vision/mobilenet_v2_1.0_224_quant.tflite", "imagenet-sample")]
    public void A_smoke_gate_trains_and_its_exported_ONNX_equals_the_TorchSharp_module()
    {
        var (path, spec, split, splitFolder) = MobileNetV2Split.Create(_folder, Cut);
        var images = ImageNetSample.FromAssets(TestAssets.Root!).Take(6).ToList();
        var pixels = ParityModels.Images(spec, 2, skip: 6);
        var feature = ParityModels.RunOrt(split.Head, split.Head.Graph.Inputs[0], [2, 3, spec.Height, spec.Width], pixels, Cut)[Cut];
        string[] ladder = ["rans-ifc:bits=2,levels=4,clip=3", "quant:bits=8,entropy=rans"];
        float[]? torchScores = null;
        var options = new GateOptions { Codecs = ladder, Hidden = 8, Epochs = 3, BatchSize = 4, CalibrationFraction = 0.34, Flips = false, LatencyRuns = 3 };

        var result = GateTrainer.Train(path, splitFolder, images, images.Take(2).ToList(), options, trained: gate =>
        {
            using var _ = no_grad();
            using var x = tensor((float[])feature.Data).reshape(feature.Shape);
            torchScores = gate.forward(x).contiguous().data<float>().ToArray();
        });

        Assert.Equal(4, result.TrainSamples);
        Assert.Equal(4, result.LabelCounts.Sum());
        Assert.True(double.IsFinite(result.FirstLoss) && double.IsFinite(result.LastLoss));
        var manifest = GateManifest.Load(Path.Combine(splitFolder, GateManifest.FileName));
        Assert.Equal(ladder, manifest.Codecs);
        Assert.Equal(Cut, manifest.Input);
        Assert.Equal(result.Manifest.GateSha256, manifest.GateSha256);
        Assert.Contains(manifest.Calibration.Curve, p => p.Threshold == manifest.Threshold);
        Assert.True(manifest.Macs > 0 && manifest.Macs < result.HeadMacs / 20, $"gate {manifest.Macs} MACs vs head {result.HeadMacs}");
        Assert.True(result.GateMilliseconds > 0 && result.HeadMilliseconds > 0);
        // The cheap setting really is cheaper, on every image.
        Assert.True(result.Evaluation!.Static[0].MeanBytes < result.Evaluation.Static[1].MeanBytes);

        var gateModel = OnnxModel.Load(Path.Combine(splitFolder, manifest.GateFile));
        var ort = (float[])ParityModels.RunOrt(gateModel, Cut, feature.Shape, (float[])feature.Data, manifest.Output)[manifest.Output].Data;
        Assert.Equal(2 * ladder.Length, ort.Length);
        double scale = ort.Max(Math.Abs), diff = ort.Zip(torchScores!, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(diff <= 1e-5 * Math.Max(scale, 1), $"gate.onnx differs from the TorchSharp module by {diff} (scores up to {scale})");
    }
}
